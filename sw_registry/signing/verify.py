"""What git says about signatures: ``%G?``/``%GS``/``%GK`` and the ``Registry-*`` trailers of commits, with
``gpg.ssh.allowedSignersFile`` pointed at the signers file as HEAD has it, and whether one approval counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..gitops.signatures import STATUS, Signature, log_signatures

if TYPE_CHECKING:
    from ..gitops import Repo

__all__ = ["STATUS", "Signature", "approval_commits", "approval_status", "commit_signatures", "log_signatures"]

def commit_signatures(repo: Repo, signers_path: str, commits: Sequence[str]) -> dict[str, Signature]:
    """The signatures of the given commits, in one ``git log --no-walk``."""
    if not commits:
        return {}
    stdin = ("\n".join(dict.fromkeys(commits)) + "\n").encode()
    sigs = log_signatures(repo, signers_path, ["--no-walk=unsorted", "--stdin"], stdin)
    return {s.commit: s for s in sigs}


def approval_commits(repo: Repo, signers_path: str, name: str, seqs: Sequence[int]) -> dict[int, Signature]:
    """seq -> signature of the approval commits of model ``name`` with those seqs, found by their trailers: one
    ``git log`` from HEAD that stops at the last one it needs (registry-verify's full check)."""
    if not seqs:
        return {}
    args = [
        "--extended-regexp",
        "--all-match",
        "--grep=^Registry-Event: approve$",
        "--grep=^Registry-Model: " + name.replace(".", "[.]") + "$",  # names are [a-z0-9._-] (SPEC §3)
        "--grep=^Registry-Seq: (" + "|".join(str(int(s)) for s in seqs) + ")$",
        f"-n{len(seqs)}",
        "HEAD",
    ]
    out: dict[int, Signature] = {}
    for sig in log_signatures(repo, signers_path, args):
        seq = sig.trailers.get("seq", "")
        if seq.isdigit():
            out.setdefault(int(seq), sig)
    return out


def approval_status(entry: dict[str, Any], name: str, version: str, sig: Signature | None) -> str:
    """Whether one approval counts: ``good``, or why not (the signature's status, ``wrong_signer``, ``mismatch``,
    ``no_commit``)."""
    if sig is None:
        return "no_commit"
    if sig.status != "good":
        return sig.status
    t = sig.trailers
    if (t.get("event"), t.get("model"), t.get("version"), t.get("to"), t.get("approver"), t.get("seq")) != (
        "approve",
        name,
        version,
        entry.get("stage"),
        entry.get("approver"),
        str(entry.get("seq")),
    ):
        return "mismatch"  # a genuine signed approval, but of something else
    if sig.signer != entry.get("approver"):
        return "wrong_signer"
    return "good"
