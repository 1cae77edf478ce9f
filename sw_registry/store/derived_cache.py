"""The cache a write keeps of each increment's derived files (issue 10): what store/derived_patch.py needs to patch
model_catalog.yaml and lineage_graph.json instead of rendering them again.

Per increment, in ``.cache/derived/``: a base file ``<increment>.marshal`` and an append-only ``<increment>.delta``.
The state is ``{"gen", "files", "entries", "conflict"}``:

- ``entries``: metadata.json rel -> ``(fingerprint, (name, version key, rel), node ids, edge lines)``, one per
  version of the increment as the derived files on disk were last rendered (small tuples: cheap to load);
- ``files``: derived file rel -> the stat fingerprint of the file the last write left, so a write can take the file
  on disk as the previous render (else it renders in full);
- ``conflict``: a node id that two versions label differently (only hand-edited names do that): always render in full.

A write appends only what it changed (``{"gen", "files", "set", "drop"}``, length-prefixed); the base is rewritten
(with a new ``gen``, the delta removed) after a full render or once the delta grows past ``COMPACT_BYTES``. A delta
record of another generation (a crash between the two steps of a compaction) is ignored; a damaged delta (a crash
in the middle of an append) discards the whole state: the next write renders in full and compacts.
"""

from __future__ import annotations

import marshal
import os
import sys
import time

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

CACHE_FORMAT = 4
COMPACT_BYTES = 64 * 1024  # a delta larger than this is folded into the base by the next write


def paths(cache_dir: str, inc_rel: str) -> tuple[str, str]:
    stem = f"{cache_dir}/derived/{inc_rel.replace('/', '%')}"
    return stem + ".marshal", stem + ".delta"


def empty() -> dict[str, Any]:
    return {"gen": 0, "files": {}, "entries": {}, "conflict": False}


def load(base: str, delta: str) -> dict[str, Any]:
    """The state the base and its delta records give, or an empty one (no cache, another format, damage)."""
    try:
        with open(base, "rb") as fh:
            state = marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):
        return empty()
    if not isinstance(state, dict) or state.get("format") != (CACHE_FORMAT, sys.version_info[:2]):
        return empty()
    try:
        with open(delta, "rb") as fh:
            raw = fh.read()
    except OSError:
        raw = b""
    try:
        _apply(state, raw)
    except (EOFError, ValueError, TypeError, KeyError, AttributeError):
        return empty()
    return state


def _apply(state: dict[str, Any], raw: bytes) -> None:
    entries, files = state["entries"], state["files"]
    at = 0
    while at < len(raw):
        size = int.from_bytes(raw[at : at + 4], "little")
        chunk = raw[at + 4 : at + 4 + size]
        if len(chunk) != size:
            raise EOFError("a delta record cut short")
        record = marshal.loads(chunk)
        at += 4 + size
        if record["gen"] != state["gen"]:
            continue  # a record of the base before the last compaction
        for rel in record["drop"]:
            entries.pop(rel, None)
        entries.update(record["set"])
        files.update(record["files"])
    state["delta_bytes"] = len(raw)


def save(base: str, delta: str, state: dict[str, Any], changed: dict[str, Any] | None, dropped: list[str]) -> None:
    """Keep ``state`` (already updated): append ``changed`` and ``dropped`` to the delta, or (``changed`` None, or
    a delta grown large) rewrite the base. Never raises for a cache that cannot be written: the next write renders."""
    try:
        if changed is not None and state["gen"] and state.get("delta_bytes", 0) < COMPACT_BYTES:
            record = marshal.dumps({"gen": state["gen"], "files": state["files"], "set": changed, "drop": dropped})
            with open(delta, "ab") as fh:
                fh.write(len(record).to_bytes(4, "little") + record)
            return
        _compact(base, delta, state)
    except OSError:
        pass  # a read-only cache folder: the next write renders the files again


def _compact(base: str, delta: str, state: dict[str, Any]) -> None:
    from pathlib import Path

    from .files import atomic_write
    from .index import ensure_ignored

    target = Path(base)
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        ensure_ignored(target.parent)
    payload = {
        "format": (CACHE_FORMAT, sys.version_info[:2]),
        "gen": time.time_ns(),
        "files": state["files"],
        "entries": state["entries"],
        "conflict": state["conflict"],
    }
    atomic_write(target, marshal.dumps(payload), durable=False)
    try:
        os.unlink(delta)
    except FileNotFoundError:
        pass
