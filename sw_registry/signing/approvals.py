"""Promotion under a signed rule: which approvals count, verified with git at every promotion that needs them.

The approval commits are found through the seq -> commit map (``store/seqcache.py``, kept current by every
registry commit, so finding them does not walk history), and only the approvals the promotion needs go to git,
in one ``git log --no-walk``, verified against the signers file as HEAD has it (the work-tree file itself when it
is HEAD's, see ``headfile``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .headfile import allowed_signers
from .keys import DEFAULT_SIGNERS_FILE
from .verify import Signature, approval_status, commit_signatures

if TYPE_CHECKING:
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


def _approval_signatures(repo: Repo, path: str, name: str, batch: Sequence[dict[str, Any]]) -> dict[int, Signature]:
    """seq -> signature of these approvals' commits (found through the seq -> commit map), in one ``git log``."""
    from ..layout import Layout
    from ..store import seqcache

    commits = seqcache.seq_commits(Layout(repo.root), repo, name)
    wanted = {a["seq"]: commits[a["seq"]] for a in batch if a["seq"] in commits}
    sigs = commit_signatures(repo, path, list(wanted.values()))
    return {seq: sigs[commit] for seq, commit in wanted.items() if commit in sigs}


def _verify_candidates(
    repo: Repo, policy: Policy, name: str, version: str, candidates: list[dict[str, Any]], need: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(candidates whose signature verifies, the others with why). The first ``need`` go to git in one
    ``git log``; the others only if some of those fail."""
    counted: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    with allowed_signers(repo, policy.signers_file or DEFAULT_SIGNERS_FILE) as path:
        for batch in (candidates[:need], candidates[need:]):
            if not batch or len(counted) >= need:
                continue
            sigs = _approval_signatures(repo, path, name, batch)
            for a in batch:
                sig = sigs.get(a["seq"])
                status = approval_status(a, name, version, sig)
                if status == "good":
                    counted.append(a)
                else:
                    refused.append(
                        {"approver": a.get("approver"), "seq": a["seq"], "status": status, "commit": sig and sig.commit}
                    )
    return counted, refused


def check_signed_approvals(
    repo: Repo,
    policy: Policy,
    name: str,
    version: str,
    stage: str,
    rule: dict[str, Any],
    approvals: Sequence[dict[str, Any]],
    meta: dict[str, Any],
) -> None:
    """``approval_required`` unless enough approvals verify; the error says which ones did not, and why."""
    from .. import lifecycle as L
    from ..errors import ApprovalRequired

    # only approvals made as signed ones (``signing_key`` recorded) are candidates; the latest per approver
    candidates, refused = _candidates(rule, approvals, stage, meta.get("created_by"))
    counted, failed = _verify_candidates(repo, policy, name, version, candidates, int(rule.get("min_approvals", 1)))
    refused += failed
    try:
        L.check_approvals(rule, counted, stage, meta.get("created_by"), f"{name}@{version}")
    except ApprovalRequired as exc:
        details = dict(exc.details or {})
        details["unverified"] = refused
        hint = exc.hint or ""
        if refused:
            why = ", ".join(f"{r['approver']} ({r['status']})" for r in refused)
            hint = f"approvals that do not verify against {policy.signers_file}: {why}; " + hint
        raise ApprovalRequired(exc.message + " (signed approvals only)", hint=hint, details=details) from None
