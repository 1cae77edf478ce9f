"""``--push``: commit, then push; on a rejected push, re-run the operation itself on the new remote head.

Not a textual rebase: the local registry commit is dropped, the branch fast-forwards to the remote head
(the user's staged and unstaged work carried along, as ``git checkout`` would), and the operation runs again
from scratch, so it re-reads and re-validates the state it now builds on. Up to 3 times; exhausted retries, or
a re-validation that now refuses, are ``conflict`` (exit 5).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .gitops import Repo

    R = TypeVar("R")
RETRIES = 3


def pushes(method: Callable[..., R]) -> Callable[..., R]:
    """Decorate a write method of ModelRegistry: with ``registry.push`` set, its commit is published."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> R:
        return published(self, lambda: method(self, *args, **kwargs))

    from .hooks import after_commit

    return after_commit(wrapper)


def published(registry: Any, op: Callable[[], R]) -> R:
    """Run a write ``op`` of ``registry`` as ``@pushes`` runs a method: publish its commit when ``registry.push``.

    For operations that live outside ModelRegistry (monitor, experiments) and must decide after the push,
    e.g. raise ``threshold_breached`` once the recorded observations are published.
    """
    if not getattr(registry, "push", False):
        return op()
    from .hooks import outermost

    with outermost("publish", registry) as first:  # an operation that calls another write publishes once
        return publish(registry.root, op) if first else op()


def publish(root: Any, op: Callable[[], R]) -> R:
    from .errors import Conflict, RegistryError
    from .gitops import open_repo

    repo = open_repo(root)
    remote, branch = repo.push_target()  # before the write: no remote means no commit either
    result = op()
    for attempt in range(RETRIES + 1):
        if _commit_of(result) is None and attempt > 0:
            return result  # the re-run found nothing left to do: the remote already has it
        if repo.push(remote, branch):
            return result
        if attempt == RETRIES:
            break
        _move_to_remote_head(repo, remote, branch)
        try:
            result = op()
        except RegistryError as exc:
            raise Conflict(
                f"the remote changed while this write was pushed, and the write no longer applies: {exc.message}",
                hint="look at the remote's new state (sw-registry registry-history / registry-info) and decide again",
                details={"remote": remote, "branch": branch, "refusal": exc.to_dict()},
            ) from None
    raise Conflict(
        f"the push to {remote}/{branch} was rejected {RETRIES + 1} times: others keep changing it",
        hint="run the command again in a moment",
        details={"remote": remote, "branch": branch, "attempts": RETRIES + 1},
    )


def _commit_of(result: Any) -> Any:
    """The commit a write's result names: an attribute of a result object, a key of a plain dict (repair)."""
    return result.get("commit") if isinstance(result, dict) else getattr(result, "commit", None)


def _move_to_remote_head(repo: Repo, remote: str, branch: str) -> None:
    """Drop our unpushed commit and fast-forward to the remote head, keeping the user's local changes."""
    from .errors import Conflict, NotFound

    ours = repo.head_commit()
    from .gitops import net_fetch

    net_fetch(repo, remote, f"refs/heads/{branch}")
    theirs = repo.resolve_rev("FETCH_HEAD")
    try:
        parent = repo.resolve_rev(f"{ours}^") if ours else ""
    except NotFound:  # our commit is the first one: nothing of the remote's can be under it
        parent = ""
    if not repo.is_ancestor(parent, theirs):
        raise Conflict(
            f"the local branch has commits that {remote}/{branch} does not have, so the write cannot be re-run "
            "on the remote head",
            hint=f"integrate them first (git pull --rebase {remote} {branch}), then run the command again",
            details={"remote": remote, "branch": branch},
        )
    repo.switch_to(ours or "", theirs)
