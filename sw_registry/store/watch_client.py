"""The read memo's question to a running watcher (sw_registry/watcher): has anything the memo rests on changed?

A watcher started with ``python -m sw_registry.watcher start`` answers on a Unix socket of the abstract namespace
named after the user and the project folder (``socket_name``), and keeps ``MARKER`` while it runs. Its answer is
``EPOCH:COUNT``: the count goes up with every change to a version folder's files, to a ``models/`` folder, or to the
folders above them, and the epoch changes when it may have missed one (a queue overflow). Two equal answers mean
nothing changed in between, without a stat of every metadata.json (store/readcache.py). No watcher, an answer
from another user's process (SO_PEERCRED), or none within ``TIMEOUT``: None, and the memo checks every file.

On the hot path of a read: it imports only os, sys, and ``_socket`` when the marker is there.
"""

from __future__ import annotations

import os
import sys

MARKER = ".specweave/cache/sw-registry/watcher.pid"
TIMEOUT = 1.0
AUTO_MIN_FILES = 1000  # a read that stats this many version files starts a watcher (store/watch_start.py): ~3 ms here


def socket_name(root: str) -> bytes | None:
    """The watcher's socket for the project folder ``root`` (its folder's device and inode: not its path, which may be
    longer than a socket name can be), or None when ``root`` cannot be stat'ed."""
    try:
        st = os.stat(root)
    except (OSError, ValueError):
        return None
    return f"\0sw-registry-watcher-{os.getuid()}-{st.st_dev}-{st.st_ino}".encode()


def ask(root: str, request: bytes, limit: int = 1 << 16) -> bytes | None:
    """The watcher's reply to ``request`` (None: no watcher of ours answered)."""
    name = socket_name(root)
    if name is None:
        return None
    import _socket

    if not hasattr(_socket, "SO_PEERCRED"):  # not Linux (a marker carried over by a folder sync): no watcher here
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT)
        sock.connect(name)
        cred = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # struct ucred: pid, uid, gid
        if int.from_bytes(cred[4:8], sys.byteorder) != os.getuid():
            return None
        sock.sendall(request)
        parts: list[bytes] = []
        while chunk := sock.recv(limit):
            parts.append(chunk)
        return b"".join(parts)
    except OSError:
        return None
    finally:
        sock.close()


def state(root: str) -> str | None:
    """``EPOCH:COUNT`` of the watcher of ``root`` now, after it has taken in every change made before this call;
    None when no watcher runs, or it cannot vouch for the folders (it says why in its status)."""
    if not os.path.exists(f"{root}/{MARKER}"):
        return None
    reply = ask(root, b"state\n")
    if reply is None:
        return None
    folder, _, answer = reply.decode("utf-8", "surrogateescape").rstrip("\n").partition("\0")
    if folder != root or not answer or answer == "-":
        return None
    return answer
