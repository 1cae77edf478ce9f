"""The read memo's token (store/readcache.py): what a read rests on besides its version files, taken before the
command reads anything. HEAD (the HEAD file, the loose ref it names, the stat of packed-refs and of a reftable's
table list), the stat of git's index file, whether a registry write's journal is present, the stat of
registry.yaml, of the increments folder and its ``_archive``/``_abandoned``/``_paused`` folders, and of every
increment's ``models/`` folder. Also how the memo finds the project and its repository, as layout.py and git do.

On the hot path of a read: it imports only os and sys (and time, for the racy rule).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

GROUPS = ("_archive", "_abandoned", "_paused")
MOVED_GIT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
             "GIT_DISCOVERY_ACROSS_FILESYSTEM")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _stat(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(4096)
    except (OSError, ValueError):
        return None


def find_root(root: Any) -> str | None:
    """The project root as layout.find_root finds it, or None when only the full path should decide."""
    if root is not None and str(root) != "":
        path = os.path.realpath(os.path.expanduser(str(root)))
        return path if os.path.isdir(path) else None
    env = os.environ.get("SW_REGISTRY_ROOT")
    if env:
        return find_root(env)
    start = folder = os.path.realpath(os.getcwd())
    while True:
        if os.path.isdir(folder + "/.specweave"):
            return folder
        if os.path.lexists(folder + "/.git"):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


def git_dirs(root: str) -> tuple[str, str] | None:
    """(git dir, common dir) of the repository holding ``root``, found as git finds it; None without git."""
    if any(os.environ.get(name) for name in MOVED_GIT):
        return None
    folder = root
    while True:
        dotgit = folder + "/.git"
        if os.path.isdir(dotgit):
            git_dir = dotgit
            break
        if os.path.isfile(dotgit):  # a linked worktree or a submodule: "gitdir: PATH"
            text = _read(dotgit) or ""
            if not text.startswith("gitdir: "):
                return None
            git_dir = os.path.join(folder, text[8:].strip())
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    common = _read(git_dir + "/commondir")
    return git_dir, os.path.normpath(os.path.join(git_dir, common.strip())) if common else git_dir


def is_increment(name: str) -> bool:
    """layout.INCREMENT_RE without importing re: ``####-kebab-name``."""
    if len(name) < 6 or not (name[:4].isascii() and name[:4].isdigit()) or name[4] != "-":
        return False
    return all(part and all(c in _ALNUM for c in part) for part in name[5:].split("-"))


def token(root: str, fmt: int, racy_ns: int) -> tuple[tuple[Any, ...], bool, list[str]] | None:
    """(the token of ``root``'s registry now, for a memo of format ``fmt``; whether it is racy: a stat in it within
    ``racy_ns`` of now; the increments' ``models/`` folders). None when the memo must not be used."""
    dirs = git_dirs(root)
    if dirs is None:
        return None
    git_dir, common = dirs
    head = _read(git_dir + "/HEAD")
    ref = head[5:].strip() if head and head.startswith("ref: ") else ""
    stats: list[Any] = [
        _stat(git_dir + "/index"),
        _stat(common + "/packed-refs"),
        _stat(common + "/reftable/tables.list"),
        _stat(root + "/.specweave/registry.yaml"),
    ]
    incs = root + "/.specweave/increments"
    models: list[str] = []
    for group in ("", *GROUPS):
        folder = f"{incs}/{group}" if group else incs
        st = _stat(folder)
        stats.append((group, st))
        if st is None:
            continue
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return None
        for name in names:
            if is_increment(name):
                st = _stat(f"{folder}/{name}/models")
                stats.append((name, st))
                if st is not None:
                    models.append(f"{folder}/{name}/models")
    refs = _read(f"{common}/{ref}") if ref.startswith("refs/") and ".." not in ref else None
    journal = os.path.lexists(common + "/sw-registry.journal")
    tok = (fmt, sys.version_info[:2], git_dir, head, refs, journal, tuple(stats))
    import time

    now = time.time_ns()
    racy = any(now - max(s[0], s[1]) < racy_ns for s in _flat_stats(stats))
    return tok, racy, models


def _flat_stats(stats: list[Any]) -> list[tuple[int, int, int, int]]:
    out = []
    for item in stats:
        st = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        if st is not None:
            out.append(st)
    return out
