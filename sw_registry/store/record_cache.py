"""The index's cache files: each model's version records, kept per increment (one file per model and increment,
so that a write rewrites only the increment it changed), and the marshal files every cache of the index uses."""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from collections.abc import Set as AbstractSet
from pathlib import Path

from ..errors import NotFound
from .files import atomic_write
from .records import Record, _sorted, parse_record_source, summarize
from .sources import Source

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

CACHE_FORMAT = 8


def _parse(source: Source, rel: str) -> Record:
    return parse_raw(source.read(rel), rel)


def parse_raw(raw: bytes | None, rel: str) -> Record:
    """The record of metadata file ``rel`` from its bytes (None: it was not there when read)."""
    if raw is None:
        raise NotFound(f"{rel} disappeared while reading", hint="run the command again")
    return summarize(parse_record_source(raw, rel), rel)


def _records_dir(cache_dir: Path, source: Source, name: str) -> Path:
    return cache_dir / f"records-{source.cache_key}" / name


def _shard(rel: str) -> str:
    """The cache file a version's record is kept in: one per model and increment, so that a write rewrites the
    records of the increment it changed, not every record of the model (issue 10)."""
    return rel.rsplit("/models/", 1)[0].replace("/", "%")


def _read_shards(
    cache_dir: Path | None, source: Source, name: str
) -> tuple[dict[str, Record], dict[str, Any], dict[str, AbstractSet[str]]]:
    """Everything a model's cache files hold, unchecked: metadata rel -> record, rel -> the fingerprint it was
    read at, and shard -> the rels its file holds."""
    recs: dict[str, Record] = {}
    fps: dict[str, Any] = {}
    shards: dict[str, AbstractSet[str]] = {}
    if cache_dir is None:
        return recs, fps, shards
    folder = _records_dir(cache_dir, source, name)
    try:
        with os.scandir(folder) as it:
            found = [e.name for e in it]
    except (FileNotFoundError, NotADirectoryError):
        return recs, fps, shards
    layer: dict[str, list[Any]] = {}
    if "recent.layer" in found:  # the records writes wrote since (record_layer.py): only then imported
        from .record_layer import load

        layer = load(folder)
    for file in (f for f in found if f.endswith(".marshal")):
        data = _load_marshal(folder / file)
        got, got_fps = data.get("records"), data.get("fps")
        if not isinstance(got, list) or not isinstance(got_fps, dict):
            continue
        if len(got) != len(got_fps):
            continue
        shard = file[: -len(".marshal")]
        shards[shard] = got_fps.keys()
        fps.update(got_fps)
        recs.update(zip(got_fps, got))  # _store_records writes the fingerprints in the records' order
        if shard in layer:
            _overlay(layer, shard, folder / file, recs, fps, shards)
    return recs, fps, shards


def _overlay(
    layer: dict[str, list[Any]], shard: str, path: Path, recs: dict[str, Record], fps: dict[str, Any],
    shards: dict[str, AbstractSet[str]],
) -> None:
    """The records of ``layer`` lying over the shard's cache file at ``path`` (those writes wrote since it was
    written): newer than the file's own."""
    from .record_layer import file_stat, over

    part = over(layer, shard, file_stat(path))
    for rel, (fp, rec) in part.items():
        fps[rel], recs[rel] = fp, rec
    if part:
        shards[shard] = shards[shard] | part.keys()


def _load_records(
    cache_dir: Path | None, source: Source, name: str, files: dict[str, Any]
) -> tuple[dict[str, Record], dict[str, AbstractSet[str]]]:
    """A model's cached records (metadata rel -> record) whose file fingerprint is still current, and the
    metadata paths each cache file holds (shard -> rels)."""
    recs, fps, shards = _read_shards(cache_dir, source, name)
    return {rel: rec for rel, rec in recs.items() if rel in files and fps.get(rel) == files[rel]}, shards


def _store_records(
    cache_dir: Path | None, source: Source, name: str, records: list[Record], files: dict[str, Any],
    redo: set[str], old: dict[str, AbstractSet[str]],
) -> None:
    """Write the cache files (shards) of ``redo``, and remove those of shards with no version left."""
    if cache_dir is None:
        return
    folder = _records_dir(cache_dir, source, name)
    grouped: dict[str, list[Record]] = {}
    for rec in records:
        grouped.setdefault(_shard(rec["dir"] + "/"), []).append(rec)
    for shard in redo & grouped.keys():
        fps = {f"{r['dir']}/metadata.json": files.get(f"{r['dir']}/metadata.json") for r in grouped[shard]}
        _store_marshal(folder / f"{shard}.marshal", {"records": grouped[shard], "fps": fps})
    for shard in old.keys() - grouped.keys():
        with contextlib.suppress(OSError):
            os.unlink(folder / f"{shard}.marshal")


def _model_records(
    source: Source, name: str, rels: list[str], cache_dir: Path | None, files: dict[str, Any], fresh: dict[str, Record]
) -> list[Record]:
    """A model's records: fresh ones, else cached ones still current, else parsed again; the cache files whose
    records changed are written back."""
    cached, shards = _load_records(cache_dir, source, name, files)
    return _assemble(source, name, rels, cache_dir, files, fresh, cached, shards)


def _assemble(
    source: Source, name: str, rels: list[str], cache_dir: Path | None, files: dict[str, Any],
    fresh: dict[str, Record], cached: dict[str, Record], shards: dict[str, AbstractSet[str]],
) -> list[Record]:
    recs = _sorted([fresh.get(rel) or cached.get(rel) or _parse(source, rel) for rel in rels], name)
    now: dict[str, set[str]] = {}
    for rel in rels:
        now.setdefault(_shard(rel), set()).add(rel)
    redo = {shard for shard, have in now.items() if have != shards.get(shard) or any(r not in cached for r in have)}
    # a record read again that the cache (a write's layer among it) holds at the same fingerprint changes no file
    redo |= {_shard(rel) for rel in fresh if rel in now.get(_shard(rel), ()) and rel not in cached}
    if redo or shards.keys() - now.keys():
        _store_records(cache_dir, source, name, recs, files, redo, shards)
    return recs


def _load_marshal(path: Path) -> dict[str, Any]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != (CACHE_FORMAT, sys.version_info[:2]):
        return {}
    return data


def _store_marshal(path: Path, data: dict[str, Any]) -> None:
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            ensure_ignored(path.parent)
        atomic_write(path, marshal.dumps({**data, "format": (CACHE_FORMAT, sys.version_info[:2])}), durable=False)
    except OSError:
        pass  # a read-only checkout still reads, just without the cache


def ensure_ignored(folder: Path) -> None:
    """Keep the cache out of ``git status`` even where .gitignore does not list .specweave/cache/."""
    cache_root = folder
    while cache_root.name != "cache" and cache_root.parent != cache_root:
        cache_root = cache_root.parent
    marker = (cache_root if cache_root.name == "cache" else folder) / ".gitignore"
    if not marker.exists():
        marker.write_text("# written by sw-registry: everything here is a rebuildable cache\n*\n")
