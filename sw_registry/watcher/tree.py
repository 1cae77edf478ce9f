"""The folders a watcher watches, and what each event means for the read memo.

The memo (store/readcache.py) rests on the stat of every ``models/VERSION/metadata.json`` of every increment under
``.specweave/increments`` and its ``_archive``/``_abandoned``/``_paused`` folders; its token covers the rest (the
increments' list, each ``models/`` folder's own stat, registry.yaml, HEAD, git's index). So the watched folders are
the increments folder, its group folders, each increment, its ``models/`` folder and each version folder (a
symbolic link to a folder is followed, as the memo follows it): the version folders for their files, the others to
find new folders to watch. Any change in a version folder or a ``models/`` folder bumps ``count``, and so does
any change to an entry of the others whose name would be watched (an increment, a group, ``models``), and any
folder's own removal or move; a spec.md saved in an increment does not. The project folder and ``.specweave`` are
watched for their ``.specweave`` and ``increments`` entries only: if either is removed, moved or replaced, the
watcher is ``gone`` (it stops; a new one watches what is there now).

It cannot vouch (``reason`` says why, and the memo checks every file as before) for a metadata.json that is a
symbolic link or has other hard links (its other name is not watched), for a folder on a file system not known to
be local (inotify.LOCAL_FILE_SYSTEMS: on nfs, cifs, 9p or FUSE a change made elsewhere raises no event), or once
the kernel refused a watch (``fs.inotify.max_user_watches``). A queue overflow gives a new ``epoch``: what it
said before no longer counts.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat

from ..store.memo_token import GROUPS, is_increment
from . import inotify

PROJECT, SPECWEAVE = "project", "specweave"
INCREMENTS, GROUP, INCREMENT, MODELS, VERSION = "increments", "group", "increment", "models", "version"
SELF = inotify.DELETE_SELF | inotify.MOVE_SELF | inotify.IGNORED | inotify.UNMOUNT
ENTRIES = inotify.MOVED_FROM | inotify.MOVED_TO | inotify.CREATE | inotify.DELETE
ABOVE = {PROJECT: ".specweave", SPECWEAVE: "increments"}  # the one entry each folder above the tree is watched for


def child_role(role: str, name: str) -> str | None:
    """The role of the folder ``name`` inside a folder of ``role`` (None: not watched)."""
    if role == INCREMENTS:
        return GROUP if name in GROUPS else INCREMENT if is_increment(name) else None
    if role == GROUP:
        return INCREMENT if is_increment(name) else None
    if role == INCREMENT:
        return MODELS if name == "models" else None
    if role == MODELS:
        return VERSION
    return None


class Tree:
    def __init__(self, root: str) -> None:
        self.root = root
        self.top = f"{root}/.specweave/increments"
        self.events = inotify.Inotify()
        self.folders: dict[int, tuple[str, str]] = {}  # watch id -> (path, role)
        self.epoch, self.count = secrets.token_hex(8), 0
        self.reason: str | None = None  # why it cannot vouch, or None
        self.gone = False  # the increments folder is no longer the one watched: the watcher stops
        self.devices: set[int] = set()  # the file systems (st_dev) already checked (tree.reason says a foreign one)
        self.scan()

    @property
    def state(self) -> str:
        return "-" if self.reason is not None else f"{self.epoch}:{self.count}"

    def scan(self) -> None:
        """Watch every folder of the tree anew (at the start, after an overflow, after a folder moved)."""
        self.folders.clear()
        self.devices.clear()
        self.reason = None
        if os.path.islink(self.top) or not os.path.isdir(self.top):
            self.reason = f"{self.top} is not a folder"
            return
        for path, role in ((self.root, PROJECT), (f"{self.root}/.specweave", SPECWEAVE)):
            self._watch(path, role)
        self._add(self.top, INCREMENTS)

    def _watch(self, path: str, role: str) -> bool:
        try:
            wd = self.events.watch(path)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):  # gone since it was listed: its parent's event says so
                return False
            self.reason = f"cannot watch {path}: {exc.strerror} (see fs.inotify.max_user_watches)"
            return False
        self.folders[wd] = (path, role)
        self._check_file_system(path)
        return True

    def _check_file_system(self, path: str) -> None:
        """Cannot vouch for a folder on a file system other machines may change (nfs, cifs, 9p, FUSE...)."""
        try:
            dev = os.stat(path).st_dev
        except OSError:
            return
        if dev in self.devices:
            return
        self.devices.add(dev)
        kind = inotify.fs_type(path)
        if kind not in inotify.LOCAL_FILE_SYSTEMS:
            name = "an unknown" if kind is None else f"a {kind:#x}"
            self.reason = (f"{path} is on {name} file system, not one known to be local: "
                           "a change made from another machine raises no event")

    def _add(self, path: str, role: str) -> None:
        """Watch ``path`` (before listing it, so nothing made meanwhile is missed), then the folders in it."""
        if not self._watch(path, role):
            return
        if role == VERSION:
            self._check_file(path + "/metadata.json")
            return
        try:
            with os.scandir(path) as entries:
                children = [(e.name, e.is_dir()) for e in entries]
        except OSError:
            return
        for name, is_dir in children:
            sub = child_role(role, name)
            if sub is not None and is_dir:
                self._add(f"{path}/{name}", sub)

    def _check_file(self, path: str) -> None:
        try:
            st = os.lstat(path)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode) or st.st_nlink > 1:
            self.reason = f"{path} is a symbolic link or has other hard links: its changes may not be seen"

    def take_in(self) -> None:
        """Every event queued now: count it, and watch the folders it made."""
        rescan = False
        for wd, mask, name in self.events.read():
            if mask & inotify.Q_OVERFLOW:
                self.epoch, rescan = secrets.token_hex(8), True
                continue
            found = self.folders.get(wd)
            if found is None:  # a folder no longer in the tree (moved away): count it, to be safe
                self.count += 1
                continue
            path, role = found
            if mask & inotify.IGNORED:
                self.folders.pop(wd, None)
            if role in ABOVE:
                self.gone = self.gone or bool(mask & SELF) or (name == ABOVE[role] and bool(mask & ENTRIES))
                continue
            if mask & SELF:
                self.count += 1
                self.gone = self.gone or (path == self.top and not mask & inotify.IGNORED)
                rescan = rescan or bool(mask & inotify.MOVE_SELF)
                continue
            if role == VERSION:
                self.count += 1
                if name == "metadata.json":
                    self._check_file(f"{path}/{name}")
                continue
            sub = child_role(role, name)
            if sub is None:
                continue
            self.count += 1
            if mask & inotify.MOVED_FROM:
                rescan = True
            elif mask & (inotify.CREATE | inotify.MOVED_TO) and os.path.isdir(f"{path}/{name}"):
                self._add(f"{path}/{name}", sub)  # a folder, or a symbolic link to one (no ISDIR flag then)
        if rescan and not self.gone:
            self.count += 1
            self.scan()

    def close(self) -> None:
        self.events.close()
