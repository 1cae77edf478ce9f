"""The file system's own clock, as the write snapshot's racy rule reads it (``worktree_state.py``): git compares an
entry's mtime with its index file's; we compare it with the mtime of a file we set just before the stats, so the
rule holds whatever the file system's timestamp tick and whatever its clock's skew against this machine's."""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from ..layout import Layout

RACY_NS = 20_000_000  # where the file system's clock cannot be read: this machine's clock, this much earlier
CLOCK_FILE = "fs-clock"  # an empty file in the cache folder whose mtime ``fs_now`` sets and reads


def fs_now(layout: Layout) -> int:
    """The file system's clock now: the mtime it gives a file set now (``CLOCK_FILE`` in the cache folder). A file
    created or changed after this call gets an mtime at or after it, so an entry stat'ed after it is trusted by its
    stat alone when its mtime is before it (else "racy"). Where the file cannot be set (a read-only checkout, which
    keeps no snapshot anyway), or the cache folder is on another file system than ``.specweave/`` (a link to
    elsewhere: another clock), this machine's clock less ``RACY_NS``."""
    path = f"{layout.cache_dir}/{CLOCK_FILE}"
    try:
        try:
            os.utime(path, follow_symlinks=False)  # a link put there is set itself: what it names is never touched
        except FileNotFoundError:
            cache_folder(layout)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
        st = os.lstat(path)
        if st.st_dev == os.stat(layout.specweave).st_dev:
            return st.st_mtime_ns
    except OSError:
        pass
    return time.time_ns() - RACY_NS


def cache_folder(layout: Layout) -> None:
    """The cache folder, made (and ignored by git) when missing."""
    from .index import ensure_ignored

    if not layout.cache_dir.is_dir():
        layout.cache_dir.mkdir(parents=True, exist_ok=True)
        ensure_ignored(layout.cache_dir)
