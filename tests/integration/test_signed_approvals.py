"""Signed approvals (SPEC §6, §5 signers_file / require_signed, §7.14, §7.15): real SSH keys made by ssh-keygen.

Keys are made once for the module; each test configures which one git signs with, in the project's own
git config (never the developer's: HOME and GIT_CONFIG_GLOBAL point into the test's temp folder).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sw_registry import ModelGovernance
from sw_registry.errors import ApprovalRequired, ConfigError, GitError, IntegrityError, NotAnApprover
from sw_registry.registry import ModelRegistry
from sw_registry.signers import add_signer, remove_signer
from tests.conftest import error, git, run_cli

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")

NAME = "fraud"
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Private key paths (the .pub beside each) for alice, bob and carol."""
    folder = tmp_path_factory.mktemp("keys")
    out = {}
    for who in ("alice", "bob", "carol"):
        path = folder / who
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(path)], check=True, capture_output=True
        )
        out[who] = path
    return out


def fingerprint(key: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-f", f"{key}.pub"], check=True, capture_output=True, text=True).stdout
    return out.split()[1]


def sign_with(project: Path, key: Path | None) -> None:
    """Make git in ``project`` sign with ``key`` (None: no signing key at all)."""
    git(project, "config", "gpg.format", "ssh")
    if key is None:
        git(project, "config", "--unset", "user.signingkey", check=False)
    else:
        git(project, "config", "user.signingkey", str(key))


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


@pytest.fixture
def reg(project: Path, make_artifact, keys: dict[str, Path]) -> ModelRegistry:
    """fraud v1.0.0 in staging (created by alice); alice and bob listed signers; production needs bob's or
    carol's signed approval, never the creator's."""
    r = ModelRegistry(root=project)
    r.register_model(NAME, str(make_artifact(b"one")), version="1.0.0", metadata={"accuracy": 0.9})
    r.promote_model(NAME, "1.0.0", to_stage="staging")
    add_signer(r, ALICE, f"{keys['alice']}.pub")
    add_signer(r, BOB, f"{keys['bob']}.pub")
    r.set_approval_required(
        stage="production", approvers=[BOB, CAROL], name=NAME, allow_self_approval=False, signed=True
    )
    return r


def test_a_signed_approval_by_a_listed_approver_counts(project: Path, reg: ModelRegistry, keys) -> None:
    sign_with(project, keys["bob"])
    result = reg.approve_model(NAME, "1.0.0", approver=BOB, comments="validated")
    assert result.commit == head(project) and result.to_dict()["signing_key"] == fingerprint(keys["bob"])
    signers = project / ".specweave" / "allowed_signers"
    status = git(project, "-c", f"gpg.ssh.allowedSignersFile={signers}", "log", "-1", "--format=%G? %GS %GK")
    assert status.split() == ["G", BOB, fingerprint(keys["bob"])]
    meta = reg.info(NAME, "1.0.0").to_dict()
    assert meta["approvals"][-1]["signing_key"] == fingerprint(keys["bob"])
    promoted = reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert promoted.commit is not None and promoted.to_dict()["to"] == "production"
    assert reg.verify()["ok"] is True


def test_approving_as_bob_with_alices_key_is_refused_and_writes_nothing(project: Path, reg, keys, cli) -> None:
    sign_with(project, keys["alice"])
    before = head(project)
    r = cli("registry-approve", NAME, "v1.0.0", "--actor", BOB, "--json")
    err = error(r, "not_an_approver", 1)
    assert fingerprint(keys["alice"]) in err["message"] and ".specweave/allowed_signers" in err["message"]
    assert fingerprint(keys["bob"]) in err["hint"] and ".specweave/allowed_signers" in err["hint"]
    assert err["details"]["key"] == fingerprint(keys["alice"])
    assert head(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_no_signing_key_or_an_unlisted_key_is_refused_before_anything_is_written(
    project: Path, reg: ModelRegistry, keys
) -> None:
    before = head(project)
    sign_with(project, None)
    with pytest.raises(NotAnApprover) as no_key:
        reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert "user.signingkey" in no_key.value.message and "user.signingkey" in (no_key.value.hint or "")
    assert ".specweave/allowed_signers" in (no_key.value.hint or "")
    sign_with(project, keys["carol"])  # carol is an approver, but the signers file lists no key for her
    with pytest.raises(NotAnApprover) as unlisted:
        reg.approve_model(NAME, "1.0.0", approver=CAROL)
    assert ".specweave/allowed_signers" in unlisted.value.message
    assert f"registry-signers add {CAROL}" in (unlisted.value.hint or "")
    assert fingerprint(keys["carol"]) in (unlisted.value.hint or "")
    sign_with(project, None)  # no user.signingkey: git asks gpg.ssh.defaultKeyCommand (an agent's first key)
    git(project, "config", "gpg.ssh.defaultKeyCommand", f"cat {keys['alice']}.pub")
    with pytest.raises(NotAnApprover) as from_agent:
        reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert fingerprint(keys["alice"]) in from_agent.value.message
    git(project, "config", "gpg.format", "openpgp")
    with pytest.raises(NotAnApprover, match="openpgp"):
        reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert head(project) == before and git(project, "status", "--porcelain") == ""


def test_a_key_git_cannot_sign_with_is_git_error_and_writes_nothing(
    project: Path, reg: ModelRegistry, keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listed public key, but no private key and no agent holding it: git refuses to sign; nothing lands."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    literal = " ".join(Path(f"{keys['bob']}.pub").read_text().split()[:2])
    git(project, "config", "gpg.format", "ssh")
    git(project, "config", "user.signingkey", f"key::{literal}")  # only the public half: git cannot sign
    before = head(project)
    with pytest.raises(GitError) as failed:
        reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert "sign" in (failed.value.hint or "")
    assert head(project) == before and git(project, "status", "--porcelain") == ""
    assert reg.info(NAME, "1.0.0").to_dict()["approvals"] == []


def test_an_approval_made_before_signed_was_set_does_not_count_after(project: Path, make_artifact, keys) -> None:
    r = ModelRegistry(root=project)
    r.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    r.promote_model(NAME, "1.0.0", to_stage="staging")
    r.set_approval_required(stage="production", approvers=[BOB], name=NAME)
    r.approve_model(NAME, "1.0.0", approver=BOB)  # unsigned: the rule did not ask for a signature yet
    add_signer(r, BOB, f"{keys['bob']}.pub")
    r.set_approval_required(stage="production", approvers=[BOB], name=NAME, signed=True)
    with pytest.raises(ApprovalRequired) as refused:
        r.promote_model(NAME, "1.0.0", to_stage="production")
    assert refused.value.details["missing"] == 1
    assert [(u["approver"], u["status"]) for u in refused.value.details["unverified"]] == [(BOB, "unsigned")]
    sign_with(project, keys["bob"])
    again = r.approve_model(NAME, "1.0.0", approver=BOB)  # not "already approved": this one is signed
    assert again.commit is not None
    assert r.promote_model(NAME, "1.0.0", to_stage="production").commit is not None


def test_a_stripped_signature_stops_counting_and_verify_reports_it(project: Path, reg: ModelRegistry, keys) -> None:
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    git(project, "commit", "-q", "--amend", "--no-edit", "--no-gpg-sign")  # a rewrite that dropped the signature
    rewritten = head(project)
    with pytest.raises(ApprovalRequired) as refused:
        reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert refused.value.details["unverified"][0]["status"] == "unsigned"
    with pytest.raises(IntegrityError) as bad:
        reg.verify()
    problems = [p for p in bad.value.details["problems"] if p["code"] == "unsigned_approval"]
    assert len(problems) == 1 and problems[0]["commit"] == rewritten and problems[0]["status"] == "unsigned"
    assert problems[0]["path"].endswith("/fraud-v1.0.0/metadata.json")


def test_verify_through_the_cli_names_the_commit(project: Path, reg: ModelRegistry, keys, cli) -> None:
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert cli("registry-verify", "--json").returncode == 0
    git(project, "commit", "-q", "--amend", "--no-edit", "--no-gpg-sign")
    err = error(cli("registry-verify", "--json"), "integrity", 4)
    problem = next(p for p in err["details"]["problems"] if p["code"] == "unsigned_approval")
    assert problem["commit"] == head(project)


def test_removing_a_signers_key_makes_their_approvals_stop_counting(project: Path, reg: ModelRegistry, keys) -> None:
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    sign_with(project, keys["alice"])
    removed = remove_signer(reg, BOB)
    assert removed.changed and removed.commit == head(project)
    assert BOB not in (project / ".specweave" / "allowed_signers").read_text()
    with pytest.raises(ApprovalRequired) as refused:
        reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert refused.value.details["unverified"][0]["status"] == "unknown_key"
    with pytest.raises(IntegrityError) as bad:
        reg.verify()
    assert [p["status"] for p in bad.value.details["problems"] if p["code"] == "unsigned_approval"] == ["unknown_key"]
    assert remove_signer(reg, BOB).commit is None  # removing again changes nothing


def test_a_signers_file_changed_outside_the_tool_is_flagged(project: Path, reg: ModelRegistry, keys) -> None:
    signers = project / ".specweave" / "allowed_signers"
    signers.write_text(
        signers.read_text() + f"{CAROL} " + " ".join(Path(f"{keys['carol']}.pub").read_text().split()[:2]) + "\n"
    )
    git(project, "commit", "-q", "-m", "let carol sign", "--", str(signers))
    with pytest.raises(IntegrityError) as bad:
        reg.verify()
    assert [(p["code"], p["commit"]) for p in bad.value.details["problems"]] == [("unaudited_commit", head(project))]


def test_audit_shows_each_approvals_signer_key_and_status(project: Path, make_artifact, keys) -> None:
    r = ModelRegistry(root=project)
    r.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    r.set_approval_required(stage="production", approvers=[BOB], name=NAME)
    r.approve_model(NAME, "1.0.0", approver=BOB, comments="before signing")
    add_signer(r, BOB, f"{keys['bob']}.pub")
    r.set_approval_required(stage="production", approvers=[BOB], name=NAME, signed=True)
    sign_with(project, keys["bob"])
    r.approve_model(NAME, "1.0.0", approver=BOB, comments="signed")
    report = ModelGovernance(registry=r).generate_audit_report(model=NAME)
    approvals = report.to_dict()["approvals"]
    assert [(a["signature"], a["signer"], a["key"]) for a in approvals] == [
        ("unsigned", None, None),
        ("good", BOB, fingerprint(keys["bob"])),
    ]
    text = report.to_markdown()
    assert "[unsigned]" in text and f"[signature good by {BOB}, key {fingerprint(keys['bob'])}]" in text
    remove_signer(r, BOB)
    again = ModelGovernance(registry=r).generate_audit_report(model=NAME).to_dict()["approvals"]
    assert [a["signature"] for a in again] == ["unsigned", "unknown_key"]


def test_require_signed_signs_every_write_and_verify_flags_an_unsigned_registry_commit(
    project: Path, make_artifact, keys
) -> None:
    r = ModelRegistry(root=project)
    add_signer(r, ALICE, f"{keys['alice']}.pub")
    policy = project / ".specweave" / "registry.yaml"
    policy.write_text(policy.read_text() + "require_signed: true\n")
    git(project, "commit", "-q", "-m", "registry: require signed commits\n\nRegistry-Event: policy", "--", str(policy))
    sign_with(project, None)
    before = head(project)
    with pytest.raises(GitError, match="require_signed"):
        r.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    assert head(project) == before and git(project, "status", "--porcelain") == ""
    sign_with(project, keys["alice"])
    r.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in git(project, "cat-file", "commit", "HEAD")
    assert r.verify()["ok"] is True
    sign_with(project, keys["carol"])  # signs, but with a key the signers file does not list: a warning now
    warned = r.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")
    assert any("does not list" in w for w in warned.warnings)
    with pytest.raises(IntegrityError) as unlisted:
        r.verify()
    assert [p["status"] for p in unlisted.value.details["problems"]] == ["unknown_key"]
    git(project, "commit", "-q", "--amend", "--no-edit", "--no-gpg-sign")
    with pytest.raises(IntegrityError) as bad:
        r.verify()
    flagged = [p for p in bad.value.details["problems"] if p["code"] == "unsigned_commit"]
    assert [(p["commit"], p["status"]) for p in flagged] == [(head(project), "unsigned")]
    assert "unsigned_commit" in run_cli(project, "registry-verify", "--json").stdout


def test_signed_needs_a_signers_file_in_registry_yaml(project: Path) -> None:
    policy = project / ".specweave" / "registry.yaml"
    policy.write_text("models:\n  fraud:\n    approval:\n      production: {approvers: [], signed: true}\n")
    with pytest.raises(ConfigError, match="signers_file"):
        ModelRegistry(root=project).info("fraud")
    policy.write_text("signers_file: ../outside\n")
    with pytest.raises(ConfigError, match="inside the project"):
        ModelRegistry(root=project).list_models()


def test_policy_and_signers_commands(project: Path, cli, keys) -> None:
    ok = cli("registry-policy", NAME, "--require-approval", "production", "--approver", BOB, "--signed", "--json")
    assert ok.returncode == 0, ok.stdout
    text = (project / ".specweave" / "registry.yaml").read_text()
    assert "signers_file: .specweave/allowed_signers" in text and "signed: true" in text
    error(cli("registry-policy", NAME, "--require-approval", "production", "--signers-file", "x", "--json"), "usage", 2)
    error(cli("registry-policy", NAME, "--signed", "--json"), "usage", 2)

    added = cli("registry-signers", "add", BOB, f"{keys['bob']}.pub", "--json")
    assert added.returncode == 0 and added.json["data"]["changed"] is True
    assert git(project, "log", "-1", "--format=%(trailers:key=Registry-Event,valueonly)").strip() == "policy"
    assert cli("registry-signers", "add", BOB, f"{keys['bob']}.pub", "--json").json["data"] == {
        "changed": False,
        "commit": None,
    }
    listed = cli("registry-signers", "list", "--json").json["data"]
    assert listed["signers_file"] == ".specweave/allowed_signers"
    assert [(s["email"], s["principals"], s["fingerprint"]) for s in listed["signers"]] == [
        (BOB, [BOB], fingerprint(keys["bob"]))
    ]
    human = cli("registry-signers", "list")
    assert BOB in human.stdout and fingerprint(keys["bob"]) in human.stdout
    error(cli("registry-signers", "add", BOB, str(keys["bob"]), "--json"), "invalid_input", 2)  # a private key
    error(cli("registry-signers", "add", "not an email", f"{keys['bob']}.pub", "--json"), "invalid_input", 2)
    error(cli("registry-signers", "add", BOB, "--json"), "usage", 2)
    error(cli("registry-signers", "frobnicate", "--json"), "usage", 2)
    removed = cli("registry-signers", "remove", BOB, "--json")
    assert removed.returncode == 0 and removed.json["data"]["changed"] is True
    assert json.loads(cli("registry-signers", "list", "--json").stdout)["data"]["signers"] == []


def test_signers_file_elsewhere(project: Path, make_artifact, keys) -> None:
    r = ModelRegistry(root=project)
    r.set_approval_required(
        stage="production", approvers=[BOB], name="fraud.eu-1", signed=True, signers_file="config/signers"
    )
    add_signer(r, BOB, f"{keys['bob']}.pub")
    assert BOB in (project / "config" / "signers").read_text()
    r.register_model("fraud.eu-1", str(make_artifact(b"one")), version="1.0.0")
    r.promote_model("fraud.eu-1", "1.0.0", to_stage="staging")
    sign_with(project, keys["bob"])
    r.approve_model("fraud.eu-1", "1.0.0", approver=BOB)
    assert r.promote_model("fraud.eu-1", "1.0.0", to_stage="production").commit is not None


def test_hooks_path_signs_too(project: Path, reg: ModelRegistry, keys) -> None:
    """With a commit hook the write goes through ``git commit`` instead of commit-tree: it signs the same way."""
    hook = project / ".git" / "hooks" / "post-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert reg.promote_model(NAME, "1.0.0", to_stage="production").commit is not None


def test_run_cli_smoke(project: Path, reg, keys) -> None:
    """The promotion error through the CLI carries the unverified approvals."""
    r = run_cli(project, "registry-promote", NAME, "v1.0.0", "--to", "production", "--json")
    err = error(r, "approval_required", 1)
    assert err["details"]["missing"] == 1 and err["details"]["unverified"] == []


# -- the promotion check's shortcuts: HEAD's signers file read from the work tree, approval commits from the
# -- seq -> commit map. Each is warmed first, then HEAD or the file is changed behind the registry's back.


def memo_head(project: Path) -> str | None:
    path = project / ".git" / "sw-registry-signers.json"
    return json.loads(path.read_text())["head"] if path.is_file() else None


def test_a_rewrite_after_the_maps_were_current_still_stops_the_approval_counting(
    project: Path, reg: ModelRegistry, keys
) -> None:
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    reg.history(NAME)  # the seq -> commit map is now current for HEAD
    assert memo_head(project) == head(project)  # and so is the memo of HEAD's signers file
    git(project, "commit", "-q", "--amend", "--no-edit", "--no-gpg-sign")
    with pytest.raises(ApprovalRequired) as refused:
        reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert [(u["status"], u["commit"]) for u in refused.value.details["unverified"]] == [("unsigned", head(project))]


def test_a_key_removed_by_a_commit_made_by_hand_stops_counting(project: Path, reg: ModelRegistry, keys) -> None:
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert memo_head(project) == head(project)
    signers = project / ".specweave" / "allowed_signers"
    signers.write_text("".join(ln for ln in signers.read_text().splitlines(True) if not ln.startswith(BOB)))
    git(project, "commit", "-q", "-m", "drop bob", "--", str(signers))
    with pytest.raises(ApprovalRequired) as refused:
        reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert refused.value.details["unverified"][0]["status"] == "unknown_key"


def test_an_uncommitted_signers_file_grants_nothing(project: Path, reg: ModelRegistry, keys) -> None:
    add_signer(reg, CAROL, f"{keys['carol']}.pub")
    sign_with(project, keys["carol"])
    reg.approve_model(NAME, "1.0.0", approver=CAROL)
    signers = project / ".specweave" / "allowed_signers"
    listed = signers.read_text()
    sign_with(project, keys["alice"])
    remove_signer(reg, CAROL)
    signers.write_text(listed)  # carol back in the work tree only
    for _ in range(2):  # the second time with the memo of HEAD's file current
        with pytest.raises(ApprovalRequired) as refused:
            reg.promote_model(NAME, "1.0.0", to_stage="production")
        assert [(u["approver"], u["status"]) for u in refused.value.details["unverified"]] == [(CAROL, "unknown_key")]
    assert memo_head(project) == head(project)
    git(project, "checkout", "--", str(signers))
    git(project, "revert", "--no-edit", "HEAD")  # the removal undone by a commit made by hand: carol counts again
    assert reg.promote_model(NAME, "1.0.0", to_stage="production").commit is not None


def test_a_key_removed_by_a_commit_hook_stops_counting(project: Path, reg: ModelRegistry, keys) -> None:
    """A pre-commit hook that commits a signers file without bob (the work tree keeps him): HEAD's file counts."""
    hook = project / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        "#!/bin/sh\nf=.specweave/allowed_signers\n"
        'blob=$(git show ":$f" | grep -v "^bob@" | git hash-object -w --stdin)\n'
        'git update-index --cacheinfo "100644,$blob,$f"\n'
    )
    hook.chmod(0o755)
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    assert BOB not in git(project, "show", "HEAD:.specweave/allowed_signers")
    assert BOB in (project / ".specweave" / "allowed_signers").read_text()
    hook.unlink()
    with pytest.raises(ApprovalRequired) as refused:
        reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert refused.value.details["unverified"][0]["status"] == "unknown_key"


# -- the promotion's check runs in the background: started once the approvals are read under the lock, joined
# -- (tx.commit) once the files are staged. A refusal there restores everything; every way out ends the git log.


def state(project: Path) -> dict[str, object]:
    """HEAD, the git index, the user's staged and unstaged changes, and every file of the registry."""
    files = {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted((project / ".specweave").rglob("*"))
        if p.is_file() and "cache" not in p.relative_to(project).parts
    }
    return {
        "head": head(project),
        "index": git(project, "ls-files", "--stage"),
        "staged": git(project, "diff", "--cached", "--binary"),
        "unstaged": git(project, "diff", "--binary"),
        "status": git(project, "status", "--porcelain", "--untracked-files=all"),
        "files": files,
    }


def session(leader: int) -> list[int]:
    """The live processes of the session ``leader`` started (the background git log and its ssh-keygen runs)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == leader and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def children(pid: int) -> list[int]:
    """The processes (zombies too) whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture
def background_logs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every verifying git log started in the background (the real ones, only recorded)."""
    from sw_registry.gitops import signatures

    started: list[object] = []

    class Recorded(signatures.PendingLog):
        def __init__(self, proc: subprocess.Popen[bytes]) -> None:
            super().__init__(proc)
            started.append(proc)

    monkeypatch.setattr(signatures, "PendingLog", Recorded)
    return started


def ended(procs: list[object]) -> bool:
    """Each process was waited for (reaped) and neither it nor anything it started still runs."""
    return all(
        p.returncode is not None and not Path(f"/proc/{p.pid}").exists() and session(p.pid) == []  # type: ignore[attr-defined]
        for p in procs
    )


def test_a_signature_refused_at_the_join_leaves_tree_index_and_head_as_they_were(
    project: Path, reg: ModelRegistry, keys, background_logs: list[object]
) -> None:
    """The approval's signature was stripped: the promotion gets past the count, writes and stages its files while
    git verifies, and is refused before its commit, with the error the check always gave; nothing is left."""
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    git(project, "commit", "-q", "--amend", "--no-edit", "--no-gpg-sign")
    rewritten = head(project)
    (project / "notes.txt").write_text("mine, staged\n")
    git(project, "add", "notes.txt")
    (project / "notes.txt").write_text("mine, staged, then edited\n")
    before = state(project)
    seq = reg.info(NAME, "1.0.0").to_dict()["approvals"][-1]["seq"]
    with pytest.raises(ApprovalRequired) as refused:
        reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert state(project) == before
    err = refused.value
    assert err.message == f"{NAME}@1.0.0 needs 1 more approval(s) for production (has 0 of 1) (signed approvals only)"
    assert err.hint == (
        f"approvals that do not verify against .specweave/allowed_signers: {BOB} (unsigned); approvers: {BOB}, "
        f"{CAROL}; approve with: sw-registry registry-approve {NAME} v1.0.0 --stage production"
    )
    assert err.details == {
        "approvers": [BOB, CAROL],
        "missing": 1,
        "approved_by": [],
        "unverified": [{"approver": BOB, "seq": seq, "status": "unsigned", "commit": rewritten}],
    }
    assert len(background_logs) == 1 and ended(background_logs)  # verified in the background, joined, reaped


def test_a_good_signed_promotion_commits_once(
    project: Path, reg: ModelRegistry, keys, background_logs: list[object]
) -> None:
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    before = head(project)
    promoted = reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert promoted.commit == head(project)
    assert git(project, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert git(project, "log", "-1", "--format=%(trailers:key=Registry-Event,valueonly)").strip() == "promote"
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert reg.info(NAME, "1.0.0").to_dict()["stage"] == "production"
    assert len(background_logs) == 1 and ended(background_logs)


def test_a_check_closed_before_its_join_ends_its_git_log(project: Path, reg: ModelRegistry, keys) -> None:
    from sw_registry.gitops import open_repo
    from sw_registry.signing import start_signed_check

    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    index = reg.ctx.index()
    meta = reg.info(NAME, "1.0.0").to_dict()
    rule = index.policy.approval(NAME, "production")
    args = (open_repo(project), index.policy, NAME, "1.0.0", "production", rule, meta["approvals"], meta)
    with start_signed_check(*args) as pending:
        assert pending.log is not None
        pid = pending.log.pid
    assert not Path(f"/proc/{pid}").exists() and session(pid) == []  # killed, with its ssh-keygen runs, and reaped
    with start_signed_check(*args) as pending:
        pending.result()  # bob's approval verifies


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_promotion_killed_between_start_and_join_leaves_no_process_or_temporary_file(
    project: Path, reg: ModelRegistry, keys, tmp_path: Path
) -> None:
    """kill -9 after the check started and the metadata was written (the work-tree signers file differs from
    HEAD's, so git reads a copy): no git or ssh-keygen stays behind, no temporary file; repair, and it lands."""
    sign_with(project, keys["bob"])
    reg.approve_model(NAME, "1.0.0", approver=BOB)
    signers = project / ".specweave" / "allowed_signers"
    signers.write_text(signers.read_text() + "# an uncommitted edit\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = head(project)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sw_registry", "registry-promote", NAME, "v1.0.0", "--to", "production", "--json"],
        cwd=project,
        env={**os.environ, "SW_REGISTRY_TEST_STOP_AT": "after_metadata", "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert proc.poll() is None and time.monotonic() < deadline, "the promotion never reached after_metadata"
        time.sleep(0.01)
    started = children(proc.pid)
    assert started, "the verifying git log was not started before the files were written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    while any(session(pid) for pid in started):  # it finishes on its own (ssh-keygen is quick), never hangs
        assert time.monotonic() < deadline, "the background git log outlived its promotion"
        time.sleep(0.01)
    assert list(tmp.iterdir()) == []
    copies = sorted(p.name for p in (project / ".git").glob("*sw-registry-signers-*"))
    assert len(copies) == 1 and copies[0].startswith("sw-registry-signers-")  # HEAD's file, named by content
    assert head(project) == before
    assert run_cli(project, "registry-verify", "--repair", "--json").returncode == 0
    assert reg.promote_model(NAME, "1.0.0", to_stage="production").commit == head(project)
