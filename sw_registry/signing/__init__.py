"""Signed approvals (SPEC §6, §5 ``signers_file`` / ``require_signed``): who may sign, and what git says was signed.

- ``keys``: the pure half: SSH public keys, fingerprints, git's allowed-signers format (no files, no git);
- ``config``: the user's signing set-up, checked against the signers file *before* anything is committed;
- ``headfile``: the signers file as HEAD has it (the committed list is the one that counts), read from the work
  tree without a git process while the work tree's copy is HEAD's;
- ``verify``: what ``%G?``/``%GS``/``%GK`` say about commits, with ``gpg.ssh.allowedSignersFile`` pointed at that
  file, and whether one approval counts;
- ``approvals``: promotion: only the approvals it needs, found through the seq -> commit map, in one ``git log``
  that runs in the background while the promotion writes its files (``start_signed_check``; joined before the commit);
- ``report``: registry-verify's and registry-audit's view.

An approval made under a signed rule records the fingerprint of the key it was signed with (``signing_key`` in its
metadata entry). Only such approvals can count; they count while git verifies their commit's signature against a
key the signers file lists for the approver, and the commit's own trailers name that approval (event, model,
version, stage, approver, seq).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .approvals import PendingCheck, check_signed_approvals, is_signed_rule, start_signed_check
    from .config import SigningConfig, check_approver_key, check_can_sign, configured_key, signing_config
    from .headfile import allowed_signers, signers_text
    from .keys import (
        DEFAULT_SIGNERS_FILE,
        EMAIL,
        KEY_TYPE,
        PublicKey,
        Signer,
        add_signer,
        check_email,
        fingerprint,
        keys_for,
        parse_public_key,
        parse_signers,
        private_key_public_part,
        project_path,
        remove_signer,
    )
    from .report import approval_problems, audit_signatures, signers_file_problems, unsigned_commit_problems
    from .verify import STATUS, Signature, approval_commits, approval_status, commit_signatures

# where each name lives: a module is imported when one of its names is first used, so that a promotion loads
# ``approvals`` (and what it imports) only, not the key parsing, signing set-up and report modules
_HOMES = {
    "approvals": ("PendingCheck", "check_signed_approvals", "is_signed_rule", "start_signed_check"),
    "config": ("SigningConfig", "check_approver_key", "check_can_sign", "configured_key", "signing_config"),
    "headfile": ("allowed_signers", "signers_text"),
    "keys": (
        "DEFAULT_SIGNERS_FILE", "EMAIL", "KEY_TYPE", "PublicKey", "Signer", "add_signer", "check_email",
        "fingerprint", "keys_for", "parse_public_key", "parse_signers", "private_key_public_part", "project_path",
        "remove_signer",
    ),
    "report": ("approval_problems", "audit_signatures", "signers_file_problems", "unsigned_commit_problems"),
    "verify": ("STATUS", "Signature", "approval_commits", "approval_status", "commit_signatures"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_SIGNERS_FILE",
    "EMAIL",
    "KEY_TYPE",
    "STATUS",
    "PendingCheck",
    "PublicKey",
    "Signature",
    "Signer",
    "SigningConfig",
    "add_signer",
    "allowed_signers",
    "approval_commits",
    "approval_problems",
    "approval_status",
    "audit_signatures",
    "check_approver_key",
    "check_can_sign",
    "check_email",
    "check_signed_approvals",
    "commit_signatures",
    "configured_key",
    "fingerprint",
    "is_signed_rule",
    "keys_for",
    "parse_public_key",
    "parse_signers",
    "private_key_public_part",
    "project_path",
    "remove_signer",
    "signers_file_problems",
    "signers_text",
    "signing_config",
    "start_signed_check",
    "unsigned_commit_problems",
]
