"""The index of the work tree built from nothing (a fresh clone, a deleted cache, a checkout that changed most
files): one increment at a time, each model's records of that increment written to their cache file and dropped,
so that memory holds one increment's records and each model's running aggregate, not every record (issue 10).

With many files and a second core, a forked child does the second half of the increments (its cache files, its
part of the aggregates) while this process does the first. The result is the same as one process reading every
file: the aggregates are folded in version order, and the checks the full load makes (each file parses, no
NAME@VERSION twice) are made over everything, in the same order. When the child meets any error, this process
reads the child's half again itself, so the error raised is the one a single process raises.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Iterator
from pathlib import Path

from .forks import can_fork, halves
from .record_cache import _parse, _records_dir, _shard, _store_marshal, ensure_ignored, parse_raw
from .records import _sorted
from .sources import WorkTreeSource

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .records import Record
    from .sources import Source

    Acc = dict[str, Any]  # what one model's records fold into (marshal-able, for the child's pipe): _fold, finish

FORK_MIN_FILES = 2000  # below this, a second process costs more than it saves


def rebuild(source: Source, files: dict[str, Any], cache_dir: Path | None) -> tuple[dict[str, str], dict[str, Any]]:
    """(metadata rel -> model, model -> aggregate) of every file in ``files``, each model's cache files written."""
    groups: dict[str, list[str]] = {}
    for rel in files:
        groups.setdefault(_shard(rel), []).append(rel)
    ordered = list(groups.values())
    if cache_dir is not None:  # made before the fork, once; a read-only checkout reads without the cache
        records_root = _records_dir(cache_dir, source, "x").parent
        with contextlib.suppress(OSError):
            records_root.mkdir(parents=True, exist_ok=True)
            ensure_ignored(records_root)
    split = halves(ordered, len) if can_fork(len(files), FORK_MIN_FILES) else len(ordered)
    owners: dict[str, str] = {}
    accs: dict[str, Acc] = {}
    written: set[tuple[str, str]] = set()
    if split < len(ordered):
        child = _fork(source, ordered[split:], files, cache_dir)
        try:
            _run(source, ordered[:split], files, cache_dir, owners, accs, written)
        except BaseException:
            _reap(child, want=False)
            raise
        got = _reap(child, want=True)
        if got is None:  # the child failed: read its half here, raising what a single process raises
            _run(source, ordered[split:], files, cache_dir, owners, accs, written)
        else:
            owners.update(got[0])
            for name, acc in got[1].items():
                accs[name] = _merge(accs[name], acc) if name in accs else acc
            written |= {(w[0], w[1]) for w in got[2]}
    else:
        _run(source, ordered, files, cache_dir, owners, accs, written)
    aggregates = {name: finish(name, accs[name]) for name in sorted(accs)}
    if cache_dir is not None:
        _drop_stale(_records_dir(cache_dir, source, "x").parent, written)
    return owners, aggregates


def _run(
    source: Source, groups: list[list[str]], files: dict[str, Any], cache_dir: Path | None,
    owners: dict[str, str], accs: dict[str, Acc], written: set[tuple[str, str]],
) -> None:
    """Read each group (one increment's files), write each model's cache file of it, fold it into ``accs``."""
    for rels in groups:
        by_model: dict[str, list[Record]] = {}
        for rel, rec in _records(source, rels):
            owners[rel] = rec["name"]
            by_model.setdefault(rec["name"], []).append(rec)
        shard = _shard(rels[0])
        for name, recs in by_model.items():
            recs.sort(key=lambda r: (r["key"], r["dir"]))
            if cache_dir is not None:
                fps = {f"{r['dir']}/metadata.json": files.get(f"{r['dir']}/metadata.json") for r in recs}
                _store_marshal(_records_dir(cache_dir, source, name) / f"{shard}.marshal",
                               {"records": recs, "fps": fps})
                written.add((name, shard))
            acc = _fold(recs)
            accs[name] = _merge(accs[name], acc) if name in accs else acc


def _records(source: Source, rels: list[str]) -> Iterator[tuple[str, Record]]:
    """(rel, record) of each file of one increment, in order; the work tree's files opened relative to their
    ``models`` folder (half the time of open() by full path here: the kernel resolves two path parts, not ten)."""
    folder = rels[0].rsplit("/", 2)[0]
    fd = None
    if isinstance(source, WorkTreeSource):
        with contextlib.suppress(OSError):
            fd = os.open(f"{source.layout.root}/{folder}", os.O_RDONLY | os.O_DIRECTORY)
    if fd is None:
        yield from ((rel, _parse(source, rel)) for rel in rels)
        return
    try:
        for rel in rels:
            head, name, _ = rel.rsplit("/", 2)
            raw = _read_at(fd, f"{name}/metadata.json") if head == folder else source.read(rel)
            yield rel, parse_raw(raw, rel)
    finally:
        os.close(fd)


def _read_at(fd: int, path: str) -> bytes | None:
    """The bytes of ``path`` under the open folder ``fd``; None when it is not there (as WorkTreeSource.read)."""
    try:
        file = os.open(path, os.O_RDONLY, dir_fd=fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunks = []
        while chunk := os.read(file, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(file)
    return b"".join(chunks)


def _fork(source: Source, groups: list[list[str]], files: dict[str, Any], cache_dir: Path | None) -> tuple[int, int]:
    """Start a child that does ``groups`` and sends back what _run gathered (or None on any error)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 0
        try:
            os.close(read_fd)
            owners: dict[str, str] = {}
            accs: dict[str, Acc] = {}
            written: set[tuple[str, str]] = set()
            try:
                _run(source, groups, files, cache_dir, owners, accs, written)
                payload = marshal.dumps((owners, accs, [list(w) for w in written]))
            except BaseException:
                payload = marshal.dumps(None)
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _reap(child: tuple[int, int], *, want: bool) -> Any:
    """The child's result (None when it failed), after it exited; with ``want`` False, just end it."""
    pid, read_fd = child
    data = b""
    with os.fdopen(read_fd, "rb") as pipe:
        if want:
            data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not want or status != 0:
        return None
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None


def _fold(recs: list[Record]) -> Acc:
    """What aggregate() needs of some of a model's records, sorted by (key, dir)."""
    prod = next((r for r in recs if r["stage"] == "production"), None)
    staging = next((r for r in recs if r["stage"] == "staging"), None)
    last = recs[-1]
    return {
        "versions": [(r["key"], r["dir"], r["version"]) for r in recs],
        "production": (prod["key"], prod["dir"], prod["version"], dict(prod["metrics"])) if prod else None,
        "staging": (staging["key"], staging["dir"], staging["version"]) if staging else None,
        "latest": (last["key"], last["dir"], last["version"]),
        "updated_at": max(r["updated_at"] or r["created_at"] or "" for r in recs),
        "stages": {r["stage"] for r in recs},
        "increments": {r["increment"] for r in recs},
        "tags": {t for r in recs for t in r["tags"]},
        "max_seq": max(r["max_seq"] for r in recs),
        "newer": [(r["key"], r["dir"]) for r in recs if _newer(r)],
    }


def _newer(rec: Record) -> bool:
    schema = rec.get("schema_version")
    return isinstance(schema, int) and schema > 1


def _first(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return a if b is None else b
    return a if (a[0], a[1]) <= (b[0], b[1]) else b


def _merge(a: Acc, b: Acc) -> Acc:
    last = a["latest"] if (a["latest"][0], a["latest"][1]) >= (b["latest"][0], b["latest"][1]) else b["latest"]
    return {
        "versions": a["versions"] + b["versions"],
        "production": _first(a["production"], b["production"]),
        "staging": _first(a["staging"], b["staging"]),
        "latest": last,
        "updated_at": max(a["updated_at"], b["updated_at"]),
        "stages": a["stages"] | b["stages"],
        "increments": a["increments"] | b["increments"],
        "tags": a["tags"] | b["tags"],
        "max_seq": max(a["max_seq"], b["max_seq"]),
        "newer": a["newer"] + b["newer"],
    }


def finish(name: str, acc: Acc) -> dict[str, Any]:
    """records.aggregate() of all the model's records, from their fold; NAME@VERSION twice is an ``integrity``
    error, as records._sorted raises it."""
    keys: Any = [{"key": k, "dir": d, "version": v} for k, d, v in acc["versions"]]
    _sorted(keys, name)
    prod = acc["production"]
    return {
        "count": len(acc["versions"]),
        "production": prod[2] if prod else None,
        "production_metrics": prod[3] if prod else None,
        "staging": acc["staging"][2] if acc["staging"] else None,
        "latest": acc["latest"][2],
        "updated_at": acc["updated_at"] or None,
        "stages": sorted(acc["stages"]),
        "increments": sorted(acc["increments"]),
        "tags": sorted(acc["tags"]),
        "max_seq": acc["max_seq"],
        "newer_schema": [f"{d}/metadata.json" for _, d in sorted(acc["newer"])],
    }


def _drop_stale(records_root: Path, written: set[tuple[str, str]]) -> None:
    """Remove the cache files of (model, increment) pairs that have no version now."""
    try:
        models = [e.name for e in os.scandir(records_root) if e.is_dir()]
    except OSError:
        return
    for name in models:
        folder = records_root / name
        with contextlib.suppress(OSError):
            for file in os.listdir(folder):
                if file.endswith(".marshal") and (name, file[: -len(".marshal")]) not in written:
                    os.unlink(folder / file)
