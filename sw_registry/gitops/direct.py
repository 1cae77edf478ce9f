"""A registry commit whose objects we write ourselves: fewer git processes, and nothing that reads the whole index.

``prepare`` hashes the files at the write's paths and writes their blobs, the changed trees (HEAD's trees with
only those paths replaced: ``commits.head_trees``) and the commit object as loose objects (``loose.py``), exactly
as ``git add`` and ``git commit-tree`` would (a test compares the ids). ``land`` then moves HEAD from the commit
the write began on (refused if it moved: compare-and-swap, with git's reflog), as ``git update-ref`` would: by
git's files ref backend's own steps where that is all git would do (``refs.py``), else by ``git update-ref``; and
puts the paths in git's index with one ``git update-index`` (their ids, and their stat data: git's index stays
as ``git add`` leaves it), which runs while the write finishes its own work (``IndexUpdate``; ``run.settle`` waits
for it before the journal is cleared and the lock released). Objects, then the ref, then the index: a write
killed in between leaves its journal, and ``registry-verify --repair`` puts the paths back as HEAD has them.

A file over ``BIG_FILE_BYTES`` (a big artifact) is stored as ``git add`` stores it, in a pack of its own without
zlib (``packfile.py``), hashed with OpenSSL's SHA-1; the index then gets our paths from
``index_file.update`` rather than from ``git update-index``, which would hash that file again with git's far slower
SHA-1 (10-37 s per GiB here). Where it declines, ``git update-index`` runs as for any commit.

Where git would do something of its own the commit goes git's way instead (``prepare`` returns None): commit hooks,
signing (``require_signed``), a sha256 repository, content filters or line-ending conversion (any attributes file,
core.autocrlf), symlinks, ``core.fileMode`` off, a shared repository, an fsync'd object store, a non-UTF-8 commit
encoding, and identities git guesses.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Mapping, Sequence

from . import loose, refs
from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)
from .commits import runs_commit_hooks, settle_trees, trees_with
from .gitvars import Vars, ident_line
from .run import run_git

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from pathlib import Path

    from .repo import Repo

BIG_FILE_BYTES = 64 * 1024 * 1024  # run.BIG_FILE_THRESHOLD: bigger files are stored without zlib
Trees = dict[str, dict[str, tuple[str, str]]]


class Prepared:
    """A commit written but not yet on HEAD: its id, the commit it follows, and what the index gets."""

    __slots__ = ("commit", "head", "index_paths", "indexed", "subject", "trees", "vars")

    def __init__(
        self, commit: str, head: str | None, subject: str, index_paths: list[str], trees: Trees, vars: Vars
    ) -> None:
        self.commit, self.head, self.subject, self.index_paths, self.trees = commit, head, subject, index_paths, trees
        self.vars = vars  # git's settings and identities (``git var -l``): the reflog's, whether housekeeping is due
        # with a big file: (path, mode, id, stat) of each file and the paths gone, for index_file.update
        self.indexed: tuple[list[tuple[str, int, str, os.stat_result]], list[str]] | None = None

    @property
    def config(self) -> dict[str, str | None]:
        return self.vars.config


def usable(repo: Repo, vars: Vars | None, ours: Sequence[str]) -> bool:
    """Whether git would store these paths' files unchanged and write the commit we would (see the module)."""
    if vars is None:
        return False
    config, flag = vars.config, vars.flag
    if config.get("extensions.objectformat", "sha1") != "sha1":  # commit.gpgSign: commit-tree ignores it too
        return False
    if (config.get("i18n.commitencoding") or "utf-8").lower() not in ("utf-8", "utf8"):
        return False
    if "core.autocrlf" in config and (config["core.autocrlf"] or "true").lower() not in ("false", "no", "off", "0"):
        return False
    if "core.attributesfile" in config or "core.sharedrepository" in config or "core.fsync" in config:
        return False
    if flag("core.fsyncobjectfiles") or any(k in config and not flag(k) for k in ("core.filemode", "core.symlinks")):
        return False
    try:
        loose.loose_level(config)
    except ValueError:
        return False
    return not any(os.path.lexists(p) for p in _attribute_files(repo, ours))


def _attribute_files(repo: Repo, ours: Sequence[str]) -> list[str]:
    folders = {""}
    for p in ours:
        while p:
            p = p.rpartition("/")[0]
            folders.add(p)
    top = str(repo.toplevel)
    found = [f"{top}/{d}/.gitattributes" if d else f"{top}/.gitattributes" for d in folders]
    found.append(str(repo.common_dir / "info" / "attributes"))
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    found.append(os.path.join(xdg, "git", "attributes"))
    if not os.environ.get("GIT_ATTR_NOSYSTEM"):
        found.append("/etc/gitattributes")
    return found


Found = tuple[dict[str, tuple[str, str]], list[str], list[tuple[str, int, str, os.stat_result]] | None]


def _blobs(repo: Repo, ours: Sequence[str], level: int) -> Found | None:
    """path -> (mode, blob id) of every file at or below ``ours`` (blobs written), the paths that are gone, and,
    when one file is big, what our own index update needs of each (``index_file.update``); None when a file must go
    git's way. A big file (over ``BIG_FILE_BYTES``) is stored without zlib in a pack of its own (packfile.py)."""
    objects = repo.common_dir / "objects"
    top = str(repo.toplevel)
    staged: dict[str, tuple[str, str]] = {}
    gone: list[str] = []
    seen: list[tuple[str, int, str, os.stat_result]] = []
    big = False
    todo = list(ours)
    while todo:
        rel = todo.pop()
        name = rel.rpartition("/")[2]
        if name in (".git", ".gitattributes"):
            return None
        path = f"{top}/{rel}"
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            gone.append(rel)
            continue
        if stat.S_ISDIR(st.st_mode):
            todo.extend(f"{rel}/{entry}" for entry in os.listdir(path))
        elif stat.S_ISREG(st.st_mode):
            mode = "100755" if st.st_mode & stat.S_IXUSR else "100644"
            large = st.st_size > BIG_FILE_BYTES
            big = big or large
            if large:  # stored without zlib in a pack of its own, as git add stores it (packfile.py)
                from .packfile import write_file_pack

                oid = write_file_pack(objects, path, st.st_size)
            else:
                oid = loose.write_file_blob(objects, path, st.st_size, level)
            staged[rel] = (mode, oid)
            seen.append((rel, int(mode, 8), oid, st))
        else:  # a symlink, a socket...
            return None
    if big and any(_changed(f"{top}/{rel}", st) for rel, _m, _o, st in seen):
        return None  # a file changed while it was hashed: git's way reads it again
    return staged, gone, seen if big else None


def _changed(path: str, st: os.stat_result) -> bool:
    try:
        now = os.lstat(path)
    except OSError:
        return True
    return (now.st_mtime_ns, now.st_ctime_ns, now.st_size, now.st_ino) != (st.st_mtime_ns, st.st_ctime_ns,
                                                                          st.st_size, st.st_ino)


def prepare(
    repo: Repo, message: str, paths: Sequence[str], env: Mapping[str, str], head: str | None, vars: Vars | None
) -> Prepared | None:
    """Write the commit of ``paths`` on ``head`` (objects only; ``land`` puts it on HEAD), or None: git's way."""
    ours = [repo.prefix + p.rstrip("/") for p in paths]
    if vars is None or runs_commit_hooks(repo) or not usable(repo, vars, ours):
        return None
    now = time.time()
    author, committer = ident_line(vars, "author", env, now), ident_line(vars, "committer", env, now)
    if author is None or committer is None:
        return None
    level = loose.loose_level(vars.config)
    found = _blobs(repo, ours, level)
    if found is None:
        return None
    staged, gone, indexed = found
    old: dict[str, tuple[str, str]] = {}
    trees = trees_with(repo, head, ours, staged, old)
    if any(mode == "40000" for mode, _oid in old.values()):
        return None  # a folder of HEAD's replaced: its old entries would stay in the index; git's way is simpler
    objects = repo.common_dir / "objects"
    bodies: dict[str, bytes] = {}
    settled = settle_trees(trees, "sha1", bodies)  # bottom-up: the last is the top folder's
    for d, oid in settled:
        loose.write_object(objects, "tree", bodies[d], level, oid)
    tree = settled[-1][1]
    body = loose.commit_body(tree, head, author, committer, message.encode("utf-8"))
    commit = loose.write_object(objects, "commit", body, level)
    index_paths = sorted({*staged, *gone})
    made = Prepared(commit, head, message.split("\n", 1)[0], index_paths, trees, vars)
    made.indexed = None if indexed is None else (indexed, gone)
    return made


def _move_head(repo: Repo, made: Prepared, reflog: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """HEAD's branch moved to ``made.commit`` from ``made.head`` (refs.py, as git's files backend does it), or by
    ``git update-ref`` where git must (refs.plan); a refusal is returned as git's failed run would be."""
    how = refs.plan(repo, made.vars.config, made.head)
    committer = ident_line(made.vars, "committer", env, time.time()) if how is not None else None
    if how is not None and committer is not None and made.head is not None:
        refused = refs.move(repo, how, made.head, made.commit, committer, reflog)
        if refused is None:
            return subprocess.CompletedProcess(["update-ref"], 0, b"", b"")
        if refused:
            return subprocess.CompletedProcess(["update-ref"], 128, b"", refused.encode("utf-8", "replace"))
    return run_git(repo.root, "update-ref", "-m", reflog, "HEAD", made.commit, made.head or "", env=env, check=False)


# a list this long is written into the pipe before git starts reading it: 16 KiB is what an empty pipe holds on
# every system we run on (Linux holds 64 KiB, macOS 16 KiB to start); a longer list is fed while git reads
PIPE_BYTES = 16384


class IndexUpdate:
    """``git update-index`` of a landed commit's paths, running while the write finishes its own work; ``wait``
    waits for it (before the journal is cleared and the lock released: ``run.settle``)."""

    __slots__ = ("proc", "rest")

    def __init__(self, cwd: Path, listed: bytes, env: dict[str, str]) -> None:
        # --info-only: the blobs are written; git reads each file's stat data (and id) as ``git add`` would
        args = ["git", "update-index", "--add", "--remove", "--replace", "--info-only", "-z", "--stdin"]
        pipe = subprocess.PIPE
        self.rest: bytes | None = listed
        if len(listed) <= PIPE_BYTES:  # the list goes into a pipe of our own whole: nothing left to feed later
            r, w = os.pipe()
            try:
                os.write(w, listed)
            finally:
                os.close(w)
            self.rest = None
            try:
                self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=r, stdout=pipe, stderr=pipe)
            finally:
                os.close(r)
        else:
            self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=pipe, stdout=pipe, stderr=pipe)

    def wait(self) -> subprocess.CompletedProcess[bytes]:
        out, err = self.proc.communicate(self.rest)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


def land(repo: Repo, made: Prepared, env: dict[str, str]) -> subprocess.CompletedProcess[bytes] | IndexUpdate:
    """Move HEAD to the prepared commit (only from the commit the write began on), then update git's index for our
    paths: by ``index_file`` for a commit with a big file (a finished result is returned), else by starting
    ``git update-index``. Returns update-ref's result if it failed, else the index update (running or done)."""
    reflog = f"commit: {made.subject}" if made.head else f"commit (initial): {made.subject}"
    moved = _move_head(repo, made, reflog, env)
    if moved.returncode != 0:
        return moved
    if made.indexed is not None:  # a big file: git would hash it again, slowly; the index gets what we hashed
        from . import index_file

        if index_file.update(repo, *made.indexed):
            return subprocess.CompletedProcess(["update-index"], 0, b"", b"")
    listed = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in made.index_paths)
    return IndexUpdate(repo.toplevel, listed, env)
