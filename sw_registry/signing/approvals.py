"""Promotion under a signed rule: which approvals count, verified with git at every promotion that needs them.

The approval commits are found through the seq -> commit map (``store/seqcache.py``, kept current by every
registry commit, so finding them does not walk history), and only the approvals the promotion needs go to git,
in one ``git log --no-walk``, verified against the signers file as HEAD has it (the work-tree file itself when it
is HEAD's, see ``headfile``). A promotion starts that ``git log`` in the background once it has read the approvals
under the write lock (``start_signed_check``) and joins it just before its commit (``PendingCheck.result()``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..gitops.signatures import PendingLog, start_commit_signatures
from .headfile import allowed_signers
from .verify import Signature, approval_status, commit_signatures

if TYPE_CHECKING:
    from ..errors import RegistryError
    from ..gitops import Repo
    from ..policy import Policy


def is_signed_rule(policy: Policy, rule: dict[str, Any] | None) -> bool:
    return bool(rule and rule.get("signed")) or policy.require_signed


def _candidates(
    rule: dict[str, Any], approvals: Sequence[dict[str, Any]], stage: str, creator: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the latest signed approval of each approver the rule accepts, the approvals that never claimed a signature)."""
    from .. import lifecycle as L

    latest: dict[str, dict[str, Any]] = {}
    for a in approvals:
        if a.get("stage") == stage and a.get("signing_key") and isinstance(a.get("seq"), int):
            latest[str(a.get("approver"))] = a
    eligible = set(L.valid_approvals(rule, latest.values(), stage, creator))
    unsigned = [
        {"approver": a.get("approver"), "seq": a.get("seq"), "status": "unsigned"}
        for a in approvals
        if a.get("stage") == stage and not a.get("signing_key")
    ]
    return [a for who, a in latest.items() if who in eligible], unsigned


def _approval_signatures(
    repo: Repo, path: str, commits: dict[int, str], batch: Sequence[dict[str, Any]]
) -> dict[int, Signature]:
    """seq -> signature of these approvals' commits (``commits``: the seq -> commit map), in one ``git log``."""
    wanted = {a["seq"]: commits[a["seq"]] for a in batch if a["seq"] in commits}
    sigs = commit_signatures(repo, path, list(wanted.values()))
    return {seq: sigs[commit] for seq, commit in wanted.items() if commit in sigs}


def _judge(
    name: str, version: str, batch: Sequence[dict[str, Any]], sigs: dict[int, Signature]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the approvals of ``batch`` whose signature verifies, the others with why)."""
    counted: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for a in batch:
        sig = sigs.get(a["seq"])
        status = approval_status(a, name, version, sig)
        if status == "good":
            counted.append(a)
        else:
            why = {"approver": a.get("approver"), "seq": a["seq"], "status": status, "commit": sig and sig.commit}
            refused.append(why)
    return counted, refused


@dataclass
class PendingCheck:
    """A promotion's signed-approval check under way (``start_signed_check``).

    The ``git log`` that verifies the first ``min_approvals`` candidates runs in the background while the promotion
    writes, refreshes and stages its files. ``result()`` joins it (the others go to git only if some of those fail)
    and raises ``approval_required`` exactly as ``check_signed_approvals`` does; ``close()`` ends the ``git log`` if
    it still runs (with its ``ssh-keygen`` runs) and removes a temporary signers file if one was made (only when the
    git directory is read-only, see ``headfile``). Enter it as a context manager so that every way out closes it.
    """

    repo: Repo
    policy: Policy
    name: str
    version: str
    stage: str
    rule: dict[str, Any]
    creator: str | None
    candidates: list[dict[str, Any]]
    unsigned: list[dict[str, Any]]
    commits: dict[int, str]  # the seq -> commit map of the model
    signers_path: str
    log: PendingLog | None
    stack: contextlib.ExitStack[bool | None]
    error: RegistryError | None = None  # approval_required, once joined
    done: bool = False

    def result(self) -> None:
        if not self.done:
            self.error, self.done = self._verdict(), True
        if self.error is not None:
            raise self.error

    def _verdict(self) -> RegistryError | None:
        from .. import lifecycle as L
        from ..errors import ApprovalRequired

        need = int(self.rule.get("min_approvals", 1))
        found = {s.commit: s for s in self.log.result()} if self.log else {}
        first, rest = self.candidates[:need], self.candidates[need:]
        sigs = {a["seq"]: found[self.commits[a["seq"]]] for a in first if self.commits.get(a["seq"]) in found}
        counted, refused = _judge(self.name, self.version, first, sigs)
        if rest and len(counted) < need:
            sigs = _approval_signatures(self.repo, self.signers_path, self.commits, rest)
            more, failed = _judge(self.name, self.version, rest, sigs)
            counted, refused = counted + more, refused + failed
        refused = self.unsigned + refused
        try:
            L.check_approvals(self.rule, counted, self.stage, self.creator, f"{self.name}@{self.version}")
        except ApprovalRequired as exc:
            details = dict(exc.details or {})
            details["unverified"] = refused
            hint = exc.hint or ""
            if refused:
                why = ", ".join(f"{r['approver']} ({r['status']})" for r in refused)
                hint = f"approvals that do not verify against {self.policy.signers_file}: {why}; " + hint
            return ApprovalRequired(exc.message + " (signed approvals only)", hint=hint, details=details)
        return None

    def close(self) -> None:
        self.stack.close()

    def __enter__(self) -> PendingCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_signed_check(
    repo: Repo,
    policy: Policy,
    name: str,
    version: str,
    stage: str,
    rule: dict[str, Any],
    approvals: Sequence[dict[str, Any]],
    meta: dict[str, Any],
) -> PendingCheck:
    """Start verifying the approvals a promotion needs and return at once (``PendingCheck.result()`` joins).

    Only approvals made as signed ones (``signing_key`` recorded) are candidates, the latest per approver. When
    even all of them could not be enough, the check is finished here, before the promotion writes anything."""
    from ..layout import Layout
    from ..store import seqcache

    creator = meta.get("created_by")
    candidates, unsigned = _candidates(rule, approvals, stage, creator)
    need = int(rule.get("min_approvals", 1))
    rel = policy.signers_file
    if not rel:  # registry.yaml always names it under a signed rule; keys.py is not imported otherwise
        from .keys import DEFAULT_SIGNERS_FILE as rel
    stack = contextlib.ExitStack()
    try:
        path = stack.enter_context(allowed_signers(repo, rel))
        commits = seqcache.seq_commits(Layout(repo.root), repo, name) if candidates else {}
        first = [commits[a["seq"]] for a in candidates[:need] if a["seq"] in commits]
        log = stack.enter_context(start_commit_signatures(repo, path, first)) if first else None
        pending = PendingCheck(
            repo, policy, name, version, stage, rule, creator, candidates, unsigned, commits, path, log, stack
        )
        if len(candidates) < need:
            pending.result()
    except BaseException:
        stack.close()
        raise
    return pending


def check_signed_approvals(*args: Any, **kwargs: Any) -> None:
    """``approval_required`` unless enough approvals verify (``start_signed_check``'s arguments), all at once: the
    error says which ones did not, and why."""
    with start_signed_check(*args, **kwargs) as pending:
        pending.result()
