"""What a write's dirty check needs to know cheaply: have the registry's files changed since they last matched HEAD?

``git status`` answers by lstat-ing every tracked file and listing every folder: 0.2 s at 1,500 versions and
0.8 s at 10,000 on a busy 2-core machine, for every write. Instead, when the registry's files are known to match
HEAD (after a write commits, or after git status said so), we keep a stat snapshot of them in the cache:

- HEAD's commit and the stat and checksum of git's index file (a commit, checkout, merge, rebase, reset or
  ``git add`` changes one of them: then the next write runs the full ``git status`` once);
- registry.yaml and the living doc; every increment's ``models/``, ``registry/`` and ``experiments/`` folder;
  each version folder and its metadata.json; each file in ``registry/``; everything below ``experiments/``.

A file created, deleted or renamed (our own atomic writes, an editor's save-by-rename, a half-written folder, a
stray temporary file) changes its folder's mtime; an edit in place changes the file's own stat, where we watch the
file itself. Only the entries that differ are then checked with a path-limited ``git status``. Not watched
one by one: the artifact and side files inside a version folder (an edit in place of those that keeps the folder's
listing is found by ``registry-verify`` and by ``registry-get``'s hash check, not by every write).

The snapshot is grouped by increment (a version folder and its metadata.json are one entry): an increment whose
entries all equal the last snapshot's, none of them recent, is passed over with one dict comparison made in C,
so the Python work of the check follows the increments that changed, and only the stat calls follow the size.

An entry whose mtime is at or after the moment its stat was taken could change again within the same timestamp
tick unseen: it always counts as changed (git's own "racy" rule). That moment is read from the file system's own
clock (``fs_clock.fs_now``: the mtime of a file set just before the stats), as git compares with its index file's
mtime: the rule then holds whatever the file system's timestamp tick (1 ns here, 2 s on FAT) and whatever its
clock's skew against this machine's (a network file system), and a file written a few ms before a write's snapshot
is not checked again by the next write (with a fixed window of this machine's clock it was, about every other time).

The snapshot's file is ``snapshot_file.py``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from stat import S_ISDIR, S_ISLNK

from . import fs_clock

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout

    Snapshot = dict[str, Any]

STATE_FORMAT = 6  # 6: "taken" is a reading of the file system's clock (5: this machine's, less RACY_NS)
Fp = tuple[int, int, int, int]
Fp3 = tuple[int, int, int]  # a metadata.json's (mtime, size, inode), as the index keeps it
RECHECK = (None, None)  # a version folder's entry the next write checks whatever it finds (no stat equals it)
MOVED_LIMIT = 256  # more paths than this for a path-limited git status: the full one (a long command line is slower)


def _fp(path: str) -> Fp | None:
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


def index_fp(repo: Repo) -> tuple[Any, ...] | None:
    """The stat of git's index file and its last 20 bytes: git's checksum of everything before them. Equal
    checksums mean the same index whenever it was written, so an index written just before the snapshot (a write's
    own ``git update-index``) is not "racy"; an index without checksum (``index.skipHash``) is, by its mtime."""
    try:
        fd = os.open(str(repo.git_dir / "index"), os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        st = os.fstat(fd)
        tail = os.pread(fd, 20, st.st_size - 20) if st.st_size >= 20 else b""
    finally:
        os.close(fd)
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode, tail.hex())


def git_moved(before: Snapshot, head: str | None, index: tuple[Any, ...] | None) -> bool:
    """Whether HEAD (``head`` now) or git's index (``index_fp`` now) may be other than ``before`` saw."""
    return before["head"] != head or index_moved(before, index)


def since_git_moved(repo: Repo, before: Snapshot, head: str | None) -> list[str] | None:
    """The paths under .specweave/ that HEAD's move since ``before`` (to ``head``) changed, or that git's index has
    otherwise than HEAD (``gitops/moved.py``): with the paths whose stat changed, what a write's dirty check gives
    git after a commit, checkout, merge or ``git add`` of the user's, instead of a full ``git status`` (0.7 s at
    10,000 versions). None: git cannot say (the full check)."""
    if not before.get("head") or not head:
        return None
    from ..gitops.moved import moved_paths

    return moved_paths(repo, before["head"], head)


def to_check(repo: Repo, before: Snapshot | None, now: Snapshot) -> list[str] | None:
    """The registry paths a write's dirty check gives a path-limited ``git status``: those whose stat changed since
    ``before`` and, when HEAD or git's index moved since, those git says the move changed (``since_git_moved``).
    None: only the full ``git status`` can tell (no snapshot, git unable to say, more than ``MOVED_LIMIT`` paths)."""
    todo = changed(before, now)
    if todo is None and before is not None and (own := changed(before, now, heads=False)) is not None:
        moved = since_git_moved(repo, before, now["head"])
        todo = None if moved is None else sorted({*own, *moved})
    return None if todo is not None and len(todo) > MOVED_LIMIT else todo  # a checkout of many files: one walk


def index_moved(before: Snapshot, now: tuple[Any, ...] | None) -> bool:
    """Whether git's index may differ from the one ``before`` saw (``now`` is ``index_fp`` now)."""
    index = before["index"]
    if index != now:
        return True
    racy = index is not None and index[0] >= before["taken"]
    return racy and not (len(index) > 4 and index[4].strip("0"))


def _version_entries(root: str, inc_rel: str, out: dict[str, Any], metadata: dict[str, Any] | None) -> int:
    """Stat ``models/`` and each version folder of one increment into ``out`` (keys relative to the increment):
    ``models/<name>`` -> (the folder's stat, its metadata.json's). Returns the newest mtime seen."""
    fp = out["models"] = _fp(f"{root}/{inc_rel}/models")
    newest = fp[0] if fp else 0
    if fp is None:
        return newest
    try:
        fd = os.open(f"{root}/{inc_rel}/models", os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return newest
    try:
        with os.scandir(fd) as it:
            names = [e.name for e in it]
        prefix = f"{inc_rel}/models/"
        meta: Any
        for name in names:
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            rel = f"{prefix}{name}/metadata.json"
            if metadata is not None and rel in metadata:
                m = metadata[rel]  # stat'ed by the read that came just before: (mtime, size, ino)
                meta = (m[0], m[1], m[2], 0) if m else None
            elif S_ISDIR(st.st_mode) or (S_ISLNK(st.st_mode) and os.path.isdir(f"{root}/{prefix}{name}")):
                try:  # relative to the open folder, as lstat of the whole path would give it
                    got = os.stat(f"{name}/metadata.json", dir_fd=fd, follow_symlinks=False)
                    meta = (got.st_mtime_ns, got.st_size, got.st_ino, 0)
                except (FileNotFoundError, NotADirectoryError):
                    meta = None
            else:
                meta = None
            out[f"models/{name}"] = ((st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode), meta)
            newest = max(newest, st.st_mtime_ns, meta[0] if meta else 0)
    finally:
        os.close(fd)
    return newest


def _side_entries(root: str, inc_rel: str, out: dict[str, Any]) -> int:
    """Stat ``registry/`` and ``experiments/`` of one increment (small: every entry). Returns the newest mtime."""
    newest = 0
    reg = out["registry"] = _fp(f"{root}/{inc_rel}/registry")
    if reg is not None:
        try:
            with os.scandir(f"{root}/{inc_rel}/registry") as it:
                for e in it:
                    out[f"registry/{e.name}"] = _fp(e.path)
        except (FileNotFoundError, NotADirectoryError):
            pass
    exp = out["experiments"] = _fp(f"{root}/{inc_rel}/experiments")
    if exp is not None:
        base = f"{root}/{inc_rel}/"
        for dirpath, dirnames, filenames in os.walk(f"{root}/{inc_rel}/experiments"):
            rel_dir = dirpath[len(base) :].replace(os.sep, "/")
            for name in (*dirnames, *filenames):
                out[f"{rel_dir}/{name}"] = _fp(f"{dirpath}/{name}")
    for key, value in out.items():
        if value is not None and not key.startswith("models"):
            newest = max(newest, value[0])
    return newest


def _increment(root: str, inc_rel: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
    """One increment's part of the snapshot: its entries and the newest mtime among them."""
    entries: dict[str, Any] = {}
    newest = _version_entries(root, inc_rel, entries, metadata)
    side: dict[str, Any] = {}
    newest = max(newest, _side_entries(root, inc_rel, side))
    entries.update(side)
    return {"entries": entries, "newest": newest}


def scan(
    layout: Layout, docs_rel: str, repo: Repo, metadata: dict[str, Any] | None = None, taken: int | None = None
) -> Snapshot:
    """The snapshot of the registry's files now. ``metadata``: metadata.json path -> (mtime_ns, size, ino), as the
    index's read just stat'ed them (saves a second stat of each). ``taken``: ``fs_clock.fs_now`` before the first of
    those stats (the write's start, before its index read), else read now."""
    root = str(layout.root)
    return {
        "format": (STATE_FORMAT, sys.version_info[:2]),
        "taken": fs_clock.fs_now(layout) if taken is None else taken,
        "head": repo.head_commit(),
        "index": index_fp(repo),
        "docs": docs_rel,
        "top": {rel: _fp(f"{root}/{rel}") for rel in (".specweave/registry.yaml", docs_rel)},
        "increments": {inc.rel: _increment(root, inc.rel, metadata) for inc in layout.increments()},
    }


def refresh(
    snapshot: Snapshot, layout: Layout, repo: Repo, rels: Iterable[str], *, index: bool = True, head: str | None = None
) -> Snapshot:
    """``snapshot`` after a write changed ``rels`` (files or folders): only their entries are stat'ed again.
    ``index=False``: git's index is still being updated (``dumped`` and ``save_dumped`` complete the snapshot).
    ``head``: HEAD's commit when the caller knows it (the write's own commit), else read.

    The entries not stat'ed again keep the racy rule of the moment ``snapshot`` was taken (``settled``); those
    stat'ed here are taken after a new reading of the file system's clock, the new snapshot's."""
    taken = fs_clock.fs_now(layout)
    root = str(layout.root)
    since = snapshot["taken"]
    top = {rel: fp for rel, fp in snapshot["top"].items() if not (fp and fp[0] >= since)}
    increments = {inc: settled(part, since) for inc, part in snapshot["increments"].items()}
    known = {i.rel for i in layout.increments()}
    redo: set[str] = {inc for inc in known if inc not in increments}  # a folder the write created
    for rel in rels:
        if rel in snapshot["top"]:
            top[rel] = _fp(f"{root}/{rel}")
            continue
        inc = next((i for i in known if rel.startswith(i + "/")), None)
        if inc is None or inc in redo:
            continue
        part, _, rest = rel[len(inc) + 1 :].partition("/")
        if part != "models" or not rest:
            side: dict[str, Any] = {}
            newest = _side_entries(root, inc, side)  # registry/ and experiments/ are small: stat them again whole
            part_entries = {k: v for k, v in increments[inc]["entries"].items() if k.startswith("models")}
            part_entries.update(side)
            increments[inc] = {"entries": part_entries, "newest": max(newest, increments[inc]["newest"])}
            continue
        name = rest.split("/", 1)[0]
        entries = dict(increments[inc]["entries"])
        entries["models"] = _fp(f"{root}/{inc}/models")
        folder = _fp(f"{root}/{inc}/models/{name}")
        got = _fp(f"{root}/{inc}/models/{name}/metadata.json")
        meta = (got[0], got[1], got[2], 0) if got else None
        if folder is None:
            entries.pop(f"models/{name}", None)
        else:
            entries[f"models/{name}"] = (folder, meta)
        newest = max([increments[inc]["newest"], *(x[0] for x in (entries["models"], folder, meta) if x)])
        increments[inc] = {"entries": entries, "newest": newest}
    for inc in redo:
        increments[inc] = _increment(root, inc, None)
    for inc in [i for i in increments if i not in known]:
        del increments[inc]
    head = head or repo.head_commit()
    fresh = {**snapshot, "taken": taken, "head": head, "top": top, "increments": increments}
    return {**fresh, "index": index_fp(repo)} if index else fresh


def metadata_fps(
    snapshot: Snapshot, inc: str, prefix: str = "models/", also: AbstractSet[str] = frozenset()
) -> dict[str, Fp3]:
    """metadata.json path -> fingerprint of each version folder of increment ``inc`` in ``snapshot`` whose key
    (``models/<folder>``) starts with ``prefix`` or is in ``also``."""
    return {
        f"{inc}/{key}/metadata.json": entry[1][:3]
        for key, entry in snapshot["increments"][inc]["entries"].items()
        if key.startswith("models/") and entry[1] is not None and (key.startswith(prefix) or key in also)
    }


def guard_from(snapshot: Snapshot) -> Callable[[str, set[str]], dict[str, Fp3]]:
    """What a write's lazy index asks before it trusts a model's cached records (``Index.guard``; the narrowed check's
    ``ScopedCheck.check_model`` answers the same), answered from ``snapshot``, the full check's scan that found every
    registry file clean: metadata.json path -> fingerprint of each folder named like one of the model's versions in
    every increment, and of ``extra`` (other folders the index says are the model's)."""

    def guard(name: str, extra: set[str]) -> dict[str, Fp3]:
        odd: dict[str, set[str]] = {}
        for rel in extra:
            inc, _, rest = rel.rpartition("/models/")
            odd.setdefault(inc, set()).add("models/" + rest.split("/", 1)[0])
        out: dict[str, Fp3] = {}
        for inc in snapshot["increments"]:
            out.update(metadata_fps(snapshot, inc, f"models/{name}-v", odd.get(inc, frozenset())))
        return out

    return guard


def settled(part: dict[str, Any], since: int) -> dict[str, Any]:
    """An increment's part in which no entry is racy at ``since`` (the file system's clock before its stats): a
    version folder's entry that is becomes ``RECHECK`` (its key stays: the keys are the names of ``models/``), any
    other is left out (the next write finds it new). ``part`` itself when none is."""
    if part["newest"] < since:
        return part
    entries = {
        k: RECHECK if _newest(v) >= since else v
        for k, v in part["entries"].items()
        if k.startswith("models/") or _newest(v) < since
    }
    return {**part, "entries": entries}


def _newest(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value[0], tuple) or value[0] is None:  # a version: (folder, metadata.json)
        return max((v[0] for v in value if v), default=0)
    return int(value[0])


def changed(before: Snapshot | None, now: Snapshot, *, heads: bool = True) -> list[str] | None:
    """The registry paths to check with git, or None when only a full ``git status`` can tell (no snapshot yet,
    HEAD moved, git's index changed). ``heads=False``: the paths whose stat changed, whether HEAD and git's index
    moved or not (the caller adds what git says their move changed: ``git_moved``)."""
    if not before or before.get("format") != now["format"] or before.get("docs") != now["docs"]:
        return None
    taken = before["taken"]
    if heads and git_moved(before, now["head"], now["index"]):
        return None
    if before["increments"].keys() != now["increments"].keys():
        return None
    limit = taken
    out = [rel for rel, fp in now["top"].items() if before["top"].get(rel, False) != fp or (fp and fp[0] >= limit)]
    for inc, part in now["increments"].items():
        old, new = before["increments"][inc]["entries"], part["entries"]
        if part["newest"] < limit and old == new:  # compared in C: the usual case costs almost nothing
            continue
        out += [f"{inc}/{k}" for k, v in new.items() if old.get(k, False) != v or _newest(v) >= limit]
        out += [f"{inc}/{k}" for k in old.keys() - new.keys()]  # removed since
    return sorted(set(out))
