"""The watcher's process: a ``Tree`` of watched folders, and a Unix socket of the abstract namespace
(store/watch_client.py names it) that answers ``state``, ``status`` and ``stop``.

Every request first takes in all the events the kernel has queued: an inotify event is queued by the call that
made the change, before that call returns, so the answer to a read that began after a change counts that change.
Only the user who runs the watcher is answered (``SO_PEERCRED``). It stops on ``stop``, after ``idle`` seconds with
no request (0: never), when the increments folder or ``.specweave`` is removed, moved or replaced (tree.py), or when its
marker file is removed or names another process. The marker (``watch_client.MARKER``) holds its pid while it runs.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import time
from pathlib import Path

from ..store.files import atomic_write
from ..store.record_cache import ensure_ignored
from ..store.watch_client import MARKER, socket_name
from .tree import Tree

CHECK_EVERY = 2.0  # seconds between checks of the marker and of the idle time while nothing happens


def listen(root: str) -> socket.socket:
    """The watcher's socket for ``root``; OSError (EADDRINUSE) when a watcher of it already listens."""
    name = socket_name(root)
    if name is None:
        raise FileNotFoundError(root)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(name)
        sock.listen(16)
    except OSError:
        sock.close()
        raise
    return sock


def write_marker(root: str) -> Path:
    marker = Path(root) / MARKER
    marker.parent.mkdir(parents=True, exist_ok=True)
    ensure_ignored(marker.parent)
    atomic_write(marker, f"{os.getpid()}\n".encode(), durable=False)
    return marker


def _marker_is_ours(marker: Path) -> bool:
    try:
        return marker.read_text().strip() == str(os.getpid())
    except OSError:
        return False


def serve(root: str, sock: socket.socket, tree: Tree, idle: float, auto: bool = False) -> str:
    """Answer until a reason to stop; that reason."""
    marker = write_marker(root)
    started, last = time.time(), time.monotonic()
    try:
        while True:
            ready, _, _ = select.select([sock, tree.events.fd], [], [], min(CHECK_EVERY, idle or CHECK_EVERY))
            tree.take_in()
            if tree.gone:
                return "the increments folder or .specweave was removed, moved or replaced"
            if sock in ready:
                last = time.monotonic()
                if _answer(sock, tree, root, (started, idle, auto)) == "stop":
                    return "asked to stop"
            elif not _marker_is_ours(marker):
                return "its marker file was removed or taken"
            if idle and time.monotonic() - last > idle:
                return f"no request for {idle:g} s"
    finally:
        if _marker_is_ours(marker):
            marker.unlink(missing_ok=True)
        sock.close()
        tree.close()


def _answer(sock: socket.socket, tree: Tree, root: str, how: tuple[float, float, bool]) -> str | None:
    try:
        conn, _ = sock.accept()
    except OSError:
        return None
    with conn:
        conn.settimeout(1.0)
        try:
            _pid, uid, _gid = struct.unpack("iII", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid != os.getuid():
                return None
            request = conn.recv(64).strip()
            tree.take_in()  # what changed while the request was on its way counts too
            if request == b"state":
                reply = f"{root}\0{tree.state}\n"
            elif request in (b"status", b"stop"):
                reply = json.dumps(status(tree, root, *how)) + "\n"
            else:
                return None
            conn.sendall(reply.encode("utf-8", "surrogateescape"))
        except OSError:
            return None
        return request.decode()


def status(tree: Tree, root: str, started: float, idle: float, auto: bool) -> dict[str, object]:
    return {
        "root": root, "pid": os.getpid(), "usable": tree.reason is None, "reason": tree.reason,
        "epoch": tree.epoch, "count": tree.count, "folders": len(tree.folders),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "idle_timeout": idle,
        "started_by": "a read" if auto else "hand",
    }
