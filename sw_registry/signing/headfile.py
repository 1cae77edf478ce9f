"""The signers file as HEAD has it (the committed list is the one that counts), without a git process when the
work tree's copy is HEAD's.

A memo in the git directory (``<git dir>/sw-registry-signers.json``: never committed, never cloned) holds the id of
the blob HEAD has at that path, for one HEAD commit. Each registry commit that does not change the file carries
the memo forward to the new HEAD (``note_commit``); any other move of HEAD (a commit by hand, a pull, a checkout,
a rebase, a reset) leaves it behind, and the next read asks git once (``git cat-file --batch``) and remembers again.
The work-tree file is used, read and pointed at directly, only while its bytes hash to that blob id; otherwise (an
uncommitted edit, a line-ending filter) git's copy is used, through a copy in the git directory named by its
blob id when git needs a path (a kill leaves no stray temporary file behind).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..gitops import Repo

MEMO = "sw-registry-signers.json"


@dataclass(frozen=True)
class HeadFile:
    text: str | None  # the file as HEAD has it; None when HEAD has no such file
    path: Path | None  # the work-tree file, when its bytes are HEAD's


def blob_id(data: bytes, hex_len: int) -> str:
    """The id git gives a blob with these bytes (sha1, or sha256 in a sha256 repository)."""
    algo = hashlib.sha1 if hex_len == 40 else hashlib.sha256
    return algo(b"blob %d\0" % len(data) + data).hexdigest()


def _load(repo: Repo) -> dict[str, str | None] | None:
    try:
        data = json.loads((repo.git_dir / MEMO).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("head", "rel")):
        return None
    oid = data.get("oid")
    return data if oid is None or (isinstance(oid, str) and len(oid) in (40, 64)) else None


def _save(repo: Repo, memo: dict[str, str | None] | None) -> None:
    path = repo.git_dir / MEMO
    try:
        if memo is None:
            path.unlink(missing_ok=True)
            return
        fd, tmp = tempfile.mkstemp(dir=repo.git_dir, prefix=".sw-registry-signers.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(memo, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only repository: every read asks git


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _from_git(repo: Repo, rel: str) -> tuple[str | None, bytes | None, bool]:
    """(blob id, bytes, sure) of ``rel`` in HEAD, in one ``git cat-file --batch``: (None, None, True) when HEAD lacks
    it, ``sure`` False when git failed otherwise (nothing to remember then)."""
    from ..gitops.signatures import head_blob

    return head_blob(repo, rel)


def head_file(repo: Repo, rel: str) -> HeadFile:
    """``rel`` (project-relative) as HEAD has it, and the work-tree path when that file is byte for byte the same."""
    head = repo.head_commit()
    full = repo.root / rel
    memo = _load(repo)
    if head is not None and memo is not None and memo["head"] == head and memo["rel"] == rel:
        oid = memo["oid"]
        if oid is None:
            return HeadFile(None, None)
        data = _read(full)
        if data is not None and blob_id(data, len(oid)) == oid:
            return HeadFile(data.decode("utf-8", "replace"), full)
    oid, blob, sure = _from_git(repo, rel)
    if head is not None and sure:
        _save(repo, {"head": head, "rel": rel, "oid": oid})
    if blob is None:
        return HeadFile(None, None)
    return HeadFile(blob.decode("utf-8", "replace"), full if _read(full) == blob else None)


def signers_text(repo: Repo, rel: str) -> str | None:
    """The signers file as HEAD has it, or None when HEAD lacks it."""
    return head_file(repo, rel).text


def note_commit(repo: Repo, parent: str | None, commit: str | None, paths: Sequence[str]) -> None:
    """A registry write committed ``paths`` as ``commit`` on ``parent``: carry a memo for ``parent`` over to ``commit``
    when the commit leaves the signers file alone and no commit hook ran (else drop it: the next read asks git)."""
    memo = _load(repo)
    if memo is None or parent is None or commit is None or memo["head"] != parent:
        return
    # a commit hook may have committed more than ``paths``: then only git can say what HEAD has
    changed = memo["rel"] in paths or repo.runs_commit_hooks()
    _save(repo, None if changed else {**memo, "head": commit})


COPY = "sw-registry-signers-"  # + the blob id: HEAD's signers file, for git, when the work tree's copy differs
STALE = 24 * 3600  # copies of other contents unused that long go when a new copy is written


def _copy(repo: Repo, data: bytes) -> str | None:
    """HEAD's signers file as ``<git dir>/sw-registry-signers-<blob id>``, for git to read: named by its content,
    so a process killed while git reads it leaves nothing stray (the next check with that content uses it again).
    None when the git directory is read-only."""
    path = repo.git_dir / (COPY + blob_id(data, 40))
    try:
        if _read(path) == data:
            os.utime(path)  # in use: not stale
            return str(path)
        fd, tmp = tempfile.mkstemp(dir=repo.git_dir, prefix="." + COPY)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        now = time.time()
        for old in [*repo.git_dir.glob(COPY + "*"), *repo.git_dir.glob("." + COPY + "*")]:
            with contextlib.suppress(OSError):
                if old != path and now - old.stat().st_mtime > STALE:
                    old.unlink()
    except OSError:
        return None
    return str(path)


@contextlib.contextmanager
def allowed_signers(repo: Repo, rel: str | None) -> Iterator[str]:
    """A path for ``gpg.ssh.allowedSignersFile`` with the signers file as HEAD has it (empty when there is none): the
    work-tree file itself when it is HEAD's, else a copy in the git directory named by its content (``_copy``), or
    a temporary file removed on the way out when the git directory is read-only."""
    found = head_file(repo, rel) if rel else HeadFile(None, None)
    if found.path is not None:
        yield os.path.abspath(found.path)
        return
    data = (found.text or "").encode("utf-8")
    copy = _copy(repo, data)
    if copy is not None:
        yield copy
        return
    fd, path = tempfile.mkstemp(prefix=COPY)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
