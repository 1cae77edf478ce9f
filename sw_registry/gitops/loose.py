"""Git's loose objects, written the way git writes them (sha1 repositories).

An object's id is the sha1 of ``"<type> <size>\\0" + body``; the file ``objects/xx/yyyy...`` holds that same byte
string zlib-compressed at git's loose level (``core.looseCompression``, else ``core.compression``, else 1). It is
written to a temporary file in the objects folder and linked into place (renamed where links fail), so a reader
never sees half an object and an existing object is never overwritten; an existing one gets its mtime refreshed,
as git does, so that a ``git gc --prune`` running meanwhile keeps it.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

STREAM_ABOVE = 1 << 20  # bigger files are hashed and compressed in chunks, not read whole
CHUNK = 1 << 20
# what zlib is handed at a time: at level 0 (stored blocks: big artifacts, packfile.py) it copies 64 KiB pieces at
# ~800 MB/s here and whole 1 MiB chunks at ~230 MB/s (zlib 1.2.13; the output is the same either way)
PIECE = 1 << 16


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


def _exists(path: str) -> bool:
    try:
        os.utime(path)  # git's "freshen": a concurrent prune keeps a recently touched object
        return True
    except FileNotFoundError:
        return False
    except PermissionError:
        return os.path.exists(path)


_TEMPS = iter(range(1 << 62))  # temporary names: our pid and a counter (O_EXCL settles any clash)


def _new_temp(folder: str) -> tuple[str, int]:
    """A temporary object file in ``folder`` (git's ``tmp_obj_`` prefix, which ``git gc`` knows to clear); the
    folder is made when missing. Every temporary is made in the objects folder itself, then linked into its
    ``xx/`` folder: on this VM's ext4, making a file costs ~0.4 ms in a folder not made into lately and ~0.08 ms
    in the same one (14 objects: 5.9 ms against 1.3), while the link costs ~0.02 ms wherever it goes."""
    while True:
        tmp = f"{folder}/tmp_obj_{os.getpid()}_{next(_TEMPS)}"
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:  # left by a killed process of the same pid: take the next name
            continue
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)


def _settle(tmp: str, final: str) -> None:
    """Link the finished ``tmp`` to its object's name (renamed where links fail); never replace an existing one."""
    try:
        _link(tmp, final)
    except FileNotFoundError:  # the object's ``xx/`` folder does not exist yet
        os.makedirs(os.path.dirname(final), exist_ok=True)
        _link(tmp, final)


def _link(tmp: str, final: str) -> None:
    try:
        os.link(tmp, final)
    except FileExistsError:
        pass  # written meanwhile by someone else: same id, same content
    except FileNotFoundError:
        raise
    except OSError:
        if not os.path.exists(final):
            os.replace(tmp, final)


def _deflate(raw: bytes, level: int) -> bytes:
    """``raw`` zlib-compressed at ``level``. A small object gets a window and hash no bigger than it needs: any zlib
    (git's included) reads the stream alike, and zlib need not allocate and clear its default ~256 KiB of state,
    ~0.1 ms of every small object here; the window still spans the whole object, so it compresses as well."""
    size = len(raw)
    if size >= 1 << 15:
        return zlib.compress(raw, level)
    bits = max(9, size.bit_length())  # 2**bits > size
    packer = zlib.compressobj(level, zlib.DEFLATED, bits, max(1, bits - 7))
    return packer.compress(raw) + packer.flush()


def sha1_hex(data: bytes) -> str:
    """The sha1 of small ``data`` by the interpreter's own module: importing hashlib loads OpenSSL's libcrypto,
    ~5-10 ms of every write here (issue 10); hashlib where the interpreter was built without it."""
    try:
        return str(__import__("_sha1").sha1(data).hexdigest())
    except ImportError:
        import hashlib

        return hashlib.sha1(data).hexdigest()


def write_object(objects: Path, kind: str, body: bytes, level: int, oid: str | None = None) -> str:
    """Write one object (unless git has it loose already) and return its id (``oid``: the id, already computed)."""
    raw = f"{kind} {len(body)}\0".encode() + body
    oid = oid or sha1_hex(raw)
    folder = f"{objects}/{oid[:2]}"
    final = f"{folder}/{oid[2:]}"
    if not _exists(final):
        tmp, fd = _new_temp(str(objects))
        try:
            try:
                write_all(fd, _deflate(raw, level))
            finally:
                os.close(fd)
            _settle(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return oid


def deflated(path: str, size: int, digest: Any, packer: Any) -> Iterator[bytes]:
    """The file at ``path``, read once in ``CHUNK``s, each fed to ``digest`` and (in ``PIECE``s) to ``packer``:
    what ``packer`` gives back, then its flush. OSError at the end if the file was not ``size`` bytes (it changed
    while it was read: the caller drops what it wrote)."""
    seen = 0
    buf = bytearray(CHUNK)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            chunk = memoryview(buf)[:n]
            digest.update(chunk)
            seen += n
            for at in range(0, n, PIECE):
                yield packer.compress(chunk[at : at + PIECE])
    yield packer.flush()
    if seen != size:
        raise OSError(f"{path} changed while it was being committed")


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
    tmp, fd = _new_temp(str(objects))
    try:
        try:
            write_all(fd, packer.compress(header))
            for piece in deflated(path, size, digest, packer):
                write_all(fd, piece)
        finally:
            os.close(fd)
        oid = digest.hexdigest()
        final = str(object_path(objects, oid))
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


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write all of ``data`` to ``fd`` (os.write may write less than it is given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def parse_tree(body: bytes, hash_len: int) -> dict[str, tuple[str, str]]:
    """A raw tree object: name -> (mode, hex id)."""
    out: dict[str, tuple[str, str]] = {}
    pos = 0
    while pos < len(body):
        sp = body.index(b" ", pos)
        nul = body.index(b"\0", sp)
        out[body[sp + 1 : nul].decode("utf-8", "surrogateescape")] = (
            body[pos:sp].decode(),
            body[nul + 1 : nul + 1 + hash_len].hex(),
        )
        pos = nul + 1 + hash_len
    return out
