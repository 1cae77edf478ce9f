"""Linux inotify through ctypes (the standard library has no binding): a non-blocking instance, watches on
folders, and its events parsed from what the kernel queued."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct

MODIFY, ATTRIB, CLOSE_WRITE = 0x2, 0x4, 0x8
MOVED_FROM, MOVED_TO, CREATE, DELETE = 0x40, 0x80, 0x100, 0x200
DELETE_SELF, MOVE_SELF = 0x400, 0x800
UNMOUNT, Q_OVERFLOW, IGNORED = 0x2000, 0x4000, 0x8000
ONLYDIR, ISDIR = 0x01000000, 0x40000000
# every change to a folder's entries or to a file in it, and the folder's own removal or move; not reads
CHANGES = MODIFY | ATTRIB | CLOSE_WRITE | MOVED_FROM | MOVED_TO | CREATE | DELETE | DELETE_SELF | MOVE_SELF
_EVENT = struct.Struct("iIII")


# statfs f_type of the file systems whose every change is made on this machine, so inotify sees it; a network or
# FUSE file system (nfs, cifs, 9p, sshfs...) can change under a watch without an event
LOCAL_FILE_SYSTEMS = {
    0xEF53: "ext2/3/4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs", 0x794C7630: "overlayfs",
    0x2FC12FC1: "zfs", 0xF2F52010: "f2fs", 0x52654973: "reiserfs", 0x3153464A: "jfs", 0xCA451A4E: "bcachefs",
    0x858458F6: "ramfs", 0x3434: "nilfs", 0x4D44: "vfat", 0x2011BAB0: "exfat", 0x5346544E: "ntfs3",
    0xF15F: "ecryptfs",
}


_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    return _libc


def fs_type(path: str) -> int | None:
    """statfs's f_type of the file system ``path`` is on (None when it cannot be asked)."""
    try:
        statfs = libc().statfs
    except (OSError, AttributeError):
        return None
    buf = ctypes.create_string_buffer(512)  # struct statfs: 120 bytes on 64-bit Linux, f_type (a long) first
    if statfs(os.fsencode(path), buf) != 0:
        return None
    return ctypes.c_long.from_buffer(buf).value & 0xFFFFFFFF


class Unavailable(OSError):
    """inotify cannot be used here (not Linux, no libc symbol, or the kernel refused an instance)."""


class Inotify:
    def __init__(self) -> None:
        try:
            self._add = libc().inotify_add_watch
            init = libc().inotify_init1
        except (OSError, AttributeError) as exc:
            raise Unavailable(errno.ENOSYS, f"inotify is not available: {exc}") from None
        self._add.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        self.fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            err = ctypes.get_errno()
            raise Unavailable(err, f"inotify_init1: {os.strerror(err)}")

    def watch(self, path: str) -> int:
        """A watch of the folder ``path`` (a symlink to a folder is followed); the same id for the same folder."""
        wd = self._add(self.fd, os.fsencode(path), CHANGES | ONLYDIR)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
        return int(wd)

    def read(self) -> list[tuple[int, int, str]]:
        """(watch id, mask, name) of every event queued now; [] when none."""
        out: list[tuple[int, int, str]] = []
        while True:
            try:
                buf = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return out
            at = 0
            while at + _EVENT.size <= len(buf):
                wd, mask, _cookie, size = _EVENT.unpack_from(buf, at)
                at += _EVENT.size
                name = os.fsdecode(buf[at : at + size].rstrip(b"\0"))
                at += size
                out.append((wd, mask, name))

    def close(self) -> None:
        os.close(self.fd)
