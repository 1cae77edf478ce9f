"""The user's signing set-up, checked before a signed commit is made: which key git will sign with, and whether the
committed signers file lists it for the approver (``not_an_approver``) or, under ``require_signed``, at all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GitError, InvalidInput, NotAnApprover
from .headfile import signers_text
from .keys import (
    DEFAULT_SIGNERS_FILE,
    KEY_TYPE,
    PublicKey,
    keys_for,
    parse_public_key,
    parse_signers,
    private_key_public_part,
)

if TYPE_CHECKING:
    from ..gitops import Repo
    from ..policy import Policy


@dataclass(frozen=True)
class SigningConfig:
    format: str  # gpg.format: openpgp (git's default), ssh or x509
    key: str | None  # user.signingkey as configured
    key_command: str | None = None  # gpg.ssh.defaultKeyCommand: what git asks when user.signingkey is unset


def signing_config(repo: Repo) -> SigningConfig:
    pattern = r"^(gpg\.format|user\.signingkey|gpg\.ssh\.defaultkeycommand)$"
    from ..gitops.signatures import config_regexp

    values = config_regexp(repo, pattern)
    return SigningConfig(
        values.get("gpg.format", "openpgp"),
        values.get("user.signingkey") or None,
        values.get("gpg.ssh.defaultkeycommand") or None,
    )


def _key_from_command(repo: Repo, command: str) -> str | None:
    """What git does without user.signingkey: the first key line gpg.ssh.defaultKeyCommand prints."""
    import subprocess

    try:
        proc = subprocess.run(
            command, shell=True, cwd=repo.root, capture_output=True, timeout=10, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.split() and KEY_TYPE.match(line.split()[0]):
            return line.strip()
    return None


def configured_key(repo: Repo, cfg: SigningConfig) -> PublicKey:
    """The SSH public key git will sign with (from user.signingkey: a literal key, a .pub file or a private key)."""
    if cfg.format != "ssh":
        raise NotAnApprover(
            f"signed approvals are verified against SSH keys, and git is set to sign with {cfg.format}",
            hint="git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub",
        )
    configured = cfg.key or (_key_from_command(repo, cfg.key_command) if cfg.key_command else None)
    if not configured:
        raise NotAnApprover(
            "no signing key is configured (git config user.signingkey is empty"
            + (", and gpg.ssh.defaultKeyCommand printed no key)" if cfg.key_command else ")"),
            hint="git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub",
        )
    spec = configured[len("key::") :] if configured.startswith("key::") else configured
    if KEY_TYPE.match(spec.split(None, 1)[0]):
        return parse_public_key(spec, "user.signingkey")
    path = Path(os.path.expanduser(spec))
    path = path if path.is_absolute() else repo.root / path
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NotAnApprover(
            f"the signing key {spec} (user.signingkey) cannot be read: {exc.strerror}",
            hint="point user.signingkey at your key: git config user.signingkey ~/.ssh/id_ed25519.pub",
        ) from None
    key = private_key_public_part(text)
    if key is None:
        pub = Path(str(path) + ".pub")
        if not text.lstrip().startswith(tuple(k + " " for k in ("ssh-", "ecdsa-", "sk-"))) and pub.is_file():
            text = pub.read_text(encoding="utf-8", errors="replace")
        key = parse_public_key(text, f"the signing key {spec}")
    return key


def check_approver_key(repo: Repo, policy: Policy, approver: str) -> PublicKey:
    """Refuse (``not_an_approver``) unless the configured signing key is listed for ``approver`` in the signers file.

    Every refusal's hint names the key (its fingerprint) and the file."""
    rel = policy.signers_file or DEFAULT_SIGNERS_FILE
    try:
        key = configured_key(repo, signing_config(repo))
    except NotAnApprover as exc:
        raise NotAnApprover(
            exc.message,
            hint=f"{exc.hint}; the key must be one {rel} lists for {approver}",
            details={"signers_file": rel, "key": None, "approver": approver},
        ) from None
    text = signers_text(repo, rel)
    listed = keys_for(parse_signers(text or ""), approver)
    add = f"sw-registry registry-signers add {approver} PUBKEY_FILE"
    details = {"signers_file": rel, "key": key.fingerprint, "approver": approver}
    if text is None:
        raise NotAnApprover(
            f"signed approvals need the signers file {rel}, and it is not committed",
            hint=f"your signing key is {key.fingerprint}; list the approver's public key in {rel} with: {add}",
            details=details,
        )
    if not listed:
        raise NotAnApprover(
            f"{rel} lists no key for {approver}, so an approval by {approver} cannot be verified",
            hint=f"your signing key is {key.fingerprint}; if you are {approver}, list it in {rel} with: {add}",
            details=details,
        )
    if not any(key.same_key(k) for k in listed):
        raise NotAnApprover(
            f"your signing key {key.fingerprint} is not a key {rel} lists for {approver}",
            hint=f"{rel} lists {', '.join(k.fingerprint for k in listed)} for {approver}: approve as yourself, "
            f"or as {approver} with that key (git config user.signingkey)",
            details={**details, "listed": [k.fingerprint for k in listed]},
        )
    return key


def check_can_sign(repo: Repo, policy: Policy, actor: str) -> str | None:
    """``require_signed``: refuse a write (``git_error``) before it changes anything when git has no SSH key to sign
    with (with openpgp and no user.signingkey git signs with the committer's key; gpg says if it cannot).
    Returns a warning when the signers file does not list the key (registry-verify will flag the commit)."""
    cfg = signing_config(repo)
    hint = "git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub"
    if cfg.format == "ssh" and cfg.key is None and cfg.key_command is None:
        raise GitError("registry.yaml says require_signed: true, and git has no signing key", hint=hint)
    if cfg.format != "ssh":
        return None
    try:
        key = configured_key(repo, cfg)
    except (NotAnApprover, InvalidInput) as exc:
        raise GitError(f"registry.yaml says require_signed: true, and {exc.message}", hint=hint) from None
    rel = policy.signers_file or DEFAULT_SIGNERS_FILE
    if not any(key.same_key(s.key) for s in parse_signers(signers_text(repo, rel) or "")):
        return (
            f"this commit is signed with {key.fingerprint}, a key {rel} does not list: registry-verify will "
            f"report it (add it with: sw-registry registry-signers add {actor} PUBKEY_FILE)"
        )
    return None
