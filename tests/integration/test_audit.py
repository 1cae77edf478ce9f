"""registry-audit / ModelGovernance (SPEC §7.12): the governance report comes from git history."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sw_registry import ModelGovernance
from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git, run_cli


def story(project: Path, make_artifact) -> ModelRegistry:
    reg = ModelRegistry(root=project)
    reg.set_approval_required(stage="production", approvers=["bob@example.com"], name="fraud")
    reg.register_model(
        "fraud",
        str(make_artifact(b"1")),
        version="1.0.0",
        metadata={"accuracy": 0.85, "training_data_version": "v2024-01"},
    )
    reg.register_model(
        "fraud",
        str(make_artifact(b"2")),
        version="1.1.0",
        metadata={"accuracy": 0.87, "training_data_version": "v2024-02"},
    )
    reg.promote_model("fraud", "1.0.0", to_stage="staging")
    reg.approve_model("fraud", "1.0.0", approver="bob@example.com", comments="looks good")
    reg.promote_model("fraud", "1.0.0", to_stage="production", reason="first release")
    reg.approve_model("fraud", "1.1.0", approver="bob@example.com")
    reg.promote_model("fraud", "1.1.0", to_stage="production", force=True, reason="hotfix skips staging")
    reg.rollback("fraud", reason="1.1.0 misfires")
    return reg


def test_the_report_lists_deployments_approvals_rollbacks_and_forced_moves(project: Path, make_artifact) -> None:
    reg = story(project, make_artifact)
    data = ModelGovernance(registry=reg).generate_audit_report(model="fraud").to_dict()
    assert [(d["version"], d["kind"]) for d in data["deployments"]] == [
        ("1.0.0", "promote"),
        ("1.1.0", "promote"),
        ("1.0.0", "rollback"),
    ]
    first = data["deployments"][0]
    assert first["approved_by"] == ["bob@example.com"] and first["data_version"] == "v2024-01"
    assert first["metrics"] == {"accuracy": 0.85} and first["by"] == "alice@example.com"
    assert [(a["version"], a["approver"], a["author"]) for a in data["approvals"]] == [
        ("1.0.0", "bob@example.com", "bob@example.com"),
        ("1.1.0", "bob@example.com", "bob@example.com"),
    ]
    assert [e["reason"] for e in data["rollbacks"]] == ["1.1.0 misfires"]
    assert [(e["version"], e["from"], e["to"]) for e in data["forced"]] == [("1.1.0", "dev", "production")]
    assert all(e["at"].endswith("Z") for e in data["events"])
    assert data["unaudited_commits"] == []


def test_the_markdown_names_a_forced_move_and_a_forced_deprecation(project: Path, make_artifact) -> None:
    reg = story(project, make_artifact)
    reg.deprecate_model("fraud", "1.0.0", reason="retired early", force=True)  # production: needs --force
    r = run_cli(project, "registry-audit", "fraud", "--format", "md")
    assert r.returncode == 0, r.stdout + r.stderr
    forced = r.stdout.split("## Forced transitions", 1)[1].split("##", 1)[0]
    assert "fraud v1.1.0 dev -> production by alice@example.com: hotfix skips staging" in forced
    assert "fraud v1.0.0 deprecate by alice@example.com: retired early" in forced
    assert "None" not in forced


def test_rev_reports_the_history_as_of_that_commit(project: Path, make_artifact) -> None:
    """SPEC §2: read commands take --rev; the audit then walks the log from that commit and reads its files."""
    reg = story(project, make_artifact)
    then = git(project, "rev-parse", "HEAD").strip()
    before = run_cli(project, "registry-audit", "fraud", "--json")
    assert before.returncode == 0, before.stdout
    reg.promote_model("fraud", "1.1.0", to_stage="production", force=True, reason="again")
    meta = project / ".specweave" / "increments" / INCREMENT / "models" / "fraud-v1.0.0" / "metadata.json"
    meta.write_text(meta.read_text().replace('"accuracy": 0.85', '"accuracy": 0.5'))  # uncommitted: not at REV
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "hand edit of a metric")
    at_rev = run_cli(project, "registry-audit", "fraud", "--rev", then, "--json")
    assert at_rev.returncode == 0, at_rev.stdout
    assert json.loads(at_rev.stdout)["data"] == json.loads(before.stdout)["data"]
    now = json.loads(run_cli(project, "registry-audit", "fraud", "--json").stdout)["data"]
    assert len(now["events"]) == len(json.loads(before.stdout)["data"]["events"]) + 1
    assert now["unaudited_commits"] and now["deployments"][0]["metrics"] == {"accuracy": 0.5}
    for bad in ("no-such-branch", "--all"):
        r = run_cli(project, "registry-audit", "--rev", bad, "--json")
        assert r.returncode != 0 and r.returncode != 70 and json.loads(r.stdout)["ok"] is False, r.stdout


def test_changes_made_outside_the_tool_are_flagged(project: Path, make_artifact) -> None:
    reg = story(project, make_artifact)
    meta = project / ".specweave/increments" / INCREMENT / "models/fraud-v1.1.0/metadata.json"
    doc = json.loads(meta.read_text())
    doc["metrics"]["accuracy"] = 0.99
    meta.write_text(json.dumps(doc, indent=2))
    git(project, "commit", "-qam", "tweak a metric by hand")
    r = run_cli(project, "registry-audit", "fraud", "--json")
    assert r.returncode == 0 and r.stderr == ""
    flagged = json.loads(r.stdout)["data"]["unaudited_commits"]
    assert [f["paths"] for f in flagged] == [[f".specweave/increments/{INCREMENT}/models/fraud-v1.1.0/metadata.json"]]
    assert set(flagged[0]) >= {"commit", "author", "paths"}
    md = run_cli(project, "registry-audit", "fraud").stdout
    assert "## Registry changes made outside the tool" in md and "fraud-v1.1.0/metadata.json" in md
    assert ModelGovernance(reg).generate_audit_report(model="fraud").to_dict()["unaudited_commits"] == flagged


def test_dates_bound_the_report(project: Path, make_artifact) -> None:
    story(project, make_artifact)
    today = datetime.now(timezone.utc).date().isoformat()
    inside = json.loads(run_cli(project, "registry-audit", "--since", today, "--until", today, "--json").stdout)
    assert len(inside["data"]["deployments"]) == 3
    before = json.loads(run_cli(project, "registry-audit", "--until", "2000-01-01", "--json").stdout)
    assert before["data"]["events"] == [] and before["data"]["deployments"] == []


def test_the_audit_walks_the_log_newest_first_as_git_prints_it_and_matches_the_oldest_first_log(
    project: Path, make_artifact, monkeypatch
) -> None:
    """registry-audit turns each commit of the log into its event as git prints it (newest first) and keeps only the
    events: its lists come out oldest first, as from the whole log read first; a walk the caller stops stops git."""
    import subprocess

    from sw_registry.gitops import history, open_repo

    reg = story(project, make_artifact)
    meta = project / ".specweave" / "increments" / INCREMENT / "models" / "fraud-v1.1.0" / "metadata.json"
    meta.write_text(meta.read_text().replace('"dev"', '"production"', 1))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "a hand edit without trailers")
    repo = open_repo(project)
    oldest_first = repo.registry_log()
    newest_first = list(history.walk_log(repo))
    assert newest_first == oldest_first[::-1] and len(oldest_first) > 5
    data = ModelGovernance(reg).generate_audit_report().to_dict()
    events = [c for c in oldest_first if c["event"]]
    assert [e["commit"] for e in data["events"]] == [c["commit"] for c in events]
    assert [u["commit"] for u in data["unaudited_commits"]] == [oldest_first[-1]["commit"]]

    started: list[subprocess.Popen[bytes]] = []
    real = history.subprocess.Popen

    def keep(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(history.subprocess, "Popen", keep)
    walk = history.walk_log(repo)
    assert next(walk)["commit"] == oldest_first[-1]["commit"]
    walk.close()
    (proc,) = started
    assert proc.returncode is not None  # stopped and reaped, not left running
