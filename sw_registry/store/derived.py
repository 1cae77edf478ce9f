"""Derived files of an increment: model_catalog.yaml and lineage_graph.json (rebuilt by registry-reindex).

``derived_files`` renders them from every version record of the increment. A write uses ``refresh_increment``
instead (issue 10): the same bytes, but from a per-increment cache of each version's rendered catalog line and
lineage fields, keyed by its metadata.json's stat fingerprint (the one the index's read took), so that only the
versions whose file changed are read again, and no other model's records are loaded.
"""

from __future__ import annotations

import json
import marshal
import os
import sys

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
CACHE_FORMAT = 1
# more stale versions than this (a first write to the increment, a checkout): take them from the increment's record
# cache files first (one per model), parse the rest
PARSE_LIMIT = 64
_LINEAGE_FIELDS = ("name", "key", "version", "stage", "lineage")


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
    out: list[tuple[str, list[str]]] = []
    for name, _key, line in sorted(items, key=lambda i: (i[0], i[1])):
        if not out or out[-1][0] != name:
            out.append((name, []))
        out[-1][1].append(line)
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


def lineage_parts(fields: dict[str, Any], encode: Any) -> list[list[Any]]:
    """One version's share of lineage_graph.json, rendered: [[node id, line] ...] and [[from, to, line] ...] in the
    order ``lineage.graph`` adds them. A node's line depends on its id alone, and the graph of several versions is
    theirs in (name, version key) order, nodes deduplicated by id and sorted, edges deduplicated in order."""
    g = lineage.graph([fields])
    return [
        [[n["id"], f"    {encode(n)}"] for n in g["nodes"]],
        [[e["from"], e["to"], f"    {encode(e)}"] for e in g["edges"]],
    ]


def derived_files(inc_rel: str, increment: str, records: list[Record]) -> dict[str, bytes]:
    """root-relative path -> content of every derived file of one increment."""
    return {
        Layout.registry_rel(inc_rel, CATALOG_FILE): catalog_bytes(increment, records),
        Layout.registry_rel(inc_rel, LINEAGE_FILE): lineage_bytes(increment, records),
    }


# -- a write's update of the derived files ---------------------------------------------------------------------


def refresh_increment(tx: Transaction, inc: Increment) -> None:
    """Write ``inc``'s derived files as ``derived_files`` renders them from all its versions, at a cost that
    follows what changed: each version's part comes from the cache while its metadata.json's fingerprint is the
    one cached (a hand edit, checkout, merge or rebase changes it), else from the file, read again."""
    entries = increment_entries(tx, inc)
    data = _from_entries(inc, entries)
    for rel, content in data.items():
        tx.write_if_changed(rel, content, durable=False)  # derived: registry-reindex rebuilds them


def increment_entries(tx: Transaction, inc: Increment) -> dict[str, list[Any]]:
    """metadata.json rel -> [fingerprint, name, version key, catalog line, lineage fields, rendered lineage] for
    every version of ``inc`` as the work tree has it now (after this write's own changes), cached back for the
    next write."""
    layout = tx.layout
    prefix = Layout.models_rel(inc.rel) + "/"
    if tx.check is not None and not tx.check.full:  # a narrowed write: the increment's own check stat'ed them
        fps: dict[str, Any] = dict(tx.check.check_increment(inc.rel))
    else:
        fps = {rel: fp for rel, fp in tx.index.fingerprints().items() if rel.startswith(prefix)}
    for rel in tx.metadata_written:  # the index's fingerprints predate this write's own files
        if rel.startswith(prefix):
            fps[rel] = _stat_fp(f"{layout.root}/{rel}")
    fps = {rel: fp for rel, fp in fps.items() if fp is not None}
    path = _cache_path(layout, inc)
    cached = _load(path)
    stale = [rel for rel, fp in fps.items() if rel not in cached or cached[rel][0] != fp]
    if not stale and len(cached) == len(fps) and all(len(e) == 6 for e in cached.values()):
        return cached
    entries = {rel: cached[rel] for rel in fps if rel not in stale}
    # many stale versions (a first write to the increment, a checkout): from the record cache files of the
    # increment where their fingerprints are the ones found, without loading (and checking) the whole index
    records = _cached_records(tx, inc, fps) if len(stale) > PARSE_LIMIT else {}
    for rel in stale:
        rec = records.get(rel) or _parse(layout, rel)
        entries[rel] = [fps[rel], rec["name"], rec["key"], catalog_line(rec), {k: rec.get(k) for k in _LINEAGE_FIELDS}]
    encode = _encoder()
    for entry in entries.values():
        if len(entry) != 6:  # [5]: the version's rendered lineage (an entry of an older cache lacks it)
            entry[5:] = [lineage_parts(entry[4], encode)]
    tx.after_success.append(lambda: _store(layout, path, entries))  # after the commit: never part of it
    return entries


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


def _from_entries(inc: Increment, entries: dict[str, list[Any]]) -> dict[str, bytes]:
    """The derived files from the cached parts: the catalog's lines and the lineage's nodes and edges, each
    version's in (name, version key) order, as ``derived_files`` renders them from the records."""
    values = sorted(entries.values(), key=lambda e: (e[1], e[2]))
    nodes: dict[str, str] = {}
    edges: dict[tuple[str, str], str] = {}
    for entry in values:
        for node_id, line in entry[5][0]:
            nodes.setdefault(node_id, line)
        for a, b, line in entry[5][1]:
            edges.setdefault((a, b), line)
    return {
        Layout.registry_rel(inc.rel, CATALOG_FILE): _catalog_from_lines(
            inc.id, _grouped([(e[1], e[2], e[3]) for e in values])
        ),
        Layout.registry_rel(inc.rel, LINEAGE_FILE): _lineage_from_lines(
            inc.id, [nodes[k] for k in sorted(nodes)], list(edges.values())
        ),
    }


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


def _cache_path(layout: Layout, inc: Increment) -> str:
    return f"{layout.cache_dir}/derived/{inc.rel.replace('/', '%')}.marshal"


def _load(path: str) -> dict[str, list[Any]]:
    try:
        with open(path, "rb") as fh:
            data = marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != (CACHE_FORMAT, sys.version_info[:2]):
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _store(layout: Layout, path: str, entries: dict[str, list[Any]]) -> None:
    from pathlib import Path

    from .files import atomic_write
    from .index import ensure_ignored

    target = Path(path)
    try:
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            ensure_ignored(target.parent)
        payload = {"format": (CACHE_FORMAT, sys.version_info[:2]), "entries": entries}
        atomic_write(target, marshal.dumps(payload), durable=False)
    except OSError:
        pass  # a read-only cache folder: the next write reads the versions again
