"""A registry write (SPEC §8): ``transaction()`` resolves the actor, refuses links that escape the
project, takes the write lock, re-reads the index from the work tree, checks the repository (detached
HEAD, the policy's branch, a left-over index.lock) and that no registry file is dirty, then yields a
``Transaction``. Its writes are atomic and first noted in a journal of the paths the write owns (so that
``registry-verify --repair`` can revert a killed write, and only that); ``commit`` makes one commit of
exactly those paths, signed when the policy requires it.

Anything that fails before the commit lands puts every file back as it was, and the index entries
the write staged back to HEAD. The user's own staged and unstaged changes elsewhere are never
touched: the commit names only the registry paths it wrote (gitops/direct.py, or git's own way). The dirty
check and the journal helpers registry-verify uses live in ``store/dirty.py`` (re-exported here).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import GitError
from .gitops import Repo, commit_message, gitvars, open_repo, settle, write_lock
from .gitops.repo import check_repo  # re-exported: the repository checks every write makes
from .layout import Layout
from .stop_points import stop_point
from .store import fs_clock, snapshot_file, write_check
from .store.dirty import (  # re-exported: ops/maintenance.py and ops/verify.py import them from here
    POLICY_FILE,
    clear_journal,
    dirty_paths,
    dirty_paths_for_write,
    dirty_refusal,
    journal_paths,
    owned_by_journal,
)
from .store.files import BackgroundSync, atomic_write
from .store.index import Index, WorkTreeSource, empty_index, load_index
from .store.links import refuse_escaping_link, refuse_escaping_links
from .store.worktree_state import guard_from

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "POLICY_FILE", "Transaction", "actor_identity", "check_repo", "clear_journal", "dirty_paths",
    "dirty_paths_for_write", "dirty_refusal", "journal_paths", "owned_by_journal", "refuse_escaping_link",
    "refuse_escaping_links", "transaction",
]


class Transaction:
    """One write: its files, its journal and at most one commit (made by ``transaction()``)."""

    def __init__(
        self, layout: Layout, repo: Repo, index: Index, actor: str, git_env: dict[str, str] | None = None, *,
        adopted: list[str] | None = None, head: str | None = None, clean_state: dict[str, Any] | None = None,
        check: write_check.ScopedCheck | None = None, sign: bool = False,
        git_vars: gitvars.PendingVars | None = None,
    ) -> None:
        self.layout, self.repo, self.index, self.actor = layout, repo, index, actor
        self.git_env: dict[str, str] = {} if git_env is None else git_env
        self.adopted: list[str] = [] if adopted is None else adopted  # the user's own files committed as they are
        self.head = head  # HEAD when the write began (it cannot move while we hold the lock)
        self.clean_state = clean_state  # stat snapshot of the registry as checked clean (worktree_state)
        self.check = check  # the narrowed dirty check (issue 10)
        self.sign = sign  # sign every commit of this write (registry.yaml require_signed, SPEC §6)
        self.git_vars = git_vars  # ``git var -l``, started when the write began
        self.commit_id: str | None = None
        self.warnings: list[str] = []  # for data.warnings: hook output, large artifacts
        self.metadata_written: set[str] = set()  # the metadata.json files this write wrote
        self.after_success: list[Callable[[], None]] = []  # cache updates once the write succeeded, never before
        self.before_commit: list[Callable[[], None]] = []  # joined once staged (ops/stages.py)
        self._originals: dict[str, bytes | int | None] = {}  # None: new; int: appended to, its length before
        self._new_dirs: list[str] = []
        self._staged = self._journaled = False
        self._journal_fd: int | None = None
        self._checked_dirs: set[str] = set()
        self._synced = BackgroundSync()  # fsyncs the durable files as they are written (commit waits for them)

    # -- file changes ---------------------------------------------------------------
    def _begin(self) -> None:
        """Before the first file changes: mark the write as in progress (see ``dirty_paths``).

        The journal's first line is our pid; every path the write is about to create or change follows on a
        line of its own, written before the change. ``registry-verify --repair`` reverts only those paths.
        """
        if not self._journaled:
            # not fsync'd: it guards against a killed process, whose writes the page cache keeps anyway
            fd = os.open(self.repo.journal(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._journal_fd = fd
            self._journaled = True

    def _record(self, *rels: str) -> None:
        """Note in the journal that this write owns ``rels`` (before it touches them)."""
        if self._journal_fd is not None:
            os.write(self._journal_fd, "".join(f"{r}\n" for r in rels).encode("utf-8", "surrogateescape"))

    def _close_journal(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None

    def end(self) -> None:
        self._close_journal()
        if self._journaled:
            clear_journal(self.repo)
            self._journaled = False

    def check_contained(self, rel: str) -> None:
        """Refuse (``integrity``, naming the link) a path whose folders lead outside the repository (SPEC §8)."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in self._checked_dirs:
                refuse_escaping_link(self.layout, self.repo, sub)
                self._checked_dirs.add(sub)

    def write(self, rel: str, data: bytes, *, durable: bool = True, original: bytes | None = None) -> None:
        """Write a registry file atomically; ``durable=False`` skips the fsync for files that can be rebuilt (that of
        a durable file starts now, in the background, and ``commit`` waits for it before the commit lands).
        ``original``: the file's bytes as the caller has just read them (not read again to restore them on failure)."""
        self.check_contained(rel)
        self._in_scope(rel)
        self._begin()
        path = self.layout.abs(rel)
        if isinstance(known := self._originals.get(rel), int):  # appended to: what it was is its first bytes
            self._originals[rel] = path.read_bytes()[:known]
        if rel not in self._originals and not any(rel.startswith(d + "/") for d in self._new_dirs):
            try:
                self._originals[rel] = path.read_bytes() if original is None else original
                self._record(rel)
            except FileNotFoundError:
                self._originals[rel] = None
                self._remember_new_parents(path)
                self._record(rel, *self._new_dirs[-1:])
        atomic_write(path, data, durable=False)
        if durable:
            self._synced.add(str(path))
        if rel.endswith("/metadata.json"):
            stop_point("after_metadata")
        if Layout.is_version_metadata(rel):
            import json

            self.metadata_written.add(rel)
            self.index.put(rel, json.loads(data), data)

    def append(self, rel: str, data: bytes, *, limit: int) -> bool:
        """Append ``data`` in place to an append-only file (deployment_history.md), if ``open_appendable`` allows:
        else False, nothing done (the caller rewrites it whole). A failed write cuts it back; not fsync'd."""
        from .store.files import open_appendable

        self.check_contained(rel)
        if (found := open_appendable(self.layout.abs(rel), limit)) is None:
            return False
        try:
            self._in_scope(rel)
            self._begin()
            if not self.owns(rel):
                self._originals[rel] = found[1]
                self._record(rel)
            while data:
                data = data[os.write(found[0], data) :]
        finally:
            os.close(found[0])
        return True

    def _in_scope(self, rel: str) -> None:
        """Before a narrowed write changes ``rel``: check its increment, or everything, unless already checked."""
        check = self.check
        if check is None or check.covers(rel):
            return
        inc = check.increment_of(rel)
        if inc is not None:
            check.check_increment(inc)
        else:
            self.index.load_all()

    def owns(self, rel: str) -> bool:
        """Whether ``rel`` is a path this write created or changed (or lies in a folder it created)."""
        return rel in self._originals or any(rel == d or rel.startswith(d + "/") for d in self._new_dirs)

    def _remember_new_parents(self, path: Path) -> None:
        """Note the highest folder above ``path`` that does not exist yet: a rollback removes it whole."""
        top, folder = None, path.parent
        while not folder.exists():
            top, folder = folder, folder.parent
        if top is not None:
            self._new_dirs.append(top.relative_to(self.layout.root).as_posix())

    def write_if_changed(self, rel: str, data: bytes, *, durable: bool = True) -> bool:
        current = None  # read once: also what a failure restores
        with contextlib.suppress(FileNotFoundError):
            current = self.layout.abs(rel).read_bytes()
        if current != data:
            self.write(rel, data, durable=durable, original=current)
        return current != data

    def make_dir(self, rel: str) -> Path:
        """Create a new folder (it must not exist); it is removed whole if the write fails."""
        self.check_contained(rel + "/_")
        self._in_scope(rel + "/_")
        self._begin()
        path = self.layout.abs(rel)
        if path.exists():
            raise FileExistsError(path)
        self._remember_new_parents(path / "_")
        self._record(rel, *self._new_dirs[-1:])
        path.mkdir(parents=True)
        return path

    def adopt(self, rel: str) -> None:
        """Commit the user's own ``rel`` as it is on disk (registry-policy --commit): never written, never
        reverted, not in the journal; a failed commit only unstages it."""
        if rel not in self.adopted:
            self.adopted.append(rel)

    @property
    def paths(self) -> list[str]:
        return sorted({*self._originals, *self._new_dirs, *self.adopted})

    def reload(self) -> Index:
        self.index = load_index(WorkTreeSource(self.layout))
        self.sign = self.sign or self.index.policy.require_signed
        return self.index

    # -- commit and rollback ---------------------------------------------------------
    def commit(
        self,
        subject: str,
        trailers: dict[str, str | None],
        body: str | None = None,
        author: tuple[str, str] | None = None,
        *,
        sign: bool = False,
    ) -> str | None:
        paths = self.paths
        if not paths:
            for check in self.before_commit:
                check()
            return None
        env = {**self.git_env, **({"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]} if author else {})}
        message = commit_message(subject, trailers, body)
        sign = sign or self.sign
        try:
            # objects, then the ref, then the index (gitops/direct.py); git's own way where it must make them
            found = self.git_vars.result() if self.git_vars is not None and not sign else None
            prepared = self.repo.prepare_commit(message, paths, env, self.head, found) if found else None
            if prepared is None:
                self._staged = True
                self.repo.stage(paths)
        finally:
            self._synced.wait()  # on disk before the commit lands (they were fsync'd meanwhile)
        for check in self.before_commit:  # a refusal here comes before the commit: every file is restored
            check()
        stop_point("inside_commit")
        self.commit_id, output = self.repo.commit(message, paths, env, head=self.head, sign=sign, prepared=prepared)
        stop_point("after_commit")
        if trailers.get("Model"):
            from .store import seqcache

            seqcache.note_commit(self.layout, str(trailers["Model"]), self.head, self.commit_id, trailers.get("Seq"))
        if self.index.policy.signers_file:  # keep the signed-approval check's memo of HEAD's signers file current
            from .signing.headfile import note_commit

            note_commit(self.repo, self.head, self.commit_id, paths)
        if output:
            self.warnings.append(f"git hook output: {output}")
        return self.commit_id

    def rollback(self, head_before: str | None) -> None:
        from .store.undo import undo  # only a failed write puts files back

        self._close_journal()
        undo(self.layout, self._new_dirs, self._originals)
        if self._staged:
            self.repo.unstage(self.paths, had_head=head_before is not None)

def actor_identity(
    repo: Repo, actor: str | None, pending: gitvars.PendingVars | None = None
) -> tuple[str, dict[str, str]]:
    """Who does the write (SPEC §6), and the git environment the commit needs for it."""
    ident = gitvars.identity(pending.result() if pending is not None else None) or repo.identity()
    actor = actor or os.environ.get("SW_REGISTRY_ACTOR") or None
    if ident is None:
        if not actor:
            raise GitError(
                "git has no identity to commit with",
                hint="pass --actor EMAIL, or run: git config user.name 'You' && git config user.email you@example.com",
            )
        name = actor.split("@", 1)[0] or actor
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": actor,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": actor,
        }
        return actor, env
    return actor or ident[1], {}


@contextmanager
def transaction(
    layout: Layout,
    *,
    actor: str | None,
    allow_detached: bool = False,
    allow_dirty: bool = False,
    adopt: tuple[str, ...] = (),
) -> Iterator[Transaction]:
    """Lock, re-read, check, and yield the write; restore everything if it fails before its commit.

    ``allow_dirty`` is for registry-verify --repair only: it skips the dirty check (the caller restores the
    files, then calls ``tx.reload()``) and the branch policy, which it cannot trust before the restore.
    ``adopt`` names user files the write commits as they are (registry-policy --commit): their changes do
    not count as dirty, and those that differ from HEAD are in ``tx.adopted``.
    """
    pending = gitvars.start(layout.root)  # runs while git finds the repository
    repo = open_repo(layout.root, pending)  # plain repositories without a git process (gitops/discover.py)
    who, env = actor_identity(repo, actor, pending)
    refuse_escaping_links(layout, repo)
    with write_lock(repo):
        stop_point("after_lock")
        adopted: list[str] = []
        check: write_check.ScopedCheck | None = None
        state = None
        started = fs_clock.fs_now(layout)  # before any stat of this write: the racy rule of its snapshot
        if allow_dirty:
            check_repo(repo, allow_detached=allow_detached, branch_policy=None, check_index_lock=False)
            index = empty_index(layout)
        else:
            index = load_index(WorkTreeSource(layout), lazy=not adopt)
            check_repo(repo, allow_detached=allow_detached, branch_policy=index.policy.branch)
            # the narrowed check (issue 10): each part when the write first reads or changes it
            check = write_check.start(layout, repo, index.policy.docs_path, started) if index.lazy else None
            if check is None:  # the full check; a lazy index's scan stats the metadata itself
                dirty, state = dirty_paths_for_write(repo, layout, index, started)
                adopted = [p for p in dirty if p in adopt]
                dirty = [p for p in dirty if p not in adopt]
                if dirty:
                    raise dirty_refusal(repo, dirty)
                clear_journal(repo)  # a killed write that had not changed a file yet
                if index.lazy and state is not None:  # every file found clean: each model read trusts that scan
                    index.guard, index.full = guard_from(state), lambda: load_index(WorkTreeSource(layout))
                elif index.lazy:
                    index = load_index(WorkTreeSource(layout))
        head = repo.head_commit()
        tx = Transaction(layout, repo, index, who, env, head=head, adopted=adopted, clean_state=state, check=check)
        tx.git_vars = pending
        tx.after_success.append(lambda: tx.index.write_through())  # the records it wrote, into the cache (issue 10)
        if check is not None:
            check.owned = tx.owns
            index.guard, index.full = check.check_model, check.check_all
        if index.policy.require_signed:  # SPEC §6: every registry commit is signed
            from .signing import check_can_sign

            warning = check_can_sign(repo, index.policy, who)
            tx.sign = True
            if warning:
                tx.warnings.append(warning)
        try:
            yield tx
        except BaseException:
            if tx._journaled or tx.commit_id is not None:  # a refusal before any change leaves the snapshot true
                snapshot_file.forget(layout)
            with contextlib.suppress(GitError):
                settle()  # a landed commit's index update: finished before the lock is released
            if tx.commit_id is None and repo.head_commit() == head:
                tx.rollback(head)
                tx.end()
            raise
        _finish(tx, layout, repo)


def _finish(tx: Transaction, layout: Layout, repo: Repo) -> None:
    """After a write's body: its caches, then (git's index update of the commit having run meanwhile: gitops/direct.py)
    wait for git, clear the journal, and keep the snapshot the next write's dirty check starts from."""
    saved = False
    try:
        for update in tx.after_success:
            update()
        if tx.check is not None:
            tx.clean_state = tx.check.merged()
        if tx.clean_state is not None:  # the registry matches HEAD again: the next write's check is cheap
            # HEAD is our commit (update-ref moved it from where the write began), or where the write began; a
            # commit someone made meanwhile outside our lock only makes the next write check in full
            saved = snapshot_file.keep(tx.clean_state, layout, repo, tx.paths, tx.commit_id or tx.head)
    finally:
        try:
            settle()  # git's index has our paths: or GitError, the journal kept for registry-verify --repair
        except GitError:
            snapshot_file.forget(layout)
            raise
        tx.end()
    if saved:
        snapshot_file.seal(layout, repo)
    else:
        snapshot_file.forget(layout)
