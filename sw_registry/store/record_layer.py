"""The records written since a model's cache file of an increment was last written (issue 10): the write-through.

A write that commits a metadata.json brings the model's cache up to date at once (``ModelView.write_through``), so
that the next write's check is a pure stat pass: no parse, no load of a full cache file, no rewrite of one. It
does not rewrite the full cache file of the increment (hundreds of records) for one changed version: it keeps that
version's full record, with the fingerprint its metadata.json has once written, in one small file per model
(``recent.layer``) laid over the cache files. Per cache file (shard) the layer names the stat of the file it lies
over; a file rewritten since (by a read that brought it up to date, or removed) voids that part of the layer, since
what the file then holds was taken from the metadata files themselves. Every record of the layer is still used
only while its metadata.json has the fingerprint the layer names, like every other cached record. A shard's part
of the layer is folded into its cache file once it holds more than ``LIMIT`` records (one rewrite per ``LIMIT``
writes of that increment)."""

from __future__ import annotations

import os
from pathlib import Path

from .record_cache import _load_marshal, _store_marshal

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .records import Record

    Layer = dict[str, list[Any]]  # shard -> [the stat of its cache file, {metadata rel: (fingerprint, record)}]

LAYER = "recent.layer"  # not ``*.marshal``: the full cache files' readers skip it
LIMIT = 48  # records of one shard kept in the layer before they are folded into its cache file


def file_stat(path: Path | str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def load(folder: Path) -> Layer:
    """The layer of the model whose cache folder is ``folder`` ({} when there is none or it is unreadable)."""
    got = _load_marshal(folder / LAYER).get("shards")
    if not isinstance(got, dict):
        return {}
    return {s: v for s, v in got.items() if isinstance(v, list) and len(v) == 2 and isinstance(v[1], dict)}


def over(layer: Layer, shard: str, st: Any) -> dict[str, tuple[Any, Record]]:
    """The part of ``layer`` that lies over the shard's cache file whose stat is ``st`` now ({} if void)."""
    got = layer.get(shard)
    return got[1] if got is not None and st is not None and got[0] == st else {}


def store(folder: Path, layer: Layer) -> None:
    if layer:
        _store_marshal(folder / LAYER, {"shards": layer})
    else:
        try:
            os.unlink(folder / LAYER)
        except OSError:
            pass


def settled(path: str, raw: bytes) -> tuple[int, int, int] | None:
    """The fingerprint of the file at ``path`` if it holds exactly ``raw`` (what this write wrote there), taken
    so that the bytes are known to be those of that fingerprint: the stat before reading equals the stat after, by
    path. None when it does not (changed since, by someone else): then the next check reads it again."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_size != len(raw):
            return None
        data = os.read(fd, len(raw) + 1)
        while len(data) < len(raw) + 1:
            more = os.read(fd, len(raw) + 1 - len(data))
            if not more:
                break
            data += more
    except OSError:
        return None
    finally:
        os.close(fd)
    fp = (st.st_mtime_ns, st.st_size, st.st_ino)
    return fp if data == raw and file_stat(path) == fp else None
