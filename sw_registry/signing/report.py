"""registry-verify's and registry-audit's view of signatures: approvals that no longer verify, signers-file changes
made outside the tool, unsigned registry commits under ``require_signed``, and each approval's signer and status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..gitops.signatures import path_log
from ..layout import POLICY_REL
from .headfile import allowed_signers
from .keys import DEFAULT_SIGNERS_FILE
from .verify import approval_commits, approval_status, commit_signatures, log_signatures

if TYPE_CHECKING:
    from ..gitops import Repo
    from ..policy import Policy


def approval_problems(repo: Repo, policy: Policy, metadata: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """registry-verify's ``unsigned_approval``: each approval recorded as signed whose commit no longer verifies.

    ``metadata`` maps a metadata.json path to its parsed content.
    """
    claimed = [
        (rel, meta, a)
        for rel, meta in metadata.items()
        for a in meta.get("approvals") or []
        if isinstance(a, dict) and a.get("signing_key")
    ]
    if not claimed:
        return []
    by_model: dict[str, list[int]] = {}
    for _rel, meta, a in claimed:
        if isinstance(a.get("seq"), int):
            by_model.setdefault(meta["name"], []).append(a["seq"])
    problems = []
    with allowed_signers(repo, policy.signers_file or DEFAULT_SIGNERS_FILE) as path:
        sigs = {n: approval_commits(repo, path, n, seqs) for n, seqs in by_model.items()}
    for rel, meta, a in claimed:
        seq = a.get("seq")
        sig = sigs.get(meta["name"], {}).get(seq) if isinstance(seq, int) else None
        status = approval_status(a, meta["name"], meta["version"], sig)
        if status == "good":
            continue
        ref = f"{meta['name']}@{meta['version']}"
        problems.append(
            {
                "code": "unsigned_approval",
                "path": rel,
                "commit": sig.commit if sig else None,
                "status": status,
                "approver": a.get("approver"),
                "message": f"the approval of {ref} for {a.get('stage')} by {a.get('approver')} no longer verifies "
                f"({status}" + (f", commit {sig.commit[:12]}" if sig else "") + ")",
            }
        )
    return problems


def signers_file_problems(repo: Repo, policy: Policy) -> list[dict[str, Any]]:
    """Commits that changed the signers file without Registry-* trailers: who may sign was changed outside the tool."""
    rel = policy.signers_file
    if not rel:
        return []
    fmt = "%H%x1f%ae%x1f%(trailers:key=Registry-Event,valueonly,separator=%x2C)"
    problems = []
    for line in path_log(repo, fmt, rel).splitlines():
        commit, author, event = [*line.split("\x1f"), "", ""][:3]
        if commit and not event.strip():
            problems.append(
                {
                    "code": "unaudited_commit",
                    "path": rel,
                    "commit": commit,
                    "message": f"commit {commit[:12]} by {author} changed the signers file {rel} without Registry-* "
                    "trailers (use sw-registry registry-signers)",
                }
            )
    return problems


def unsigned_commit_problems(repo: Repo, policy: Policy) -> list[dict[str, Any]]:
    """``require_signed``: registry commits made since it was turned on whose signature does not verify."""
    since = path_log(repo, "%H", POLICY_REL, "-1", "-G^require_signed:").strip()
    args = [f"{since}..HEAD" if since else "HEAD", "--grep=^Registry-Event: ", "--", f"{repo.prefix}.specweave"]
    problems = []
    with allowed_signers(repo, policy.signers_file or DEFAULT_SIGNERS_FILE) as path:
        for sig in log_signatures(repo, path, args):
            if not sig.trailers.get("event") or sig.status == "good":
                continue
            problems.append(
                {
                    "code": "unsigned_commit",
                    "path": None,
                    "commit": sig.commit,
                    "status": sig.status,
                    "message": f"registry commit {sig.commit[:12]} ({sig.trailers.get('event')}) is not signed by a "
                    f"listed key ({sig.status}) although registry.yaml says require_signed: true",
                }
            )
    return problems


def audit_signatures(repo: Repo, policy: Policy, approvals: list[dict[str, Any]]) -> None:
    """Add ``signer``, ``key`` and ``signature`` (good, bad, unknown_key, unsigned, wrong_signer) to audit approvals."""
    commits = [a["commit"] for a in approvals if a.get("commit")]
    if not commits:
        return
    with allowed_signers(repo, policy.signers_file) as path:
        sigs = commit_signatures(repo, path, commits)
    for a in approvals:
        sig = sigs.get(a.get("commit") or "")
        status = sig.status if sig else "unsigned"
        if sig and status == "good" and sig.signer != a.get("approver"):
            status = "wrong_signer"
        a["signer"] = sig.signer if sig else None
        a["key"] = sig.key if sig else None
        a["signature"] = status
