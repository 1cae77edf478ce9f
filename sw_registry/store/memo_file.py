"""The read memo's file (store/readcache.py): one per command line, under ``.specweave/cache/sw-registry/reads/``.

    MAGIC | header length (4 bytes, little-endian) | marshal(header) | the output | the version files' stats

The header is (key, token, registry-get's artifact check, the watcher's answer, the output's length, the stats'
length). A read loads the header alone; on a hit the output goes from the file to stdout by ``os.sendfile`` (no
copy through Python: ~1 MB for registry-info of a model of 3,334 versions, which read and decoded whole cost
2-3 ms of a 5 ms read), and the stats (a marshalled list, ~240 KB there) are read only when they are checked. A
file that is not laid out so (damaged, cut short, written by another format) is no entry: the command runs.

On the hot path of a read: it imports only os, sys and marshal.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

MAGIC = b"swm6"
_HEAD = 8
_FIRST_READ = 1 << 16  # a header is a few KB (the token holds a stat per increment): one pread takes it whole


class Entry:
    """A memo file's header, and the file kept open for its output and stats."""

    __slots__ = ("check", "fd", "files_at", "files_len", "key", "text_at", "text_len", "token", "watch")

    def __init__(self, fd: int, header: tuple[Any, ...], at: int) -> None:
        self.key, self.token, self.check, self.watch, self.text_len, self.files_len = header
        self.fd, self.text_at = fd, at
        self.files_at = at + self.text_len

    def text(self) -> bytes:
        return _read_at(self.fd, self.text_len, self.text_at)

    def files_blob(self) -> bytes:
        return _read_at(self.fd, self.files_len, self.files_at)

    def close(self) -> None:
        os.close(self.fd)


def load(path: str) -> Entry | None:
    """The entry of a memo file, open (the caller closes it); None when there is none or it is not laid out so."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        head = os.pread(fd, _FIRST_READ, 0)
        size = int.from_bytes(head[4:_HEAD], "little")
        if head[:4] != MAGIC or len(head) < _HEAD:
            raise ValueError("not a memo file")
        if _HEAD + size > len(head):
            head = _read_at(fd, _HEAD + size, 0)
        header = marshal.loads(head[_HEAD : _HEAD + size])
        if (not isinstance(header, tuple) or len(header) != 6 or not isinstance(header[0], str)
                or not isinstance(header[4], int) or not isinstance(header[5], int) or min(header[4:]) < 0
                or _HEAD + size + header[4] + header[5] != os.fstat(fd).st_size):
            raise ValueError("not a memo file")
        return Entry(fd, header, _HEAD + size)
    except (OSError, EOFError, ValueError, TypeError):
        os.close(fd)
        return None


def dump(key: str, token: Any, check: Any, watch: str | None, text: bytes, files_blob: bytes) -> bytes:
    header = marshal.dumps((key, token, check, watch, len(text), len(files_blob)))
    return b"".join((MAGIC, len(header).to_bytes(4, "little"), header, text, files_blob))


def read_entry(path: str) -> tuple[str, Any, bytes, Any, bytes, str | None] | None:
    """(key, token, output, artifact check, stats blob, watcher's answer) of a memo file, all read (to keep it
    again with another answer; for tests)."""
    entry = load(path)
    if entry is None:
        return None
    try:
        return entry.key, entry.token, entry.text(), entry.check, entry.files_blob(), entry.watch
    except (OSError, ValueError):
        return None
    finally:
        entry.close()


def send_text(entry: Entry) -> None:
    """The kept output to stdout, as the JSON writer printed it: by sendfile when stdout is a file descriptor that
    takes it and its encoding is UTF-8, else written (decoded for a stream of another encoding)."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None or str(getattr(stream, "encoding", "")).lower().replace("-", "") != "utf8":
        stream.write(entry.text().decode("utf-8"))
        stream.flush()
        return
    stream.flush()
    buffer.flush()
    sent = 0
    try:
        out = stream.fileno()
        while sent < entry.text_len:
            n = os.sendfile(out, entry.fd, entry.text_at + sent, entry.text_len - sent)
            if n == 0:
                break
            sent += n
    except BrokenPipeError:
        raise
    except (OSError, ValueError, AttributeError):
        pass  # no descriptor (an in-process caller's stream), O_APPEND, a non-blocking pipe that filled: write the rest
    if sent < entry.text_len:
        buffer.write(_read_at(entry.fd, entry.text_len - sent, entry.text_at + sent))
        buffer.flush()


def _read_at(fd: int, size: int, at: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        chunk = os.pread(fd, size, at)
        if not chunk:
            raise ValueError("memo file cut short")
        parts.append(chunk)
        size -= len(chunk)
        at += len(chunk)
    return b"".join(parts)
