"""The dirty check every registry write makes, and the journal of an interrupted write (SPEC §8).

``dirty_paths`` lists the registry paths that differ from HEAD (``git status``); ``dirty_paths_for_write``
finds the same at a cost that follows what changed (a stat snapshot, ``store/worktree_state.py``);
``dirty_refusal`` is the ``dirty_registry`` error with its hint. The journal helpers (``journal_paths``,
``owned_by_journal``, ``clear_journal``) are what ``registry-verify --repair`` uses to revert only what a
killed write left.
"""

from __future__ import annotations

import contextlib
import os

from ..errors import DirtyRegistry, RegistryError
from ..layout import POLICY_REL
from . import snapshot_file, worktree_state

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout
    from .index import Index

POLICY_FILE = POLICY_REL


def dirty_paths_for_write(
    repo: Repo, layout: Layout, index: Index, started: int | None = None
) -> tuple[list[str], dict[str, Any] | None]:
    """The dirty check every write makes: what ``dirty_paths`` finds, found at a cost that follows what changed.

    A journal left behind (a killed write) gets the full check, as before. Otherwise the registry's stat snapshot
    from the last time it matched HEAD (``store/worktree_state.py``) says which paths changed since; only those are
    given to ``git status``, and nothing is run when none did. A moved HEAD or a changed git index (commit,
    checkout, merge, rebase, reset, ``git add``) adds the paths git says that changed (``since_git_moved``); no
    snapshot, or git unable to say, means the full ``git status``, once. Returns the dirty paths, and the snapshot
    to keep when there are none. ``started``: ``fs_clock.fs_now`` before ``index`` was read (a full index's stats
    of the metadata files are the snapshot's; with a write's lazy index the scan takes them itself).
    """
    docs_path = index.policy.docs_path
    if repo.journal().exists():
        return dirty_paths(repo, layout, docs_path), None
    metadata = None if index.lazy else index.fingerprints()  # a lazy index has stat'ed none: the scan stats them
    now = worktree_state.scan(layout, layout.docs_rel(docs_path), repo, metadata, started)
    todo = worktree_state.to_check(repo, snapshot_file.load(layout), now)
    if todo == []:
        return [], now
    status = repo.changed_paths() if todo is None else repo.changed_paths(paths=todo)
    dirty = dirty_paths(repo, layout, docs_path, status=status)
    return dirty, (None if dirty else now)


def dirty_refusal(repo: Repo, dirty: list[str]) -> RegistryError:
    """The ``dirty_registry`` error for ``dirty`` registry paths, with a hint that says why and what to run."""
    hints = []
    if POLICY_FILE in dirty:
        hints.append(
            f"{POLICY_FILE} has changes of yours: run 'sw-registry registry-policy --commit [--reason TEXT]' to "
            "validate and commit them"
        )
    others = [p for p in dirty if p != POLICY_FILE]
    if others:
        if repo.journal().exists():
            hints.append("a previous write was interrupted: run 'sw-registry registry-verify --repair' to restore it")
        else:
            hints.append(
                "registry files were changed outside sw-registry: put them back (git checkout -- PATH, or delete "
                "what you added) or commit them; 'sw-registry registry-verify --repair' lists them and reverts only "
                "what an interrupted write left"
            )
    return DirtyRegistry(
        f"registry files have uncommitted changes ({len(dirty)}): " + ", ".join(dirty[:5]),
        hint="; ".join(hints),
        details={"paths": dirty},
    )


def dirty_paths(
    repo: Repo,
    layout: Layout,
    docs_path: str | None,
    *,
    thorough: bool = False,
    status: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Registry paths that differ from HEAD (modified, staged, deleted or untracked).

    A killed write is caught by its journal even where its files are git-ignored; ``thorough`` also lists
    ignored files (slower: git then walks ignored folders), which is what ``--repair`` restores. ``status``
    is ``repo.changed_paths()`` when the caller already has it.
    """
    if status is None or thorough:
        status = repo.changed_paths(ignored=thorough)
    found = {p for _status, p in status if layout.is_registry_path(p, docs_path)}
    if repo.journal().exists() and not found:
        found = {p for _status, p in repo.changed_paths(ignored=True) if layout.is_registry_path(p, docs_path)}
    return sorted(found)


def clear_journal(repo: Repo) -> None:
    """Forget an interrupted write (under the lock, once its files are as HEAD has them)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(repo.journal())


def journal_paths(repo: Repo) -> list[str] | None:
    """The paths an interrupted write recorded as its own (None when no write was interrupted)."""
    try:
        raw = repo.journal().read_bytes()
    except FileNotFoundError:
        return None
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    return sorted({line for line in lines[1:] if line})  # the first line is the writer's pid


def owned_by_journal(rel: str, recorded: list[str] | None) -> bool:
    """Whether ``rel`` is a path the interrupted write recorded, lies in a folder it created, or is the temp
    file of one of its atomic writes (``.<name>.<random>.tmp`` beside it)."""
    if not recorded:
        return False
    for own in recorded:
        if rel == own or rel.startswith(own + "/"):
            return True
        folder, _, name = own.rpartition("/")
        r_folder, _, r_name = rel.rpartition("/")
        if r_folder == folder and r_name.startswith(f".{name}.") and r_name.endswith(".tmp"):
            return True
    return False
