"""Derived files of an increment: model_catalog.yaml and lineage_graph.json (rebuilt by registry-reindex).

``derived_files`` renders them from every version record of the increment. A write uses ``refresh_increment``
instead (issue 10): the same bytes, patched from the previous render where only the versions whose metadata.json's
stat fingerprint changed are rendered again (store/derived_patch.py, store/derived_cache.py), so that a write's cost
follows what changed, and no other model's records are loaded.
"""

from __future__ import annotations

import json
import os

from .. import lineage
from ..layout import CATALOG_FILE, LINEAGE_FILE, Layout
from . import yamlout

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..layout import Increment
    from ..transaction import Transaction
    from .records import Record

CATALOG_HEADER = (
    "# Derived by sw-registry from models/*/metadata.json. Do not edit by hand;\n"
    "# after a merge conflict here run: sw-registry registry-reindex\n"
)
# more stale versions than this (a first write to the increment, a checkout): take them from the increment's record
# cache files first (one per model), parse the rest
PARSE_LIMIT = 64


def catalog_line(rec: Record) -> str:
    """One version's line of model_catalog.yaml."""
    art = rec.get("artifact") or {}
    entry = {
        "version": rec["version"],
        "stage": rec["stage"],
        "created_at": rec.get("created_at"),
        "created_by": rec.get("created_by"),
        "path": "models/" + rec["dir"].rsplit("/", 1)[-1],
        "artifact": art.get("path"),
        "sha256": art.get("sha256"),
        "size_bytes": art.get("size_bytes"),
        "deprecated": bool(rec.get("deprecated")),
        "tags": list(rec.get("tags") or []),
    }
    # one flow mapping per version: a stage change is a one-line diff, and it writes at C speed
    return f"  - {yamlout.flow(entry)}"


def _catalog_from_lines(increment: str, lines_by_model: list[tuple[str, list[str]]]) -> bytes:
    lines = [CATALOG_HEADER + yamlout.dump({"schema_version": 1, "increment": increment}).rstrip("\n")]
    if not lines_by_model:
        lines.append("models: {}")
    else:
        lines.append("models:")
        for name, entries in lines_by_model:
            lines.append(f"  {yamlout.key(name)}:")
            lines += entries
    return ("\n".join(lines) + "\n").encode("utf-8")


def _grouped(items: list[tuple[str, Any, str]]) -> list[tuple[str, list[str]]]:
    """(name, key, line) sorted by name and version key, grouped by name."""
    ordered = sorted(items, key=lambda i: (i[0], i[1]))
    return group_sorted([i[0] for i in ordered], [i[2] for i in ordered])


def group_sorted(names: list[str], lines: list[str]) -> list[tuple[str, list[str]]]:
    """Each version's line under its model's name, the versions already in order."""
    out: list[tuple[str, list[str]]] = []
    start = 0
    for end in range(1, len(names) + 1):
        if end == len(names) or names[end] != names[start]:
            out.append((names[start], lines[start:end]))
            start = end
    return out


def catalog_bytes(increment: str, records: list[Record]) -> bytes:
    return _catalog_from_lines(increment, _grouped([(r["name"], r["key"], catalog_line(r)) for r in records]))


def lineage_bytes(increment: str, records: list[Record]) -> bytes:
    """JSON with one node or edge per line (readable diffs; json's C encoder, unlike indent=2)."""
    g = lineage.graph(records)
    encode = _encoder()
    return _lineage_from_lines(
        increment, [f"    {encode(item)}" for item in g["nodes"]], [f"    {encode(item)}" for item in g["edges"]]
    )


def _encoder() -> Any:
    # one encoder: json.dumps(..., ensure_ascii=False) builds one per call
    return json.JSONEncoder(ensure_ascii=False).encode


def _lineage_from_lines(increment: str, nodes: list[str], edges: list[str]) -> bytes:
    parts = [f'{{\n  "schema_version": 1,\n  "increment": {json.dumps(increment)},']
    for key, lines in (("nodes", nodes), ("edges", edges)):
        items = ",\n".join(lines)
        parts.append(f'  "{key}": [\n{items}\n  ]' if items else f'  "{key}": []')
    return (parts[0] + "\n" + ",\n".join(parts[1:]) + "\n}\n").encode("utf-8")


def derived_files(inc_rel: str, increment: str, records: list[Record]) -> dict[str, bytes]:
    """root-relative path -> content of every derived file of one increment."""
    return {
        Layout.registry_rel(inc_rel, CATALOG_FILE): catalog_bytes(increment, records),
        Layout.registry_rel(inc_rel, LINEAGE_FILE): lineage_bytes(increment, records),
    }


# -- a write's update of the derived files ---------------------------------------------------------------------


def refresh_increment(tx: Transaction, inc: Increment) -> None:
    """Write ``inc``'s derived files as ``derived_files`` renders them from all its versions, at a cost that
    follows what changed: the previous render (the files on disk, while they are what the last write left) is
    patched with the lines of the versions whose metadata.json's fingerprint differs from the cached one (this
    write's own, a hand edit, a checkout, merge or rebase), read again; the others' lines are kept
    (store/derived_patch.py). When it cannot be patched (no cache, the files changed since, many stale versions),
    every version is rendered, from the increment's record cache files where they are current."""
    from . import derived_cache as C
    from . import derived_patch as P

    layout = tx.layout
    fps = _fingerprints(tx, inc)
    cat_rel, lin_rel = Layout.registry_rel(inc.rel, CATALOG_FILE), Layout.registry_rel(inc.rel, LINEAGE_FILE)
    base, delta = C.paths(str(layout.cache_dir), inc.rel) if layout.cache_dir is not None else ("", "")
    state = C.load(base, delta) if base else C.empty()
    old = state["entries"]
    stale = [rel for rel, fp in fps.items() if (e := old.get(rel)) is None or e[0] != fp]
    gone = old.keys() - fps.keys()
    current = {rel: _trusted(layout, rel, state["files"].get(rel)) for rel in (cat_rel, lin_rel)}
    patched = None
    if old and not state["conflict"] and len(stale) <= PARSE_LIMIT and None not in current.values():
        changed = {rel: _parse(layout, rel) for rel in stale}
        patched = P.patch(inc.id, old, current[cat_rel][0], current[lin_rel][0], changed, fps, gone)  # type: ignore[index]
    if patched is not None:
        data, entries, conflict = {cat_rel: patched[0], lin_rel: patched[1]}, patched[2], False
        delta_set: dict[str, Any] | None = {rel: entries[rel] for rel in stale}
    else:
        # every version: from the record cache files of the increment where their fingerprints are the ones found
        # (without loading, and checking, the whole index), the others parsed
        records = _cached_records(tx, inc, fps) if len(stale) > PARSE_LIMIT or len(fps) > PARSE_LIMIT else {}
        records = {rel: records.get(rel) or _parse(layout, rel) for rel in fps}
        data, entries, conflict = P.full(inc.rel, inc.id, fps, records)
        delta_set = None
    files = {}
    for rel, content in data.items():
        found = current.get(rel)
        if found is not None and found[0] == content:
            files[rel] = found[1]
            continue
        if found is not None:  # derived: reindex rebuilds them; the bytes just read are what a failure restores
            tx.write(rel, content, durable=False, original=found[0])
        else:
            tx.write_if_changed(rel, content, durable=False)
        files[rel] = _stat_fp(f"{layout.root}/{rel}")
    if base:
        new_state = {**state, "entries": entries, "files": files, "conflict": conflict}
        tx.after_success.append(lambda: C.save(base, delta, new_state, delta_set, sorted(gone)))


def _fingerprints(tx: Transaction, inc: Increment) -> dict[str, Any]:
    """metadata.json rel -> stat fingerprint of every version of ``inc`` as the work tree has it now (after this
    write's own changes): from the narrowed dirty check's stat of the increment, which a write into it makes
    anyway (store/write_check.py), or from the full check's scan of every file, else from the index's."""
    prefix = Layout.models_rel(inc.rel) + "/"
    if tx.check is not None and not tx.check.full:
        fps: dict[str, Any] = dict(tx.check.check_increment(inc.rel))
    elif tx.clean_state is not None and inc.rel in tx.clean_state["increments"]:  # the full check's scan
        from .worktree_state import metadata_fps

        fps = metadata_fps(tx.clean_state, inc.rel)
    else:
        fps = {rel: fp for rel, fp in tx.index.fingerprints().items() if rel.startswith(prefix)}
    for rel in tx.metadata_written:  # the check's and the index's fingerprints predate this write's own files
        if rel.startswith(prefix):
            fps[rel] = _stat_fp(f"{tx.layout.root}/{rel}")
    return {rel: fp for rel, fp in fps.items() if fp is not None}


def _trusted(layout: Layout, rel: str, known: Any) -> tuple[bytes, Any] | None:
    """A derived file's bytes and stat fingerprint when it is the file the last write left (its fingerprint is the
    one recorded), else None: changed since (by hand, a checkout, a restore), it is rendered in full."""
    path = f"{layout.root}/{rel}"
    if not known or _stat_fp(path) != known:
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read(), known
    except OSError:
        return None


def _cached_records(tx: Transaction, inc: Increment, fps: dict[str, Any]) -> dict[str, Record]:
    """The records of ``inc``'s versions that the per-(model, increment) record cache files hold at the fingerprint
    ``fps`` names (record_cache.py); the others are parsed by the caller."""
    from .record_cache import _records_dir, _shard
    from .record_summary import _full_shard

    if tx.layout.cache_dir is None or not fps:
        return {}
    folder = _records_dir(tx.layout.cache_dir, tx.index.source, "_").parent
    shard = _shard(next(iter(fps)))
    try:
        with os.scandir(folder) as it:
            names = [e.name for e in it if e.is_dir()]
    except OSError:
        return {}
    out: dict[str, Record] = {}
    for name in names:
        for rel, (fp, rec) in _full_shard(folder / name / f"{shard}.marshal").items():
            if fps.get(rel) == fp:
                out[rel] = rec
    return out


def _parse(layout: Layout, rel: str) -> Record:
    from .files import parse_metadata
    from .index import summarize

    with open(f"{layout.root}/{rel}", "rb") as fh:
        return summarize(parse_metadata(fh.read(), rel), rel)


def _stat_fp(path: str) -> tuple[int, int, int] | None:
    """The work tree's fingerprint of a file, as the index's read takes it (WorkTreeSource.metadata_files)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
