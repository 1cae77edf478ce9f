"""A big file's blob as a pack of its own, the way ``git add`` stores a file over ``core.bigFileThreshold``.

git streams such a file into a new pack (``bulk-checkin``): one blob, deflated at ``pack.compression`` (0 for the
registry's commits, SPEC §7.1: stored blocks, no compression), with its ``.idx``, both fsync'd (``core.fsync``'s
default). We write the same, so that the next ``git gc`` reuses the stored bytes as they are, as it reuses git's
own pack, rather than deflating a loose object of the same size (tens of seconds per GiB, by default in the
background after a commit). The file is read once: its blob id (OpenSSL's SHA-1, not git's far slower one), the
pack's checksum and the object's CRC are computed as it is written. When git already has the blob (loose or in a
pack) the new pack is dropped, as git drops it.

Pack (version 2): ``PACK``, version, object count; the object's type-and-size header and its zlib stream; the
SHA-1 of all that. Index (version 2): magic, version, the 256-entry fan-out, the id, the CRC-32 of the packed
object, its offset, the pack's checksum and the index's own.
"""

from __future__ import annotations

import contextlib
import os
import zlib

from .loose import deflated, object_path, write_all
from .odb import idx_offset

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from pathlib import Path

BLOB = 3


def _entry_header(kind: int, size: int) -> bytes:
    """A packed object's header: type and size, 4 bits then 7 per byte, the high bit saying more follow."""
    out = bytearray()
    byte = (kind << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte, size = size & 0x7F, size >> 7
    out.append(byte)
    return bytes(out)


def write_file_pack(objects: Path, path: str, size: int) -> str:
    """Store the file at ``path`` (``size`` bytes, as stat'ed) as a blob in a pack of its own (level 0, fsync'd);
    returns its id. Raises OSError if the file's size changed meanwhile."""
    import hashlib

    packs = f"{objects}/pack"
    os.makedirs(packs, exist_ok=True)
    blob = hashlib.sha1(f"blob {size}\0".encode())
    pack_sum = hashlib.sha1()
    crc = 0
    packer = zlib.compressobj(0)
    tmp_pack = f"{packs}/tmp_pack_sw_{os.getpid()}"
    tmp_idx = f"{packs}/tmp_idx_sw_{os.getpid()}"
    for stale in (tmp_pack, tmp_idx):  # left by a killed process of the same pid: read-only, so not reopened
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)
    fd = os.open(tmp_pack, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    try:
        try:

            def put(data: bytes | memoryview, in_object: bool = True) -> None:
                nonlocal crc
                pack_sum.update(data)
                if in_object:
                    crc = zlib.crc32(data, crc)
                write_all(fd, data)

            put(b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big"), in_object=False)
            put(_entry_header(BLOB, size))
            for piece in deflated(path, size, blob, packer):
                put(piece)
            checksum = pack_sum.digest()
            write_all(fd, checksum)
            os.fsync(fd)
        finally:
            os.close(fd)
        oid = blob.digest()
        if _has(objects, oid):  # git has it already: the new pack is not needed
            return oid.hex()
        idx = bytearray(b"\377tOc" + (2).to_bytes(4, "big"))
        idx += b"".join((0 if i < oid[0] else 1).to_bytes(4, "big") for i in range(256))
        idx += oid + (crc & 0xFFFFFFFF).to_bytes(4, "big") + (12).to_bytes(4, "big") + checksum
        idx += hashlib.sha1(idx).digest()
        fd = os.open(tmp_idx, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            write_all(fd, bytes(idx))
            os.fsync(fd)
        finally:
            os.close(fd)
        name = f"{packs}/pack-{checksum.hex()}"
        os.replace(tmp_pack, name + ".pack")  # the pack first: git ignores a pack without its index
        os.replace(tmp_idx, name + ".idx")
        return oid.hex()
    finally:
        for tmp in (tmp_pack, tmp_idx):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _has(objects: Path, oid: bytes) -> bool:
    """Whether git has the object ``oid``: loose, or in a pack whose version 2 index lists it."""
    if os.path.exists(object_path(objects, oid.hex())):
        return True
    folder = f"{objects}/pack"
    try:
        names = [n for n in os.listdir(folder) if n.startswith("pack-") and n.endswith(".idx")]
    except OSError:
        return False
    for name in names:
        try:
            if idx_offset(f"{folder}/{name}", oid) is not None:
                return True
        except (OSError, ValueError):
            continue
    return False
