"""The pure half of signed approvals (sw_registry/signing/keys.py, verify.py): the allowed-signers format, keys, and the
rule that decides whether one approval's signature counts. No git; ssh-keygen only makes a key to compare with."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sw_registry import signing
from sw_registry.errors import ConfigError, InvalidInput
from sw_registry.policy import Policy, validate


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    path = tmp_path_factory.mktemp("k") / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me", "-f", str(path)], check=True)
    return path


def test_fingerprint_and_private_key_public_part_match_ssh_keygen(key: Path) -> None:
    pub = signing.parse_public_key(Path(f"{key}.pub").read_text())
    listed = subprocess.run(["ssh-keygen", "-l", "-f", f"{key}.pub"], capture_output=True, text=True, check=True)
    assert pub.fingerprint == listed.stdout.split()[1] and pub.comment == "me"
    inner = signing.private_key_public_part(key.read_text())
    assert inner is not None and inner.same_key(pub)
    assert signing.private_key_public_part(Path(f"{key}.pub").read_text()) is None


def test_parse_public_key_refuses_what_is_not_one(key: Path) -> None:
    pub = Path(f"{key}.pub").read_text().split()
    for bad in ("", "hello world", f"ssh-rsa {pub[1]}", f"{pub[0]} not-base64!!"):
        with pytest.raises(InvalidInput):
            signing.parse_public_key(bad)


def test_allowed_signers_lines_options_patterns_and_comments(key: Path) -> None:
    t, b = Path(f"{key}.pub").read_text().split()[:2]
    text = (
        "# who may sign\n\n"
        f"alice@example.com {t} {b} alice laptop\n"
        f'"bob@example.com,carol@example.com" namespaces="git,file" {t} {b}\n'
        f"*@ops.example.com,!mallory@ops.example.com {t} {b}\n"
        "garbage line without a key\n"
    )
    signers = signing.parse_signers(text)
    assert [s.principals for s in signers] == [
        ("alice@example.com",),
        ("bob@example.com", "carol@example.com"),
        ("*@ops.example.com", "!mallory@ops.example.com"),
    ]
    assert signers[0].key.comment == "alice laptop" and signers[1].options == 'namespaces="git,file"'
    assert len(signing.keys_for(signers, "carol@example.com")) == 1
    assert len(signing.keys_for(signers, "eve@ops.example.com")) == 1
    assert signing.keys_for(signers, "mallory@ops.example.com") == []
    assert signing.keys_for(signers, "dave@example.com") == []


def test_add_and_remove_signers(key: Path) -> None:
    pub = signing.parse_public_key(Path(f"{key}.pub").read_text())
    text = signing.add_signer("", "bob@example.com", pub)
    assert text is not None and text.startswith("bob@example.com ssh-ed25519 ")
    assert signing.add_signer(text, "bob@example.com", pub) is None  # already listed: no change
    both = f"bob@example.com,carol@example.com {pub.type} {pub.blob}\n"
    left, removed = signing.remove_signer(both, "bob@example.com")
    assert removed == 1 and left == f"carol@example.com {pub.type} {pub.blob}\n"
    assert signing.remove_signer(left, "bob@example.com") == (left, 0)
    assert signing.remove_signer(left, "carol@example.com") == ("", 1)
    with pytest.raises(InvalidInput):
        signing.add_signer("", "bob@example.com extra", pub)


def _sig(status: str = "good", signer: str | None = "bob@example.com", **trailers: str) -> signing.Signature:
    base = {"event": "approve", "model": "m", "version": "1.0.0", "to": "production", "approver": "bob@example.com"}
    base["seq"] = "3"
    return signing.Signature("c" * 40, status, signer, "SHA256:x", {**base, **trailers})


def test_an_approval_counts_only_with_a_good_signature_by_the_approver_on_that_approval() -> None:
    entry = {"stage": "production", "approver": "bob@example.com", "seq": 3, "signing_key": "SHA256:x"}
    assert signing.approval_status(entry, "m", "1.0.0", _sig()) == "good"
    assert signing.approval_status(entry, "m", "1.0.0", None) == "no_commit"
    assert signing.approval_status(entry, "m", "1.0.0", _sig("unsigned", None)) == "unsigned"
    assert signing.approval_status(entry, "m", "1.0.0", _sig("unknown_key", None)) == "unknown_key"
    assert signing.approval_status(entry, "m", "1.0.0", _sig(signer="alice@example.com")) == "wrong_signer"
    assert signing.approval_status(entry, "m", "1.0.0", _sig(version="2.0.0")) == "mismatch"
    assert signing.approval_status(entry, "m", "1.0.0", _sig(approver="carol@example.com")) == "mismatch"
    assert signing.approval_status(entry, "m", "1.0.0", _sig(seq="4")) == "mismatch"  # another approval's commit
    assert signing.approval_status(entry, "m", "1.0.0", _sig(event="promote")) == "mismatch"


def test_registry_yaml_signing_keys() -> None:
    rule = {"approvers": ["bob@example.com"], "signed": True}
    data = {"signers_file": ".specweave/allowed_signers", "models": {"m": {"approval": {"production": rule}}}}
    policy = Policy(validate(data))
    assert policy.approval("m", "production") == {
        "approvers": ["bob@example.com"],
        "min_approvals": 1,
        "allow_self_approval": True,
        "signed": True,
    }
    assert "signed" not in (
        Policy(validate({"defaults": {"approval": {"production": {}}}})).approval("x", "production") or {}
    )
    assert policy.signers_file == ".specweave/allowed_signers" and policy.require_signed is False
    with pytest.raises(ConfigError, match="signers_file"):
        validate({"models": {"m": {"approval": {"production": rule}}}})
    with pytest.raises(ConfigError, match="require_signed needs signers_file"):
        validate({"require_signed": True})
    for bad in ("/etc/keys", "../keys", ""):
        with pytest.raises(ConfigError, match="signers_file"):
            validate({"signers_file": bad})
    with pytest.raises(ConfigError, match="signed"):
        validate({"signers_file": "s", "defaults": {"approval": {"production": {"signed": "yes"}}}})
    with pytest.raises(ConfigError, match="require_signed"):
        validate({"require_signed": "yes"})
    assert validate({"signers_file": None}) == {"signers_file": None}


def test_blob_id_is_the_id_git_gives_the_bytes(tmp_path: Path) -> None:
    """The work-tree signers file is used only when its bytes hash to HEAD's blob: the hash must be git's."""
    from sw_registry.signing.headfile import blob_id

    data = b"bob@example.com ssh-ed25519 AAAA\r\nno newline at the end \xff"
    (tmp_path / "f").write_bytes(data)
    out = subprocess.run(["git", "hash-object", str(tmp_path / "f")], capture_output=True, text=True, check=True)
    assert blob_id(data, 40) == out.stdout.strip()
    assert blob_id(data, 40) != blob_id(data + b"\n", 40) and len(blob_id(data, 64)) == 64


def test_every_public_name_resolves_from_its_module_and_a_promotion_loads_only_what_it_needs() -> None:
    """signing/__init__.py imports its modules when a name is first used; each name of __all__ has a home there."""
    import importlib

    assert set(signing._HOME) == set(signing.__all__)
    for name in signing.__all__:
        home = importlib.import_module(f"sw_registry.signing.{signing._HOME[name]}")
        assert getattr(signing, name) is getattr(home, name)
    with pytest.raises(AttributeError):
        signing.no_such_name  # noqa: B018
    code = (
        "import sys, sw_registry.ops.stages; from sw_registry.signing import start_signed_check; "
        "print(sorted(m for m in sys.modules if m.startswith('sw_registry.signing.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == repr([f"sw_registry.signing.{m}" for m in ("approvals", "headfile", "verify")])
