"""git's index, given a commit's own paths by us instead of by ``git update-index``: for a commit with a big file.

``git update-index --info-only`` hashes every file it is given with git's collision-detecting SHA-1, which runs at
30-100 MB/s here: for a 1 GiB artifact that is 10-37 s spent after we hashed it ourselves. So a commit holding a
file over ``BIG_FILE_BYTES`` writes that blob itself (gitops/direct.py) and puts its paths in the index here, each
with the id it wrote and the stat data it read before hashing: the entries ``git update-index --add --remove
--info-only`` would write. Commits of small files keep ``git update-index`` (reading the whole index in Python
costs about what git's process does).

Read and written: index versions 2 and 3, under git's lock (``index.lock`` created exclusively, written, renamed
over the index). Anything else makes ``update`` return False before it changes anything, and the caller runs git:
version 4, a split or sparse index, an unmerged entry, an extension git requires that is not known here, an entry
of ours with extended flags (skip-worktree, intent-to-add), a file where a folder of ours goes or the reverse.
The cache tree (``TREE``) keeps every folder but those above our paths, which are marked invalid, as git marks
them; resolve-undo (``REUC``) is kept; the optional extensions that describe the work tree or the file's layout
(``UNTR``, ``FSMN``, ``EOIE``, ``IEOT``, any other optional one) are dropped, which git reads as "not known yet".
An entry of another path whose mtime is not older than the index's (in seconds: git's "racily clean" entry), and
whose file still has that mtime and size but other content, is written with size 0, as git writes it, so that a
change made within the index's last tick is still seen by the next ``git status`` (it hashes that file again); so
is one we cannot check (not a plain file, or over 16 MiB).
"""

from __future__ import annotations

import os
import stat as stat_mod

from .loose import write_all

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from .repo import Repo

    Node = list[Any]  # a cache tree folder: [name, entry count, subtree count, oid or b"", children]

KEPT = frozenset({b"TREE", b"REUC"})
MASK = 0xFFFFFFFF


def _entry(name: bytes, mode: int, oid: str, st: os.stat_result) -> bytes:
    """One version 2 entry: stat data, mode, id, flags (stage 0), the name and its NUL padding."""
    fields = (
        st.st_ctime_ns // 1_000_000_000, st.st_ctime_ns % 1_000_000_000,
        st.st_mtime_ns // 1_000_000_000, st.st_mtime_ns % 1_000_000_000,
        st.st_dev, st.st_ino, mode, st.st_uid, st.st_gid, st.st_size,
    )
    head = b"".join((v & MASK).to_bytes(4, "big") for v in fields)
    size = (62 + len(name) + 8) & ~7
    return head + bytes.fromhex(oid) + min(len(name), 0xFFF).to_bytes(2, "big") + name + b"\0" * (size - 62 - len(name))


def _parse_entries(data: bytes, count: int, version: int) -> list[tuple[bytes, int, int, int]] | None:
    """(name, start, end, flags) of every entry; None for what we do not write (see the module)."""
    out = []
    pos = 12
    for _ in range(count):
        flags = int.from_bytes(data[pos + 60 : pos + 62], "big")
        ext = 2 if flags & 0x4000 else 0
        if (ext and version < 3) or flags & 0x3000:  # extended flags in a version 2 index; a conflict stage
            return None
        start = pos + 62 + ext
        length = flags & 0xFFF
        end_name = data.index(b"\0", start) if length == 0xFFF else start + length
        end = pos + ((62 + ext + end_name - start + 8) & ~7)
        if end > len(data) - 20:
            return None
        out.append((data[start:end_name], pos, end, flags))
        pos = end
    return out


def _parse_tree(data: bytes, at: int) -> tuple[Node, int]:
    nul = data.index(b"\0", at)
    name = data[at:nul]
    lf = data.index(b"\n", nul)
    count_s, _, subs_s = data[nul + 1 : lf].partition(b" ")
    count, subs = int(count_s), int(subs_s)
    at = lf + 1
    oid = b""
    if count >= 0:
        oid, at = data[at : at + 20], at + 20
    children = []
    for _ in range(subs):
        child, at = _parse_tree(data, at)
        children.append(child)
    return [name, count, subs, oid, children], at


def _dump_tree(node: Node, out: list[bytes]) -> None:
    name, count, _subs, oid, children = node
    out.append(name + b"\0" + str(count).encode() + b" " + str(len(children)).encode() + b"\n")
    if count >= 0:
        out.append(oid)
    for child in children:
        _dump_tree(child, out)


def _invalidate(root: Node, path: bytes) -> None:
    """Mark the cache tree's folders above ``path`` invalid (git's cache_tree_invalidate_path)."""
    node: Node | None = root
    parts = path.split(b"/")[:-1]
    while node is not None:
        node[1], node[3] = -1, b""
        if not parts:
            return
        head = parts.pop(0)
        node = next((c for c in node[4] if c[0] == head), None)


def update(repo: Repo, files: Sequence[tuple[str, int, str, os.stat_result]], gone: Sequence[str]) -> bool:
    """Put ``files`` ((path from the top of the work tree, mode, blob id, stat)) into git's index and take ``gone``
    out of it; False, with nothing changed, where git must do it (see the module)."""
    index = str(repo.git_dir / "index")
    lock = index + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except OSError:
        return False  # git's lock is held (or cannot be taken): git says what is wrong
    done = False
    try:
        built = _build(index, str(repo.toplevel), files, gone)
        if built is None:
            return False
        write_all(fd, built)
        os.close(fd)
        fd = -1
        os.replace(lock, index)
        done = True
        return True
    finally:
        if fd >= 0:
            os.close(fd)
        if not done:
            try:
                os.unlink(lock)
            except FileNotFoundError:
                pass


def _smudge(top: str, name: bytes, raw: bytes) -> bool:
    """Whether a racily clean entry must be written with size 0 (git's ce_smudge_racily_clean_entry): its file
    still has the entry's mtime and size, yet other content. One we cannot check (not a plain file, or a big one)
    is smudged: the next git hashes it once, which is always right."""
    mode = int.from_bytes(raw[24:28], "big")
    if mode & 0o170000 == 0o160000:  # a submodule's commit: never racy
        return False
    path = f"{top}/{name.decode('utf-8', 'surrogateescape')}"
    try:
        st = os.lstat(path)
    except OSError:
        return False  # gone: git sees that without the entry's help
    if (st.st_mtime_ns // 1_000_000_000) & MASK != int.from_bytes(raw[8:12], "big") or \
            st.st_size & MASK != int.from_bytes(raw[36:40], "big"):
        return False  # its stat already differs: every git sees it changed
    if not stat_mod.S_ISREG(st.st_mode) or st.st_size > 1 << 24:
        return True
    import hashlib

    try:
        with open(path, "rb") as fh:
            content = fh.read()
    except OSError:
        return True
    return hashlib.sha1(b"blob %d\0" % len(content) + content).digest() != raw[40:60]


def _build(index: str, top: str, files: Sequence[tuple[str, int, str, os.stat_result]],
           gone: Sequence[str]) -> bytes | None:
    """The new index file's bytes, or None where git must write it."""
    try:
        with open(index, "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read()
    except FileNotFoundError:
        data, st = b"", None
    if data:
        if len(data) < 32 or data[:4] != b"DIRC":
            return None
        version, count = int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big")
        if version not in (2, 3):
            return None
        import hashlib

        if hashlib.sha1(data[:-20]).digest() != data[-20:]:  # a torn or skipHash index: git's business
            return None
        entries = _parse_entries(data, count, version)
        if entries is None:
            return None
        tail = entries[-1][2] if entries else 12
    else:
        version, entries, tail = 2, [], 12
    ours = {name.encode("utf-8", "surrogateescape"): (mode, oid, fst) for name, mode, oid, fst in files}
    dropped = {name.encode("utf-8", "surrogateescape") for name in gone} - set(ours)
    folders = {p[: i] for p in ours for i in range(len(p)) if p[i : i + 1] == b"/"}
    # entries not older than the index: each is checked against its file as git's own write checks it (_smudge)
    racy_s = (st.st_mtime_ns // 1_000_000_000) & MASK if st is not None else None
    kept: list[tuple[bytes, bytes]] = []
    for name, start, end, flags in entries:
        if name in ours:
            if flags & 0x4000:  # skip-worktree or intent-to-add: git decides what an update means for it
                return None
            continue
        if name in dropped:
            continue
        if name in folders or any(name.startswith(p + b"/") for p in ours):
            return None  # a file where a folder of ours goes, or the reverse: git's --replace
        raw = data[start:end]
        if racy_s is not None and int.from_bytes(raw[8:12], "big") >= racy_s and _smudge(top, name, raw):
            raw = raw[:36] + b"\0\0\0\0" + raw[40:]
        kept.append((name, raw))
    for name, (mode, oid, fst) in ours.items():
        kept.append((name, _entry(name, mode, oid, fst)))
    kept.sort(key=lambda item: item[0])
    exts = _extensions(data, tail, [*ours, *dropped]) if data else b""
    if exts is None:
        return None
    import hashlib

    body = b"".join((b"DIRC", version.to_bytes(4, "big"), len(kept).to_bytes(4, "big"),
                     *(raw for _name, raw in kept), exts))
    return body + hashlib.sha1(body).digest()


def _extensions(data: bytes, at: int, changed: list[bytes]) -> bytes | None:
    """The extensions kept (the cache tree invalidated above ``changed``); None for one git requires of us."""
    out: list[bytes] = []
    end = len(data) - 20
    while at < end:
        sig, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "big")
        body = data[at + 8 : at + 8 + size]
        at += 8 + size
        if at > end:
            return None
        if not b"A" <= sig[:1] <= b"Z":  # required: a split index ("link"), a sparse index ("sdir")...
            return None
        if sig not in KEPT:
            continue  # optional: git rebuilds it (untracked cache, fsmonitor) or does without (offsets)
        if sig == b"TREE" and body:
            root, _ = _parse_tree(body, 0)
            for path in changed:
                _invalidate(root, path)
            parts: list[bytes] = []
            _dump_tree(root, parts)
            body = b"".join(parts)
        out.append(sig + len(body).to_bytes(4, "big") + body)
    return b"".join(out)


def index_mode(st: os.stat_result) -> int:
    """The mode git records for a regular file (``create_ce_mode``)."""
    return 0o100755 if st.st_mode & stat_mod.S_IXUSR else 0o100644
