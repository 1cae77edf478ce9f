"""registry-signers add | remove | list (SPEC §7.15): the allowed-signers file, one audited commit per change.

The file is git's SSH allowed-signers format (``principals keytype base64 comment``), kept where registry.yaml's
``signers_file`` says (``.specweave/allowed_signers`` when unset; the first ``add`` also sets the key, in the
same commit). Each change is one commit with event ``policy``, so who may sign approvals is reviewed and
audited like the rest of the policy.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import signing
from .layout import POLICY_REL
from .publish import pushes

if TYPE_CHECKING:
    from .registry import ModelRegistry
    from .results import ChangeResult


def _read_key_file(path: str | Path) -> signing.PublicKey:
    from .errors import InvalidInput

    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"{str(path)!r} is not a file", hint="pass the public key file, e.g. ~/.ssh/id_ed25519.pub")
    if p.stat().st_size > 64 * 1024:
        raise InvalidInput(f"{str(path)!r} is too big to be a public key", hint="pass the .pub file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {str(path)!r}: {exc}", hint="pass the .pub file ssh-keygen wrote") from None
    if signing.private_key_public_part(text) is not None or "PRIVATE KEY" in text:
        raise InvalidInput(
            f"{str(path)!r} is a private key",
            hint="never share or commit it: pass the .pub file next to it (e.g. ~/.ssh/id_ed25519.pub)",
        )
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1:
        raise InvalidInput(f"{str(path)!r} must hold exactly one public key", hint="pass one .pub file per key")
    return signing.parse_public_key(lines[0], str(path))


def _write(registry: ModelRegistry, subject: str, change: Any) -> ChangeResult:
    """Under the write lock: ``change(current text) -> new text or None``; commit the file (and registry.yaml)."""
    import yaml

    from .policy import validate
    from .results import ChangeResult

    with registry.ctx.write() as tx:
        data = copy.deepcopy(tx.index.policy.data) or {"schema_version": 1}
        rel = data.get("signers_file") or signing.DEFAULT_SIGNERS_FILE
        path = registry.layout.abs(rel)
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = change(current, rel)
        if new is None:
            return ChangeResult(False, None)
        tx.write(rel, new.encode("utf-8"))
        if not data.get("signers_file"):
            data["signers_file"] = rel
            validate(data)
            dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
            text = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
            tx.write(POLICY_REL, text.encode("utf-8"))
        commit = tx.commit(subject, {"Event": "policy", "Actor": tx.actor})
        return ChangeResult(commit is not None, commit, tuple(tx.warnings))


def add(registry: ModelRegistry, email: str, pubkey_file: str | Path) -> ChangeResult:
    """List ``email``'s SSH public key (from a .pub file) as allowed to sign approvals; idempotent."""
    signing.check_email(email)
    key = _read_key_file(pubkey_file)
    return _write(
        registry,
        f"registry: add signer {email} ({key.fingerprint})",
        lambda text, _rel: signing.add_signer(text, email, key),
    )


def remove(registry: ModelRegistry, email: str) -> ChangeResult:
    """Stop listing ``email``'s keys: their signed approvals stop counting (and registry-verify reports them)."""
    signing.check_email(email)

    def change(text: str, _rel: str) -> str | None:
        new, removed = signing.remove_signer(text, email)
        return new if removed else None

    return _write(registry, f"registry: remove signer {email}", change)


@pushes
def add_signer(registry: ModelRegistry, email: str, pubkey_file: str | Path) -> ChangeResult:
    """The API of ``registry-signers add`` over a registry: ``add`` as one of its writes (published with
    ``registry.push``, then the post-commit hooks), like a ModelRegistry write method."""
    return add(registry, email, pubkey_file)


@pushes
def remove_signer(registry: ModelRegistry, email: str) -> ChangeResult:
    """The API of ``registry-signers remove``: ``remove`` as one of the registry's writes (see ``add_signer``)."""
    return remove(registry, email)


def list_signers(registry: ModelRegistry) -> dict[str, Any]:
    """The API of ``registry-signers list`` (see ``listing``)."""
    return listing(registry)


def listing(registry: ModelRegistry) -> dict[str, Any]:
    """The signers file's entries as they are in the work tree: ``{"signers_file", "signers": [...]}``."""
    index = registry.ctx.index()
    rel = index.policy.signers_file or signing.DEFAULT_SIGNERS_FILE
    raw = registry.ctx.source().read(rel)
    text = raw.decode("utf-8", "replace") if raw is not None else ""
    return {
        "signers_file": rel,
        "configured": index.policy.signers_file is not None,
        "signers": [
            {
                "email": s.principals[0] if s.principals else None,
                "principals": list(s.principals),
                "key_type": s.key.type,
                "fingerprint": s.key.fingerprint,
                "comment": s.key.comment or None,
            }
            for s in signing.parse_signers(text)
        ],
    }
