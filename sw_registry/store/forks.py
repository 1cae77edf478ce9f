"""A second process for work that splits in two halves, on a machine with a second core: the index's rebuild from
nothing (``rebuild.py``) and the read memo's stats of every metadata.json, to check them (``all_in_two``) and to
take them (``map_in_two``; ``readcache.py``). Python's threads do not make ``os.stat`` calls faster (each one takes
the interpreter lock back); a forked child does its half alone."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeVar

    T = TypeVar("T")
    R = TypeVar("R")


def can_fork(n_items: int, minimum: int) -> bool:
    """At least ``minimum`` items, ``os.fork``, a second core, and no other thread (a fork copies only this one, and
    whatever lock another thread held would stay held in the child)."""
    if n_items < minimum or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def halves(items: Sequence[T], weight: Callable[[T], int]) -> int:
    """The index of the first item of the second half of ``items``, by ``weight``."""
    total, seen = sum(weight(item) for item in items), 0
    for i, item in enumerate(items):
        if seen >= total / 2:
            return i
        seen += weight(item)
    return len(items)


def _split_in_two(
    items: Sequence[T], weight: Callable[[T], int], here: Callable[[Sequence[T]], R],
    there: Callable[[Sequence[T]], bytes],
) -> tuple[R, bytes, Sequence[T]] | None:
    """``here(first half)`` in this process while a forked child writes ``there(second half)`` into a pipe:
    (what ``here`` gave, the bytes the child wrote (none from a child that died), the second half). None where there
    is no second half, or no pipe or child can be made (nothing is left open then)."""
    split = halves(items, weight)
    mine, theirs = items[:split], items[split:]
    if not theirs:
        return None
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns into the caller's code
        try:
            os.close(read_fd)
            view = memoryview(there(theirs))
            while view:
                view = view[os.write(write_fd, view) :]
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks: list[bytes] = []
    try:
        got = here(mine)
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    return got, b"".join(chunks), theirs


def all_in_two(items: Sequence[T], weight: Callable[[T], int], check: Callable[[Sequence[T]], bool]) -> bool:
    """``check(items)``, with the second half (by ``weight``) checked in a forked child meanwhile, which answers with
    one byte (none, as from a child that died: False). Where no child can be started, in this process alone."""
    done = _split_in_two(items, weight, check, lambda part: b"1" if check(part) else b"0")
    if done is None:
        return check(items)
    same, answer, _theirs = done
    return same and answer == b"1"


def map_in_two(items: Sequence[T], weight: Callable[[T], int], work: Callable[[Sequence[T]], list[R]]) -> list[R]:
    """``work(items)``, with the second half (by ``weight``) done by a forked child meanwhile, which sends its list
    back marshalled (so ``work`` returns what marshal holds, and gives for a list what it gives for its two halves
    one after the other). Where the child's answer does not come whole (it died, its ``work`` raised, a pipe
    failed), that half is done again here; where no child can be started, all of it. Either way the result is
    ``work(items)``, once both halves are done."""
    import marshal

    done = _split_in_two(items, weight, work, lambda part: marshal.dumps(work(part)))
    if done is None:
        return work(items)
    first, data, theirs = done
    try:
        got = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        got = None
    second: list[R] = got if isinstance(got, list) else work(theirs)
    return first + second
