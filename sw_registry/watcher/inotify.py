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


class Unavailable(OSError):
    """inotify cannot be used here (not Linux, no libc symbol, or the kernel refused an instance)."""


class Inotify:
    def __init__(self) -> None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            self._add = libc.inotify_add_watch
            init = libc.inotify_init1
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
