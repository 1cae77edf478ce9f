"""Git's loose objects, written the way git writes them (sha1 repositories).

An object's id is the sha1 of ``"<type> <size>\\0" + body``; the file ``objects/xx/yyyy...`` holds that same byte
string zlib-compressed at git's loose level (``core.looseCompression``, else ``core.compression``, else 1). It is
written to a temporary file in the object's folder and linked into place (renamed where links fail), so a reader
never sees half an object and an existing object is never overwritten; an existing one gets its mtime refreshed,
as git does, so that a ``git gc --prune`` running meanwhile keeps it.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path

STREAM_ABOVE = 1 << 20  # bigger files are hashed and compressed in chunks, not read whole
CHUNK = 1 << 20


def loose_level(config: dict[str, str | None]) -> int:
    """The zlib level git uses for loose objects under ``config`` (-1 is zlib's default, 6)."""
    for key in ("core.loosecompression", "core.compression"):
        value = config.get(key)
        if value is not None:
            level = int(value.strip())
            if not -1 <= level <= 9:
                raise ValueError(f"bad {key} {level}")
            return level
    return 1  # Z_BEST_SPEED, git's default for loose objects


def object_path(objects: Path, oid: str) -> Path:
    return objects / oid[:2] / oid[2:]


def _exists(path: Path) -> bool:
    try:
        os.utime(path)  # git's "freshen": a concurrent prune keeps a recently touched object
        return True
    except FileNotFoundError:
        return False
    except PermissionError:
        return path.exists()


def _new_temp(folder: Path) -> tuple[Path, int]:
    """A temporary object file in ``folder`` (git's ``tmp_obj_`` prefix, which ``git gc`` knows to clear)."""
    tmp = folder / f"tmp_obj_{os.getpid()}_{os.urandom(4).hex()}"
    return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)


def _settle(tmp: Path, final: Path) -> None:
    """Link the finished ``tmp`` to its object's name (renamed where links fail); never replace an existing one."""
    final.parent.mkdir(exist_ok=True)
    try:
        os.link(tmp, final)
    except FileExistsError:
        pass  # written meanwhile by someone else: same id, same content
    except OSError:
        if not final.exists():
            os.replace(tmp, final)


def sha1_hex(data: bytes) -> str:
    """The sha1 of small ``data`` by the interpreter's own module: importing hashlib loads OpenSSL's libcrypto,
    ~5-10 ms of every write here (issue 10); hashlib where the interpreter was built without it."""
    try:
        return str(__import__("_sha1").sha1(data).hexdigest())
    except ImportError:
        import hashlib

        return hashlib.sha1(data).hexdigest()


def write_object(objects: Path, kind: str, body: bytes, level: int) -> str:
    """Write one object (unless git has it loose already) and return its id."""
    raw = f"{kind} {len(body)}\0".encode() + body
    oid = sha1_hex(raw)
    final = object_path(objects, oid)
    if not _exists(final):
        final.parent.mkdir(exist_ok=True)
        tmp, fd = _new_temp(final.parent)
        try:
            try:
                _write_all(fd, zlib.compress(raw, level))
            finally:
                os.close(fd)
            _settle(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return oid


def write_file_blob(objects: Path, path: str, size: int, level: int) -> str:
    """The blob of the file at ``path`` (``size`` bytes, as stat'ed): written whole when small, else streamed."""
    if size <= STREAM_ABOVE:
        with open(path, "rb") as fh:
            return write_object(objects, "blob", fh.read(), level)
    import hashlib  # OpenSSL's sha1 for big files: several times the builtin's speed

    # one pass: what is hashed is what is compressed, so the object always holds the bytes its id names, even
    # if the file changed while it was read (git writes a streamed object the same way: to a temporary file in
    # the objects folder, named once its id is known)
    header = f"blob {size}\0".encode()
    digest, packer = hashlib.sha1(header), zlib.compressobj(level)
    tmp, fd = _new_temp(objects)
    try:
        try:
            _write_all(fd, packer.compress(header))
            seen = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    seen += len(chunk)
                    _write_all(fd, packer.compress(chunk))
            _write_all(fd, packer.flush())
        finally:
            os.close(fd)
        if seen != size:
            raise OSError(f"{path} changed while it was being committed")
        oid = digest.hexdigest()
        final = object_path(objects, oid)
        if not _exists(final):
            _settle(tmp, final)
        return oid
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def tree_body(entries: dict[str, tuple[str, str]]) -> bytes:
    """A tree object's body (git's order: a folder sorts as if its name ended with '/')."""

    def key(item: tuple[str, tuple[str, str]]) -> bytes:
        name = item[0].encode("utf-8", "surrogateescape")
        return name + b"/" if item[1][0] == "40000" else name

    return b"".join(
        mode.encode() + b" " + name.encode("utf-8", "surrogateescape") + b"\0" + bytes.fromhex(oid)
        for name, (mode, oid) in sorted(entries.items(), key=key)
    )


def commit_body(tree: str, parent: str | None, author: str, committer: str, message: bytes) -> bytes:
    """What ``git commit-tree`` writes for these (no encoding header: the message is UTF-8)."""
    head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "") + f"author {author}\ncommitter {committer}\n\n"
    return head.encode("utf-8", "surrogateescape") + message


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
