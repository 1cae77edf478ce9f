"""Every git call lives here: repository checks, the write lock, commits with trailers, reads at a rev.

Local work calls the ``git`` binary: importing GitPython costs 100-250 ms, more than a whole promote may
take, and history and audit need one ``git log`` with its trailers, which the binary gives directly.
Network work (clone, fetch, push: environments and ``--push``) goes through GitPython, imported lazily at
the end of this module, where its import is small beside the network round trip.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import GitError, Locked, NotAGitRepo, RegistryError

# variables that would redirect git to another repository or index (identity variables stay)
_STRIP_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE", "GIT_PREFIX")
# SPEC §7.1: big files (artifacts above core.bigFileThreshold) are streamed straight into a pack, and that pack is
# written without zlib (pack.compression=0): they rarely compress and deflate made a 1 GiB commit ~16x slower.
# Every other object (metadata, derived files, trees, commits) keeps git's normal compression, so the repository
# stays about as small as plain git keeps it (issue 10: 518 MB of loose objects after 1,500 versions otherwise).
BIG_FILE_THRESHOLD = "64m"
FAST_OBJECTS = ("-c", "pack.compression=0", "-c", f"core.bigFileThreshold={BIG_FILE_THRESHOLD}")
LOCK_NAME = "sw-registry.lock"
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-rewrite")


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV}
    env.setdefault("LC_ALL", "C")
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def run_git(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    hint: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    # a NUL can come only from the API (argv cannot hold one), and git could not take it either
    if any("\0" in a for a in args) or (env and any("\0" in v for v in env.values())):
        from .errors import InvalidInput

        raise InvalidInput("a value passed to git contains a NUL byte", hint="remove the NUL character")
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, env=env or git_env(), check=False
        )
    except FileNotFoundError:
        raise NotAGitRepo("git is not installed", hint="install git and try again") from None
    if check and proc.returncode != 0:
        out = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        raise GitError(f"git {args[0] if args else ''} failed: {out}", hint=hint or "see git's message above")
    return proc


@dataclass(frozen=True)
class Repo:
    """A non-bare git work tree that holds the project root."""

    toplevel: Path
    git_dir: Path
    common_dir: Path
    prefix: str  # root relative to toplevel, posix, '' or ending with '/'
    root: Path
    hooks_dir: Path  # where git looks for hooks (core.hooksPath or .git/hooks)

    def runs_commit_hooks(self) -> bool:
        """Whether ``git commit`` would run a hook here (then we commit with it, so the hook runs)."""
        for name in COMMIT_HOOKS:
            hook = self.hooks_dir / name
            if hook.is_file() and os.access(hook, os.X_OK):
                return True
        return False

    def git(self, *args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
        return run_git(self.root, *args, **kw)  # type: ignore[arg-type]

    # -- state ---------------------------------------------------------------------
    def head_ref(self) -> str | None:
        """'refs/heads/main', or None when HEAD is detached."""
        text = (self.git_dir / "HEAD").read_text(encoding="utf-8").strip()
        return text[5:].strip() if text.startswith("ref:") else None

    def branch(self) -> str | None:
        ref = self.head_ref()
        return ref[len("refs/heads/") :] if ref and ref.startswith("refs/heads/") else ref

    def head_commit(self) -> str | None:
        """HEAD's commit id (None on an unborn branch): read from the ref file when it is a loose ref."""
        ref = self.head_ref()
        if ref is not None and re.fullmatch(r"refs/[A-Za-z0-9._/-]+", ref) and ".." not in ref:
            try:
                text = (self.common_dir / ref).read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError):
                text = ""
            if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text):
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
        return net_push(self, remote, branch, progress)

    def switch_to(self, ours: str, theirs: str) -> None:
        """Move the branch from ``ours`` to ``theirs``, updating index and files the way ``git checkout`` does:
        the user's staged and unstaged changes are carried along (git refuses if they would be overwritten)."""
        proc = self.git("read-tree", "-m", "-u", ours, theirs, check=False)
        if proc.returncode != 0:
            from .errors import Conflict

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

    def commit(
        self,
        message: str,
        paths: Sequence[str],
        env: dict[str, str] | None = None,
        *,
        head: str | None = None,
        sign: bool = False,
    ) -> tuple[str, str]:
        """Commit exactly ``paths`` as ``stage`` put them in the index; the user's other staged changes stay staged.

        Without commit hooks (the usual case) the commit's tree is HEAD's tree with only ``paths`` replaced
        (``_tree_with``), so its cost follows the change, not the size of the repository or of the index.
        Where a commit hook would run, ``git commit`` runs it (``_commit_with_hooks``). ``head`` is HEAD's commit
        (the caller holds the write lock). Returns the commit id and what the hooks printed.
        """
        if self.runs_commit_hooks():
            proc = self._commit_with_hooks(message, paths, env, head, sign=sign)
        else:
            proc = self._commit_paths(message, paths, head, git_env(env), sign=sign)
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
            hint = "fix the problem git reports and run the command again"
            if "tell me who you are" in output or "unable to auto-detect email" in output:
                hint = "pass --actor EMAIL or set git config user.name and user.email"
            elif sign and ("sign" in output or "ssh-keygen" in output or "gpg" in output):
                hint = "git could not sign the commit: check user.signingkey and gpg.format (git config -l)"
            elif "hook" in output or (self.git_dir / "hooks" / "pre-commit").exists():
                hint = "a git hook refused the commit; fix what it reports (its output is in details.hook_output)"
            raise GitError(f"git commit failed: {output}", hint=hint, details={"hook_output": output})
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()  # what hooks printed
        new_head = self.head_commit()
        if not new_head or new_head == head:
            raise GitError("git commit reported success but HEAD did not move", hint="run 'git status' and retry")
        return new_head, output

    def _commit_with_hooks(
        self, message: str, paths: Sequence[str], env: dict[str, str] | None, head: str | None, *, sign: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        """``git commit`` on a temporary index, so that the hooks run (and see what they would with --only).

        What ``git commit --only -- <paths>`` does, but hashing each file once (git's --only adds the
        paths to a temporary index again, re-hashing every byte: 12 s more for a 1 GiB artifact here).
        Our temporary index is a copy of the real one, stat data and all, with anything else the user
        staged put back to HEAD; so the commit neither hashes again nor takes the user's staged work.
        ``git commit`` also runs git's automatic housekeeping itself.
        """
        tmp = self.git_dir / f"sw-registry-index-{os.getpid()}"
        tmp_env = git_env({**(env or {}), "GIT_INDEX_FILE": str(tmp)})
        ours = [self.prefix + p for p in paths]  # from the top of the work tree, as git prints paths
        try:
            shutil.copyfile(self.git_dir / "index", tmp)
            if head:
                staged = self.git("diff-index", "--cached", "--name-only", "-z", "--no-renames", "HEAD", "--").stdout
            else:
                staged = run_git(self.toplevel, "ls-files", "-z").stdout  # unborn: everything staged is new
            others = [
                p
                for p in staged.decode("utf-8", "surrogateescape").split("\0")
                if p and p not in ours and not any(p.startswith(o + "/") for o in ours)
            ]
            if others:  # the user's staged work stays staged in the real index, out of this commit
                restore = ["reset", "-q", "HEAD", "--"] if head else ["rm", "-q", "--cached", "--"]
                run_git(self.toplevel, "--literal-pathspecs", *restore, *others, env=tmp_env)
            # no FAST_OBJECTS here: the blobs exist (``stage`` wrote them), and git passes -c settings on to the
            # housekeeping ``git commit`` starts, whose repack must keep git's normal compression
            # git's -S signs with the user's key, gpg.format as they configured it (SPEC §6)
            commit = ("commit", "-q", "--no-edit", *(["-S"] if sign else []), "-F", "-")
            return run_git(self.root, *commit, input=message.encode("utf-8"), env=tmp_env, check=False)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + ".lock")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def _commit_paths(
        self, message: str, paths: Sequence[str], head: str | None, env: dict[str, str], *, sign: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        """A commit of HEAD's tree with ``paths`` as the index has them, made with plumbing (no hook would run).

        ``git commit`` would refresh the whole index (an lstat of every tracked file) and write-tree would read and
        write all of it; here git reads only the index entries of ``paths``, the trees on the way to them, and
        writes those trees again. Then git's automatic housekeeping starts, as after ``git commit``.
        """
        tree = self._tree_with(head, paths)
        if isinstance(tree, subprocess.CompletedProcess):
            return tree
        made = self.create_commit(tree, head, message, env, sign=sign)
        if made.returncode == 0:
            start_housekeeping(self.root)
        return made

    def create_commit(
        self, tree: str, head: str | None, message: str, env: dict[str, str], *, sign: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        """commit-tree and update-ref: the one place a commit object is made; ``sign`` is git's -S (SPEC §6)."""
        parents = ["-p", head] if head else []
        signing = ["-S"] if sign else []
        made = run_git(
            self.root, "commit-tree", tree, *parents, *signing, input=message.encode("utf-8"), env=env, check=False
        )
        if made.returncode != 0:
            return made
        commit = made.stdout.decode().strip()
        subject = message.split("\n", 1)[0]
        reflog = f"commit: {subject}" if head else f"commit (initial): {subject}"
        # the old value makes the update fail if HEAD moved since the write began
        moved = run_git(self.root, "update-ref", "-m", reflog, "HEAD", commit, head or "", env=env, check=False)
        return moved if moved.returncode != 0 else subprocess.CompletedProcess(made.args, 0, b"", made.stderr)

    def _tree_with(self, head: str | None, paths: Sequence[str]) -> str | subprocess.CompletedProcess[bytes]:
        """The id of HEAD's tree with everything at or below each of ``paths`` replaced by the index's entries.

        Reads the index entries of ``paths`` (ls-files), the raw trees of their parent folders at HEAD (one
        cat-file --batch), and writes the changed trees bottom-up (one mktree --batch).
        """
        ours = [self.prefix + p.rstrip("/") for p in paths]
        listed = run_git(
            self.toplevel, "--literal-pathspecs", "ls-files", "-s", "-z", "--full-name", "--", *ours, check=False
        )
        if listed.returncode != 0:
            return listed
        staged: dict[str, tuple[str, str]] = {}  # path -> (mode, oid)
        for line in listed.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if line:
                meta, _, path = line.partition("\t")
                mode, oid, _stage = meta.split()
                staged[path] = (mode, oid)
        # folders whose HEAD listing is kept, and those rebuilt from the index alone (at or below a path)
        kept: set[str] = set()
        for p in ours:
            parent = p
            while parent:
                parent = parent.rpartition("/")[0]
                kept.add(parent)
        trees: dict[str, dict[str, tuple[str, str]]] = {d: {} for d in kept}  # folder -> name -> (mode, oid)
        if head:
            order = sorted(d for d in kept if not any(d == o or d.startswith(o + "/") for o in ours))
            query = "".join(f"{head}:{d}\n" if d else f"{head}^{{tree}}\n" for d in order)
            raw = run_git(self.toplevel, "cat-file", "--batch", input=query.encode("utf-8", "surrogateescape"))
            for d, body in zip(order, _batch_objects(raw.stdout)):
                if body is not None:
                    trees[d] = _parse_tree(body, 32 if len(head) == 64 else 20)
        for p in ours:
            parent, _, name = p.rpartition("/")
            trees[parent].pop(name, None)
        for path, entry in staged.items():
            parent, _, name = path.rpartition("/")
            trees.setdefault(parent, {})[name] = entry
            while parent and parent not in kept:  # a new folder below one of our paths
                parent = parent.rpartition("/")[0]
                trees.setdefault(parent, {})
        # bottom-up: each folder's tree is written before its parent's, whose entry it becomes
        order = sorted(trees, key=lambda d: (-d.count("/") if d else 1, d))
        batch, expect = bytearray(), []
        some_oid = next(iter(staged.values()), ("", head or ""))[1]
        algo = "sha256" if len(some_oid) == 64 else "sha1"  # the repository's object format
        for d in order:
            entries = trees[d]
            if d:
                parent, _, name = d.rpartition("/")
                if entries:
                    oid = _tree_oid(entries, algo)
                    trees[parent][name] = ("40000", oid)
                else:  # git keeps no empty folders
                    trees[parent].pop(name, None)
                    continue
            else:
                oid = _tree_oid(entries, algo)
            expect.append(oid)
            for name, (mode, eoid) in entries.items():
                kind = "tree" if mode == "40000" else "commit" if mode == "160000" else "blob"
                batch += f"{mode} {kind} {eoid}\t".encode() + name.encode("utf-8", "surrogateescape") + b"\0"
            batch += b"\0"
        # --missing: every entry is known to exist (HEAD's trees, the index, or written just before in this
        # batch), so git need not look each of them up again (a models/ folder has one entry per version)
        made = run_git(self.root, "mktree", "-z", "--missing", "--batch", input=bytes(batch), check=False)
        if made.returncode != 0:
            return made
        written = made.stdout.decode().split()
        if written != expect:  # our tree serialisation disagrees with git's: never commit a tree we did not check
            raise GitError("git wrote other trees than expected", hint="report this as a bug of sw-registry")
        return written[-1]

    def seq_commits(self, name: str, since: str | None = None) -> dict[int, str]:
        """seq -> commit id, from the Registry-Seq trailers of the commits about model ``name`` (only the commits
        after ``since``, an ancestor of HEAD, when given)."""
        fmt = (
            "%H%x1f%(trailers:key=Registry-Model,valueonly,separator=%x2C)"
            "%x1f%(trailers:key=Registry-Seq,valueonly,separator=%x2C)%x1e"
        )
        span = [f"{since}..HEAD"] if since else []
        proc = self.git("log", f"--format={fmt}", *span, "--", ".specweave", check=False)
        out: dict[int, str] = {}
        for record in proc.stdout.decode("utf-8", "replace").split("\x1e"):
            parts = record.strip("\n").split("\x1f")
            if len(parts) != 3 or parts[1].strip() != name:
                continue
            for seq in parts[2].replace(" ", "").split(","):
                if seq.isdigit():
                    out.setdefault(int(seq), parts[0])
        return out

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether commit ``older`` is in the history of ``newer`` (False if it no longer exists)."""
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", older):
            return False
        return self.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def registry_log(self, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        """Commits touching .specweave/, oldest first: id, author, parents, date, Registry-Event, all Registry-*
        trailers (``trailers``: lower-case key without the prefix -> value) and the changed paths."""
        fmt = (
            "%x1e%H%x1f%ae%x1f%P%x1f%ad%x1f%(trailers:key=Registry-Event,valueonly,separator=%x2C)"
            "%x1f%(trailers:only=true,unfold=true,separator=%x1d)"
        )
        args = [
            "-c",
            "core.quotePath=false",
            "log",
            "--reverse",
            f"--format={fmt}",
            "--name-status",
            "-M",
            "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
        ]  # with TZ=UTC: UTC ISO-8601 with Z (SPEC §9)
        if since:
            args.append(f"--since={since}")
        if until:
            args.append(f"--until={until}")
        proc = self.git(*args, "--", ".specweave", check=False, env=git_env({"TZ": "UTC"}))
        out: list[dict[str, Any]] = []
        for chunk in proc.stdout.decode("utf-8", "replace").split("\x1e")[1:]:
            head, _, body = chunk.partition("\n")
            commit, author, parents, date, event, block = (head.split("\x1f") + [""] * 6)[:6]
            trailers: dict[str, str] = {}
            for item in block.split("\x1d"):
                key, sep, value = item.partition(": ")
                if sep and key.startswith("Registry-"):
                    trailers.setdefault(key[len("Registry-") :].lower(), value.strip())
            changes = []
            for line in body.splitlines():
                if not line.strip():
                    continue
                status, *paths = line.split("\t")
                paths = [p[len(self.prefix) :] if self.prefix and p.startswith(self.prefix) else p for p in paths]
                changes.append((status, paths))
            out.append(
                {
                    "commit": commit,
                    "author": author,
                    "parents": parents.split(),
                    "date": date,
                    "event": event.strip() or None,
                    "trailers": trailers,
                    "changes": changes,
                }
            )
        return out

    # -- reads at a revision ------------------------------------------------------------
    def resolve_rev(self, rev: str) -> str:
        proc = self.git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False)
        if proc.returncode != 0:
            from .errors import NotFound

            raise NotFound(f"no commit, branch or tag {rev!r}", hint="pass a ref that git rev-parse knows")
        return proc.stdout.decode().strip()

    def ls_tree(self, commit: str, path: str) -> dict[str, tuple[str, str, int]]:
        """root-relative path -> (type, object id, size) of everything below ``path`` at ``commit``."""
        proc = self.git("ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", self.prefix + path)
        out: dict[str, tuple[str, str, int]] = {}
        for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if not entry:
                continue
            meta, _, path_ = entry.partition("\t")
            _mode, kind, oid, size = meta.split()
            rel = path_[len(self.prefix) :] if self.prefix else path_
            out[rel] = (kind, oid, int(size) if size.isdigit() else 0)
        return out

    def read_blobs(self, oids: Sequence[str]) -> dict[str, bytes]:
        if not oids:
            return {}
        proc = self.git("cat-file", "--batch", input=("\n".join(oids) + "\n").encode())
        data, out, pos = proc.stdout, {}, 0
        for oid in oids:
            nl = data.index(b"\n", pos)
            header = data[pos:nl].split()
            size = int(header[2])
            out[oid] = data[nl + 1 : nl + 1 + size]
            pos = nl + 1 + size + 1
        return out

    def blob_to_file(self, oid: str, dest: Path) -> None:
        with open(dest, "wb") as fh:
            proc = subprocess.run(
                ["git", "cat-file", "blob", oid],
                cwd=self.root,
                stdout=fh,
                stderr=subprocess.PIPE,
                env=git_env(),
                check=False,
            )
        if proc.returncode != 0:
            raise GitError(f"git could not read object {oid}", hint="run git fsck")


def _batch_objects(out: bytes) -> Iterator[bytes | None]:
    """The bodies ``git cat-file --batch`` printed, in order (None for a name it reports missing)."""
    pos = 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if len(header) != 3:  # "<name> missing" (or ambiguous)
            pos = nl + 1
            yield None
            continue
        size = int(header[2])
        yield out[nl + 1 : nl + 1 + size] if header[1] == b"tree" else None
        pos = nl + 1 + size + 1


def _parse_tree(body: bytes, hash_len: int) -> dict[str, tuple[str, str]]:
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


def _tree_oid(entries: dict[str, tuple[str, str]], algo: str) -> str:
    """The id git gives the tree of ``entries`` (git's order: a folder sorts as if its name ended with '/')."""
    import hashlib

    def key(item: tuple[str, tuple[str, str]]) -> bytes:
        name = item[0].encode("utf-8", "surrogateescape")
        return name + b"/" if item[1][0] == "40000" else name

    body = b"".join(
        mode.encode() + b" " + name.encode("utf-8", "surrogateescape") + b"\0" + bytes.fromhex(oid)
        for name, (mode, oid) in sorted(entries.items(), key=key)
    )
    return hashlib.new(algo, b"tree %d\0" % len(body) + body).hexdigest()


def start_housekeeping(cwd: Path) -> None:
    """Start git's automatic housekeeping, as ``git commit`` does after each commit, without waiting for it.

    ``git maintenance run --auto`` (git 2.29+; with an older git this does nothing) decides by the user's own
    gc.* and maintenance.* settings whether anything is due, and usually exits at once. It runs detached, in its own
    session, with nothing on the terminal; our -c settings are not passed on, so a repack keeps git's compression.
    """
    env = {k: v for k, v in git_env().items() if k not in ("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")}
    _HOUSEKEEPING[:] = [p for p in _HOUSEKEEPING if p.poll() is None]  # reap the ones that finished
    try:
        proc = subprocess.Popen(
            ["git", "maintenance", "run", "--auto", "--quiet"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return
    _HOUSEKEEPING.append(proc)  # it may outlive this process: then init reaps it


_HOUSEKEEPING: list[subprocess.Popen[bytes]] = []


def open_repo(root: Path) -> Repo:
    """The repository holding ``root``; refuses bare repositories and folders outside git."""
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
    rel = os.path.relpath(root.resolve(), top)
    prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
    hooks = Path(lines[4]) if len(lines) > 4 else git_dir / "hooks"
    hooks = hooks if hooks.is_absolute() else (root / hooks).resolve()
    return Repo(toplevel=top, git_dir=git_dir, common_dir=common, prefix=prefix, root=root, hooks_dir=hooks)


@contextmanager
def write_lock(repo: Repo, timeout: float | None = None) -> Iterator[None]:
    """Exclusive registry write lock: a flock'd file in the git dir (released by the kernel on kill -9)."""
    import fcntl

    if timeout is None:
        try:
            timeout = float(os.environ.get("SW_REGISTRY_LOCK_TIMEOUT", "30"))
        except ValueError:
            timeout = 30.0
    path = repo.common_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    raise Locked(
                        f"another sw-registry write holds the lock (pid {holder}) after waiting {timeout:g}s",
                        hint="wait for it to finish, or raise SW_REGISTRY_LOCK_TIMEOUT",
                        details={"pid": int(holder) if holder.isdigit() else None, "lock": str(path)},
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- commit messages -------------------------------------------------------------------


def one_line(text: str | None, limit: int = 500) -> str | None:
    """User text made safe for a subject or trailer: one line, no control characters."""
    if text is None:
        return None
    cleaned = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(text)).split())
    return cleaned[:limit]


def body_line(text: str) -> str:
    """The reason as the message body: one line that cannot pass for a trailer (SPEC §8: no line the tool did
    not write starts with ``Registry-``, in any case)."""
    line = one_line(text) or ""
    if re.match(r"(?i)registry-", line):
        line = "Reason: " + line
    return line


def commit_message(subject: str, trailers: dict[str, str | None], body: str | None = None) -> str:
    """A subject, an optional body, and ``Registry-*`` trailers that user text cannot forge.

    Values are single-lined, so a reason cannot start a new trailer line; the body is single-lined
    too and kept apart from the trailer block by a blank line.
    """
    lines = [one_line(subject) or "registry: change", ""]
    if body:
        lines += [body_line(body), ""]
    for key, value in trailers.items():
        if value is None:
            continue
        lines.append(f"Registry-{key}: {one_line(value)}")
    return "\n".join(lines) + "\n"


# -- network: clone, fetch and push through GitPython ------------------------------------
# GitPython costs 100-250 ms to import (README, "GitPython"), so only these functions import it, inside
# themselves: a network operation pays it once, reads and local writes never. It gives push and fetch
# results as data (a rejected push is a flag, not a word to find in git's output), parses git's progress
# for us, and refuses git's unsafe transports (ext::) and options in URLs that come from registry.yaml.

NetProgress = Callable[[str, int, "int | None"], None]  # (what git is doing, done, total or None)
_URL_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def redact_url(text: str) -> str:
    """``text`` with the user and password of every ``scheme://user:secret@host`` URL left out."""
    return _URL_USERINFO.sub(r"\1", text)


@contextmanager
def _clean_environ() -> Iterator[None]:
    """GitPython runs git with a copy of os.environ (it can add variables, not remove them): drop the ones
    that would redirect git to another repository (inside a git hook they point at the user's repo)."""
    saved = {k: os.environ.pop(k) for k in _STRIP_ENV if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _gitpython() -> Any:
    try:
        import git
    except ImportError as exc:  # GitPython missing, or no git binary for it to find
        raise GitError(f"GitPython cannot be used: {exc}", hint="pip install 'gitpython>=3.1.40,<4' and git") from None
    return git


def _progress(progress: NetProgress | None) -> Any:
    if progress is None:
        return None
    from git import RemoteProgress

    names = {
        RemoteProgress.COUNTING: "counting objects",
        RemoteProgress.COMPRESSING: "compressing objects",
        RemoteProgress.WRITING: "writing objects",
        RemoteProgress.RECEIVING: "receiving objects",
        RemoteProgress.RESOLVING: "resolving deltas",
        RemoteProgress.FINDING_SOURCES: "finding sources",
        RemoteProgress.CHECKING_OUT: "checking out files",
    }

    report = progress

    class Adapter(RemoteProgress):  # type: ignore[misc]
        def update(self, op_code: int, cur_count: Any, max_count: Any = None, message: str = "") -> None:
            what = names.get(op_code & RemoteProgress.OP_MASK, "working")
            report(what, int(float(cur_count or 0)), int(float(max_count)) if max_count else None)

    return Adapter()


def _net_error(what: str, url: str, exc: BaseException) -> RegistryError:
    text = str(getattr(exc, "stderr", "") or exc).strip().strip("'").strip()
    return GitError(
        redact_url(f"git {what} of {url} failed: {text}"),
        hint="check the URL and your access to it (git's credentials: ssh keys, a credential helper)",
        details={"url": redact_url(url), "network": True},
    )


def net_clone(url: str, dest: Path, progress: NetProgress | None = None) -> None:
    """Clone ``url`` into ``dest`` (which must not exist); GitError naming the URL without credentials."""
    git = _gitpython()
    with _clean_environ():
        try:
            git.Repo.clone_from(url, str(dest), progress=_progress(progress), env=git_env())
        except git.GitCommandError as exc:
            raise _net_error("clone", url, exc) from None


def net_fetch(repo: Repo, remote: str, refspec: str, progress: NetProgress | None = None) -> None:
    """``git fetch remote refspec`` (FETCH_HEAD names what came)."""
    git = _gitpython()
    with _clean_environ():
        try:
            git.Repo(str(repo.toplevel)).remote(remote).fetch(refspec, progress=_progress(progress), env=git_env())
        except (git.GitCommandError, ValueError) as exc:
            raise _net_error("fetch", _remote_url(repo, remote), exc) from None


def net_push(repo: Repo, remote: str, branch: str, progress: NetProgress | None = None) -> bool:
    """Push HEAD to ``remote``'s ``branch``: True when it landed, False when it was rejected as out of date."""
    git = _gitpython()
    with _clean_environ():
        try:
            infos = (
                git.Repo(str(repo.toplevel))
                .remote(remote)
                .push(f"HEAD:refs/heads/{branch}", progress=_progress(progress), env=git_env())
            )
        except (git.GitCommandError, ValueError) as exc:
            raise _net_error("push", _remote_url(repo, remote), exc) from None
    flags = [info.flags for info in infos]
    if flags and all(f & git.PushInfo.REJECTED for f in flags):
        return False  # out of date: the caller fetches and re-runs
    if not flags or infos.error is not None or any(f & git.PushInfo.ERROR for f in flags):
        summary = "; ".join(info.summary.strip() for info in infos) or str(infos.error or "no result")
        raise GitError(
            redact_url(f"git push to {remote} ({_remote_url(repo, remote)}) failed: {summary}"),
            hint="check the remote and your access to it (a protected branch or hook may refuse it)",
            details={"url": _remote_url(repo, remote), "network": True},
        )
    return True


def _remote_url(repo: Repo, remote: str) -> str:
    proc = repo.git("remote", "get-url", remote, check=False)
    return redact_url(proc.stdout.decode("utf-8", "replace").strip() or remote)
