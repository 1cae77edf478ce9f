"""Reading a commit or a tree from git's object store without a git process (issue 10: one process less per write).

A registry write rebuilds the folders above its paths from HEAD's trees (``commits.head_trees``). Most come from
the last commit's own trees (``commits._kept_trees``); the rest used to come from ``git cat-file --batch``, a
process of its own (~10 ms here). ``read`` finds an object as git would in the repository's own store: a loose
object, or an entry of a pack named by a version 2 ``.idx`` (base objects and deltas, by offset or by id), and
checks that its bytes hash to the id asked for.

It answers None, and the caller asks git, for anything it does not handle: another object format than SHA-1,
alternates or a moved object directory (``GIT_OBJECT_DIRECTORY``...), a version 1 index, an object it does not
find (a promisor pack of a partial clone) or cannot read, a delta chain longer than ``MAX_CHAIN``. Nothing here
writes.
"""

from __future__ import annotations

import os
import zlib

from .loose import parse_tree, sha1_hex

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import BinaryIO

    from .repo import Repo

KINDS = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
OFS_DELTA, REF_DELTA = 6, 7
MAX_CHAIN = 500  # deltas on deltas followed at most (git makes 50 by default; pack.depth allows 4095): then git
MOVED = ("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")


class Store:
    """The object store under ``objects`` (a folder path), read-only; ``close`` closes the packs it opened."""

    def __init__(self, objects: str) -> None:
        self.objects = objects
        self._packs: list[tuple[bytes, BinaryIO | None, str]] | None = None  # (idx head, pack file, idx path)

    def usable(self) -> bool:
        """Whether every object is in this store (no alternates, no object directory moved by git's environment)."""
        if any(os.environ.get(name) for name in MOVED):
            return False
        return not os.path.lexists(f"{self.objects}/info/alternates")

    def read(self, oid: str) -> tuple[bytes, bytes] | None:
        """(kind, body) of the object ``oid`` (40 hex digits), or None (the caller asks git)."""
        if len(oid) != 40 or not self.usable():
            return None
        try:
            found = self._loose(oid) or self._packed(bytes.fromhex(oid), 0)
        except (OSError, ValueError, IndexError, zlib.error, RecursionError):
            return None
        if found is None or sha1_hex(b"%s %d\0" % (found[0], len(found[1])) + found[1]) != oid:
            return None
        return found

    def close(self) -> None:
        for _head, fh, _path in self._packs or []:
            if fh is not None:
                fh.close()
        self._packs = None

    def _loose(self, oid: str) -> tuple[bytes, bytes] | None:
        try:
            with open(f"{self.objects}/{oid[:2]}/{oid[2:]}", "rb") as fh:
                raw = zlib.decompress(fh.read())
        except FileNotFoundError:
            return None
        nul = raw.index(b"\0")
        kind, _, size = raw[:nul].partition(b" ")
        body = raw[nul + 1 :]
        if int(size) != len(body):
            raise ValueError("loose object of a wrong size")
        return kind, body

    def _packs_found(self) -> list[tuple[bytes, BinaryIO | None, str]]:
        if self._packs is None:
            folder = f"{self.objects}/pack"
            try:
                names = sorted(n for n in os.listdir(folder) if n.startswith("pack-") and n.endswith(".idx"))
            except FileNotFoundError:
                names = []
            self._packs = []
            for name in names:
                with open(f"{folder}/{name}", "rb") as fh:
                    head = fh.read(IDX_HEAD)
                if head[:8] != IDX_V2:
                    raise ValueError("a pack index that is not version 2")
                self._packs.append((head, None, f"{folder}/{name}"))
        return self._packs

    def _packed(self, oid: bytes, depth: int) -> tuple[bytes, bytes] | None:
        for i, (head, _fh, idx) in enumerate(self._packs_found()):
            offset = idx_offset(idx, oid, head)
            if offset is not None:
                return self._entry(i, offset, depth)
        return None

    def _entry(self, pack: int, offset: int, depth: int) -> tuple[bytes, bytes]:
        """The object at ``offset`` of pack number ``pack``, its deltas applied."""
        if depth > MAX_CHAIN:
            raise ValueError("delta chain too deep")
        head, fh, idx = self._packs_found()[pack]
        if fh is None:
            fh = open(idx[:-4] + ".pack", "rb")  # kept open for the next read; closed by close()
            self._packs[pack] = (head, fh, idx)  # type: ignore[index]
        fh.seek(offset)
        top = fh.read(64)  # the entry's header: type and size, then a delta's base
        c = top[0]
        kind, size, shift, pos = (c >> 4) & 7, c & 15, 4, 1
        while c & 0x80:
            c = top[pos]
            pos += 1
            size |= (c & 0x7F) << shift
            shift += 7
        if kind == OFS_DELTA:
            c = top[pos]
            pos += 1
            back = c & 0x7F
            while c & 0x80:
                c = top[pos]
                pos += 1
                back = ((back + 1) << 7) | (c & 0x7F)
            base = self._entry(pack, offset - back, depth + 1)
        elif kind == REF_DELTA:
            found = self._packed(top[pos : pos + 20], depth + 1) or self._loose(top[pos : pos + 20].hex())
            if found is None:
                raise ValueError("the base of a delta is missing")
            base, pos = found, pos + 20
        elif kind in KINDS:
            return KINDS[kind], _inflate(fh, offset + pos, size)
        else:
            raise ValueError(f"pack entry of type {kind}")
        return base[0], _apply(base[1], _inflate(fh, offset + pos, size))


def read_trees(
    repo: Repo, head: str, order: list[str], cached: dict[str, dict[str, tuple[str, str]]],
    trees: dict[str, dict[str, tuple[str, str]]],
) -> list[str]:
    """HEAD's listing of each folder of ``order`` into ``trees``, read by ``odb.Store`` from the closest folder
    known (the last commit's trees, else HEAD's own tree); a folder HEAD does not have stays empty, as with
    ``git cat-file``. Returns the folders it could not read (git is asked for those)."""
    store = Store(str(repo.common_dir / "objects"))
    known: dict[str, dict[str, tuple[str, str]] | None] = {}  # folder -> its entries; None: not in HEAD

    def listing(d: str) -> dict[str, tuple[str, str]] | None:
        if d in known:
            return known[d]
        if d in cached:
            return cached[d]
        if d:
            parent, _, name = d.rpartition("/")
            entry = (listing(parent) or {}).get(name)
            oid = entry[1] if entry is not None and entry[0] == "40000" else None
        else:
            commit = store.read(head)
            if commit is None or commit[0] != b"commit" or not commit[1].startswith(b"tree "):
                raise LookupError(head)
            oid = commit[1][5:45].decode()
        found = None
        if oid is not None:
            tree = store.read(oid)
            if tree is None or tree[0] != b"tree":
                raise LookupError(oid)
            found = parse_tree(tree[1], 20)
        known[d] = found
        return found

    left = []
    try:
        for d in order:
            try:
                found = listing(d)
            except LookupError:
                left.append(d)
                continue
            if found is not None:
                trees[d] = dict(found)
    finally:
        store.close()
    return left


IDX_V2 = b"\377tOc\0\0\0\2"
IDX_HEAD = 8 + 256 * 4  # the signature and version, then the fan-out table


def idx_offset(idx: str, oid: bytes, head: bytes | None = None) -> int | None:
    """Where ``oid`` starts in the pack of the version 2 index ``idx`` (binary search; None when it does not list
    it, or ``idx`` is not a version 2 index). ``head``: its first ``IDX_HEAD`` bytes, when already read."""
    if head is None:
        with open(idx, "rb") as fh:
            head = fh.read(IDX_HEAD)
    if head[:8] != IDX_V2:
        return None
    first = oid[0]
    lo = int.from_bytes(head[4 + 4 * first : 8 + 4 * first], "big") if first else 0
    hi = int.from_bytes(head[8 + 4 * first : 12 + 4 * first], "big")
    total = int.from_bytes(head[8 + 4 * 255 : 12 + 4 * 255], "big")
    with open(idx, "rb") as fh:
        while lo < hi:
            mid = (lo + hi) // 2
            fh.seek(8 + 256 * 4 + 20 * mid)
            found = fh.read(20)
            if found == oid:
                fh.seek(8 + 256 * 4 + 24 * total + 4 * mid)
                offset = int.from_bytes(fh.read(4), "big")
                if offset & 0x80000000:  # an index into the table of 64-bit offsets
                    fh.seek(8 + 256 * 4 + 28 * total + 8 * (offset & 0x7FFFFFFF))
                    offset = int.from_bytes(fh.read(8), "big")
                return offset
            if found < oid:
                lo = mid + 1
            else:
                hi = mid
    return None


def _inflate(fh: BinaryIO, at: int, size: int) -> bytes:
    """The ``size`` bytes of the zlib stream starting at ``at``."""
    fh.seek(at)
    z = zlib.decompressobj()
    out = bytearray()
    while not z.eof:
        chunk = fh.read(max(4096, size + 64 - len(out)))
        if not chunk:
            raise ValueError("pack ends inside an object")
        out += z.decompress(chunk)
    if len(out) != size:
        raise ValueError("pack entry of a wrong size")
    return bytes(out)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        c = data[pos]
        pos += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return value, pos


def _apply(base: bytes, delta: bytes) -> bytes:
    """git's delta format: the sizes of the base and the result, then copies from the base and inserts."""
    src, pos = _varint(delta, 0)
    dst, pos = _varint(delta, pos)
    if src != len(base):
        raise ValueError("delta of another base")
    out = bytearray()
    end = len(delta)
    while pos < end:
        op = delta[pos]
        pos += 1
        if op & 0x80:
            start = length = 0
            for bit in range(4):
                if op & (1 << bit):
                    start |= delta[pos] << (8 * bit)
                    pos += 1
            for bit in range(3):
                if op & (0x10 << bit):
                    length |= delta[pos] << (8 * bit)
                    pos += 1
            length = length or 0x10000
            if start + length > len(base):
                raise ValueError("delta copies past its base")
            out += base[start : start + length]
        elif op:
            out += delta[pos : pos + op]
            pos += op
        else:
            raise ValueError("delta opcode 0")
    if len(out) != dst:
        raise ValueError("delta result of a wrong size")
    return bytes(out)
