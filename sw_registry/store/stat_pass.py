"""The stat calls of a write's narrowed dirty check (store/write_check.py), made as cheaply as Python allows (issue 10).

A version folder the last snapshot knows with a metadata.json is checked by that file's stat alone, one ``os.stat``
relative to the open ``models/`` folder (no walk of the path from the root); the stats of all such folders of one
increment are taken in one list comprehension and compared with the snapshot's entries as whole lists, so the
Python work per version is a few C-level steps and no function call of ours. A ``models/`` folder whose own stat
equals the snapshot's (and is not recent) has the same names as then (a folder created, removed or renamed in it
changes its mtime), so the snapshot's keys stand for its listing: no ``scandir`` of the other models' folders.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

Fp3 = tuple[int, int, int]


def open_folder(path: str) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return None


def entry_at(fd: int | None, name: str) -> tuple[Any, Any] | None:
    """A version folder's snapshot entry as ``worktree_state._version_entries`` takes it: (its own stat, its
    metadata.json's or None); None when ``name`` is gone. A file or a dangling link has no metadata.json (what
    ``os.path.isdir`` says there), a link to a folder has that folder's. No folder (``fd`` None): None."""
    if fd is None:
        return None  # never a path relative to the current folder
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    try:
        m = os.stat(f"{name}/metadata.json", dir_fd=fd, follow_symlinks=False)
        meta = (m.st_mtime_ns, m.st_size, m.st_ino, 0)
    except (FileNotFoundError, NotADirectoryError):
        meta = None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode), meta


def metadata_stats(fd: int | None, keys: list[str]) -> list[Any]:
    """The stat of ``<folder>/metadata.json`` for each ``models/<folder>`` key (in the open ``models/`` folder
    ``fd``), None where there is none. One comprehension while every file is there (the usual case)."""
    if fd is None:
        return [None] * len(keys)  # no models/ folder (gone meanwhile): never a path relative to the current folder
    stat = os.stat
    try:
        return [stat(f"{k[7:]}/metadata.json", dir_fd=fd, follow_symlinks=False) for k in keys]
    except (FileNotFoundError, NotADirectoryError):
        pass
    out: list[Any] = []
    for k in keys:
        try:
            out.append(stat(f"{k[7:]}/metadata.json", dir_fd=fd, follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            out.append(None)
    return out


class Listing:
    """One ``models/`` folder listed (one scandir), for an increment whose ``models/`` changed since the snapshot."""

    def __init__(self, path: str) -> None:
        self.names: dict[str, os.DirEntry[str]] = {}
        self.fd = open_folder(path)
        if self.fd is not None:
            with os.scandir(self.fd) as it:
                self.names = {e.name: e for e in it}

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
