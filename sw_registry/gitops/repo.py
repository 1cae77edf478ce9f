"""The repository: its state and status, the write lock, and ``Repo`` put together from its parts."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import GitError, NotAGitRepo
from ..plain import Plain
from . import commits
from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)
from .run import FAST_OBJECTS, git_env, run_git

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .direct import Prepared
    from .gitvars import PendingVars, Vars
    from .net import NetProgress

# what a loose ref's name and an object id may hold (checked with str.strip: no regex compiled for a write)
_REF_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-"
_HEX = "0123456789abcdef"


def _read_small(path: str) -> str | None:
    """A small file's text (HEAD, a loose ref), None when it is missing or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 4096).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


class Repo(Plain):
    """A non-bare git work tree that holds the project root.

    Its own methods read the repository's state; making a commit (commits.py) and reading history (history.py)
    are functions of those modules, reached through the short methods at the end of this class."""

    __slots__ = ("toplevel", "git_dir", "common_dir", "prefix", "root", "hooks_dir")  # noqa: RUF023 (field order)

    def __init__(
        self, toplevel: Path, git_dir: Path, common_dir: Path, prefix: str, root: Path, hooks_dir: Path
    ) -> None:
        self.toplevel = toplevel
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.prefix = prefix  # root relative to toplevel, posix, '' or ending with '/'
        self.root = root
        self.hooks_dir = hooks_dir  # where git looks for hooks (core.hooksPath or .git/hooks)

    def git(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
        """Run git in the project root (run.run_git)."""
        return run_git(self.root, *args, **kw)

    # -- state ---------------------------------------------------------------------
    def head_ref(self) -> str | None:
        """'refs/heads/main', or None when HEAD is detached."""
        text = _read_small(f"{self.git_dir}/HEAD")
        if text is None:
            raise FileNotFoundError(self.git_dir / "HEAD")
        text = text.strip()
        return text[5:].strip() if text.startswith("ref:") else None

    def branch(self) -> str | None:
        ref = self.head_ref()
        return ref[len("refs/heads/") :] if ref and ref.startswith("refs/heads/") else ref

    def head_commit(self) -> str | None:
        """HEAD's commit id (None on an unborn branch): read from the ref file when it is a loose ref."""
        ref = self.head_ref()
        if ref is not None and ref[:5] == "refs/" and ref[5:] and not ref[5:].strip(_REF_CHARS) and ".." not in ref:
            text = (_read_small(f"{self.common_dir}/{ref}") or "").strip()
            if len(text) in (40, 64) and not text.strip(_HEX):
                return text
        proc = self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def operation_in_progress(self) -> str | None:
        for marker, what in (
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase or am"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
        ):
            if (self.git_dir / marker).exists():
                return what
        return None

    def index_lock(self) -> Path:
        return self.git_dir / "index.lock"

    def journal(self) -> Path:
        """Present while a registry write is changing files; left behind only by a killed write."""
        return self.common_dir / "sw-registry.journal"

    def identity(self) -> tuple[str, str] | None:
        """(name, email) of git's author identity as git resolves it, or None when unset."""
        proc = self.git("var", "GIT_AUTHOR_IDENT", check=False)
        if proc.returncode != 0:
            return None
        m = re.match(r"^(.*?) <(.*)> \d+ [+-]\d{4}$", proc.stdout.decode("utf-8", "replace").strip())
        return (m.group(1), m.group(2)) if m else None

    def changed_paths(self, ignored: bool = False, paths: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(status, root-relative path) of everything git sees changed under .specweave/ (or only at ``paths``).

        ``ignored`` also lists ignored files (what ``--repair`` needs, and slower: git walks ignored folders).
        """
        return self.start_changed_paths(ignored, paths)()

    def start_changed_paths(
        self, ignored: bool = False, paths: Sequence[str] | None = None
    ) -> Callable[[], list[tuple[str, str]]]:
        """Start ``changed_paths`` in the background; call the result to wait for it (overlaps our reads)."""
        args = ["git", "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]
        if ignored:
            args.append("--ignored=matching")
        if paths is not None:
            args.insert(1, "--literal-pathspecs")
        where = [".specweave"] if paths is None else list(paths)
        proc = subprocess.Popen(
            [*args, "--", *where], cwd=self.root, env=git_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

        def result() -> list[tuple[str, str]]:
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                raise GitError(
                    f"git status failed: {stderr.decode('utf-8', 'replace').strip()}", hint="see git's message above"
                )
            return self._parse_status(stdout)

        return result

    def _parse_status(self, stdout: bytes) -> list[tuple[str, str]]:
        out = []
        for entry in stdout.decode("utf-8", "surrogateescape").split("\0"):
            if len(entry) < 4:
                continue
            path = entry[3:]
            if self.prefix and path.startswith(self.prefix):
                path = path[len(self.prefix) :]
            out.append((entry[:2], path))
        return out

    # -- publishing (--push) -------------------------------------------------------------
    def push_target(self) -> tuple[str, str]:
        """(remote, branch) to push to: the branch's upstream, else origin and the same branch name."""
        proc = self.git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", check=False)
        upstream = proc.stdout.decode().strip() if proc.returncode == 0 else ""
        remotes = self.git("remote").stdout.decode().split()
        for remote in sorted(remotes, key=len, reverse=True):
            if upstream.startswith(remote + "/"):
                return remote, upstream[len(remote) + 1 :]
        branch = self.branch()
        if "origin" not in remotes or not branch:
            raise GitError(
                "--push needs a remote: this branch has no upstream and there is no 'origin'",
                hint="git remote add origin URL && git push -u origin BRANCH",
            )
        return "origin", branch

    def push(self, remote: str, branch: str, progress: NetProgress | None = None) -> bool:
        """Push HEAD to ``remote``'s ``branch``: True when it landed, False when it was rejected as out of date."""
        from .net import net_push  # GitPython's wrapper: --push only

        return net_push(self, remote, branch, progress)

    def switch_to(self, ours: str, theirs: str) -> None:
        """Move the branch from ``ours`` to ``theirs``, updating index and files the way ``git checkout`` does:
        the user's staged and unstaged changes are carried along (git refuses if they would be overwritten)."""
        proc = self.git("read-tree", "-m", "-u", ours, theirs, check=False)
        if proc.returncode != 0:
            from ..errors import Conflict

            raise Conflict(
                "cannot move to the remote head: " + proc.stderr.decode("utf-8", "replace").strip(),
                hint="commit or stash your local changes to those files, then run the command again",
            )
        self.git("update-ref", "-m", "sw-registry: re-run on the remote head", "HEAD", theirs, ours)

    def restore_to_head(self, paths: Sequence[str]) -> list[str]:
        """Put ``paths`` (index and work tree) back as HEAD has them; returns those HEAD does not have."""
        if not paths:
            return []
        head = self.head_commit()
        tracked: set[str] = set()
        if head:
            proc = self.git(
                "ls-tree", "-r", "-z", "--name-only", "--full-tree", head, "--", *[self.prefix + p for p in paths]
            )
            tracked = {p[len(self.prefix) :] if self.prefix else p for p in proc.stdout.decode().split("\0") if p}
        self.unstage(paths, had_head=head is not None)
        keep = [p for p in paths if p in tracked]
        if keep:
            self.git("checkout", "-q", "HEAD", "--", *keep)
        return [p for p in paths if p not in tracked]

    # -- commits ---------------------------------------------------------------------
    def stage(self, paths: Sequence[str]) -> None:
        self.git(*FAST_OBJECTS, "add", "-f", "-A", "--", *paths)

    def unstage(self, paths: Sequence[str], had_head: bool) -> None:
        if had_head:
            self.git("reset", "-q", "HEAD", "--", *paths, check=False)
        else:
            self.git("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *paths, check=False)

    # -- commits (commits.py) and history (history.py) -------------------------------------------
    def runs_commit_hooks(self) -> bool:
        return commits.runs_commit_hooks(self)

    def commit(
        self, message: str, paths: Sequence[str], env: dict[str, str] | None = None, *, head: str | None = None,
        sign: bool = False, prepared: Prepared | None = None,
    ) -> tuple[str, str]:
        return commits.commit(self, message, paths, env, head=head, sign=sign, prepared=prepared)

    def prepare_commit(
        self, message: str, paths: Sequence[str], env: dict[str, str] | None, head: str | None, vars: Vars
    ) -> Prepared | None:
        """The commit's objects written by us (gitops/direct.py), or None where git must make it."""
        from .direct import prepare

        return prepare(self, message, paths, git_env(env), head, vars)

    def create_commit(
        self, tree: str, head: str | None, message: str, env: dict[str, str], *, sign: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        return commits.create_commit(self, tree, head, message, env, sign=sign)

    def seq_commits(self, name: str, since: str | None = None) -> dict[int, str]:
        from . import history  # imported by the reads of history only, as net.py by --push only

        return history.seq_commits(self, name, since)

    def is_ancestor(self, older: str, newer: str) -> bool:
        from . import history

        return history.is_ancestor(self, older, newer)

    def registry_log(self, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        from . import history

        return history.registry_log(self, since, until)

    def unmarked_log(self) -> list[dict[str, Any]]:
        from . import history

        return history.unmarked_log(self)

    def resolve_rev(self, rev: str) -> str:
        from . import history

        return history.resolve_rev(self, rev)

    def ls_tree(self, commit: str, path: str) -> dict[str, tuple[str, str, int]]:
        from . import history

        return history.ls_tree(self, commit, path)

    def read_blobs(self, oids: Sequence[str]) -> dict[str, bytes]:
        from . import history

        return history.read_blobs(self, oids)

    def blob_to_file(self, oid: str, dest: Path) -> None:
        from . import history

        history.blob_to_file(self, oid, dest)


def open_repo(root: Path, pending: PendingVars | None = None) -> Repo:
    """The repository holding ``root``; refuses bare repositories and folders outside git. With ``pending`` (git's
    settings, being read), the plain case is answered from the file system (discover.py), the rest by git."""
    if pending is not None:
        from .discover import plain_repo

        found = plain_repo(root, pending)
        if found is not None:
            return _repo(root, *found)
    proc = run_git(
        root,
        "rev-parse",
        "--is-bare-repository",
        "--absolute-git-dir",
        "--git-common-dir",
        "--show-toplevel",
        "--git-path",
        "hooks",
        check=False,
    )
    lines = proc.stdout.decode().splitlines()
    if lines and lines[0] == "true":
        raise GitError(f"{root} is a bare git repository", hint="run sw-registry in a clone with a work tree")
    if proc.returncode != 0 or len(lines) < 4:
        raise NotAGitRepo(
            f"{root} is not inside a git work tree",
            hint="run 'git init' (or 'sw-registry init --git') first; registry writes are git commits",
        )
    git_dir = Path(lines[1])
    common = Path(lines[2])
    if not common.is_absolute():
        common = (root / common).resolve()
    top = Path(lines[3]).resolve()
    hooks = Path(lines[4]) if len(lines) > 4 else git_dir / "hooks"
    hooks = hooks if hooks.is_absolute() else (root / hooks).resolve()
    return _repo(root, top, git_dir, common, hooks)


def _repo(root: Path, top: Path, git_dir: Path, common: Path, hooks: Path) -> Repo:
    rel = os.path.relpath(root.resolve(), top)
    prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
    return Repo(toplevel=top, git_dir=git_dir, common_dir=common, prefix=prefix, root=root, hooks_dir=hooks)


def check_repo(repo: Repo, *, allow_detached: bool, branch_policy: str | None, check_index_lock: bool = True) -> None:
    """Refuse a write where git is mid-operation, HEAD is detached (unless allowed), the branch is not the policy's,
    or git's index.lock is there."""
    what = repo.operation_in_progress()
    if what:
        raise GitError(
            f"{what} is in progress in this repository",
            hint="finish or abort it (git merge --abort / git rebase --abort) and run the command again",
        )
    branch = repo.branch()
    if branch is None and not allow_detached:
        raise GitError(
            "HEAD is detached; a registry write would land on no branch",
            hint="check out a branch (git switch main), or pass --allow-detached",
        )
    if branch_policy and branch != branch_policy:
        raise GitError(
            f"registry writes may only land on branch {branch_policy!r} (registry.yaml), not {branch!r}",
            hint=f"git switch {branch_policy}, or change 'branch' in .specweave/registry.yaml",
        )
    if check_index_lock and repo.index_lock().exists():
        raise GitError(
            "git's index.lock exists: another git command is running, or one was killed",
            hint="wait for it; if none is running, 'sw-registry registry-verify --repair' clears a stale lock",
        )
