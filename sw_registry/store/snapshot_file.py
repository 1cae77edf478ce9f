"""The write snapshot's file (``worktree_state.py`` makes the snapshot): ``.specweave/cache/sw-registry/`` +
``FILE_NAME``, written while git still updates its index (``save_unsealed``) and sealed with the index's stat once it
is done (``seal``), read by ``load``; each increment's part marshalled on its own, so that a write marshals again only
the parts it changed (``dumped``)."""

from __future__ import annotations

import marshal
import os

from .files import atomic_write
from .fs_clock import cache_folder
from .worktree_state import index_fp, refresh

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout
    from .worktree_state import Snapshot

FILE_NAME = "worktree-state.marshal"
TWO_PIECES = b"sw-registry worktree state 5, index slot first\n"  # starts every file this module writes
INDEX_SLOT = 256  # bytes after TWO_PIECES for git's index stat (``seal`` fills it in place), the rest after them

# the parts of the last snapshot ``load`` read: increment -> (the part, its marshalled bytes). Parts are never changed
# in place (``refresh`` and ``ScopedCheck.merged`` make new ones): a part still here by identity is saved as read
_read_parts: dict[str, tuple[Any, Any]] = {}


def load(layout: Layout) -> Snapshot | None:
    """The last snapshot: ``TWO_PIECES``, the index's stat (in ``INDEX_SLOT`` bytes), the rest but the increments
    (each increment's part replaced by its length), then each increment's part marshalled on its own (``dumped``).
    Anything else (no file, damage, another format) is None: the next write checks in full."""
    global _read_parts
    try:
        data = (layout.cache_dir / FILE_NAME).read_bytes()
        if not data.startswith(TWO_PIECES):
            return None
        import io

        head = io.BytesIO(data)
        head.seek(len(TWO_PIECES) + INDEX_SLOT)
        index = marshal.loads(memoryview(data)[len(TWO_PIECES) : len(TWO_PIECES) + INDEX_SLOT])  # zeros after it
        snapshot = marshal.load(head)  # short: the parts below are read by ``loads`` (~8x faster) from the bytes read
        if not isinstance(snapshot, dict) or not isinstance(snapshot.get("increments"), dict):
            return None
        view, at, parts, read = memoryview(data), head.tell(), {}, {}
        for inc, size in snapshot["increments"].items():
            part = view[at : at + size]
            at += size
            parts[inc] = marshal.loads(part)
            read[inc] = (parts[inc], part)
        if at != len(data):
            return None
    except (OSError, EOFError, ValueError, TypeError):
        return None
    snapshot["increments"], snapshot["index"] = parts, index
    _read_parts = read
    return snapshot


def save(layout: Layout, snapshot: Snapshot) -> None:
    _write(layout, TWO_PIECES + _slot(snapshot["index"]) + dumped(snapshot))


def _slot(index: tuple[Any, ...] | None) -> bytes:
    raw = marshal.dumps(index)
    return raw + bytes(INDEX_SLOT - len(raw)) if len(raw) <= INDEX_SLOT else _slot(None)  # None: never trusted


def dumped(snapshot: Snapshot) -> bytes:
    """``snapshot`` marshalled but for git's index: made while git still updates the index (``save_dumped``). An
    increment's part that is the one ``load`` read is kept as it was read: the cost follows what the write changed."""
    parts = []
    for inc, part in snapshot["increments"].items():
        known = _read_parts.get(inc)
        parts.append(known[1] if known is not None and known[0] is part else marshal.dumps(part))
    sizes = {inc: len(part) for inc, part in zip(snapshot["increments"], parts)}
    rest = marshal.dumps({**{k: v for k, v in snapshot.items() if k != "index"}, "increments": sizes})
    return b"".join([rest, *parts])


def save_dumped(layout: Layout, data: bytes, repo: Repo) -> None:
    """Save a snapshot ``dumped`` made, with the stat and checksum of git's index now (taken after the files': an
    index written after ``taken`` is only "racy" when it has no checksum, see ``index_moved``)."""
    _write(layout, TWO_PIECES + _slot(index_fp(repo)) + data)


def save_unsealed(layout: Layout, data: bytes) -> bool:
    """Save a snapshot ``dumped`` made, its index slot empty (never trusted: a write killed before ``seal`` leaves
    the next one the full check): written while git still updates its index, so that once git is done only
    ``seal`` is left. False when it could not be written."""
    return _write(layout, TWO_PIECES + _slot(None) + data)


def keep(clean: Snapshot, layout: Layout, repo: Repo, rels: list[str], head: str | None) -> bool:
    """After a write committed ``rels`` on ``head``: ``clean`` (what its check found clean) with those entries stat'ed
    again (``worktree_state.refresh``), saved unsealed (git's index is still being updated: ``seal`` follows once
    it is done). False when it could not be written."""
    return save_unsealed(layout, dumped(refresh(clean, layout, repo, rels, index=False, head=head)))


def seal(layout: Layout, repo: Repo) -> None:
    """Put the stat and checksum of git's index now into the slot ``save_unsealed`` left (as ``save_dumped``)."""
    try:
        fd = os.open(layout.cache_dir / FILE_NAME, os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.pwrite(fd, _slot(index_fp(repo)), len(TWO_PIECES))
    except OSError:
        forget(layout)
    finally:
        os.close(fd)


def _write(layout: Layout, data: bytes) -> bool:
    try:
        cache_folder(layout)
        atomic_write(layout.cache_dir / FILE_NAME, data, durable=False)
    except OSError:
        return False  # a read-only checkout: every write then runs the full git status
    return True


def forget(layout: Layout) -> None:
    """Drop the snapshot (after a repair, or a write that failed half-way): the next write checks in full."""
    try:
        os.unlink(layout.cache_dir / FILE_NAME)
    except OSError:
        pass
