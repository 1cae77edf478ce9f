"""registry-promote / -rollback / -approve / -deprecate / -history / -policy / -get --date through the real CLI.

State is set up through the Python API (fast, in-process); the command under test runs in a subprocess
exactly as a user or CI script would run it. JSON shapes and exit codes are SPEC §9 / §9.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from sw_registry import ModelRegistry
from tests.conftest import INCREMENT, Result, git

NAME = "fraud-model"


def meta(project: Path, version: str) -> dict[str, Any]:
    path = project / ".specweave/increments" / INCREMENT / "models" / f"{NAME}-v{version}" / "metadata.json"
    return json.loads(path.read_text())


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def trailer(project: Path, key: str) -> str:
    return git(project, "log", "-1", f"--format=%(trailers:key=Registry-{key},valueonly)").strip()


def ok(r: Result) -> Any:
    """The data of a successful --json run (exit 0, one envelope on stdout, nothing on stderr)."""
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    doc = r.json
    assert doc["ok"] is True
    return doc["data"]


def failed(r: Result, code: str, exit_code: int) -> dict[str, Any]:
    """The error of a refused --json run, checked against its SPEC §9 code and exit code."""
    assert r.stderr == ""
    doc = r.json
    assert doc["ok"] is False, doc
    err = doc["error"]
    assert err["code"] == code, err
    assert r.returncode == exit_code
    assert set(err) >= {"code", "message", "hint"}
    assert err["message"]
    return err


@pytest.fixture
def reg(project: Path) -> ModelRegistry:
    return ModelRegistry(root=project)


@pytest.fixture
def register(reg: ModelRegistry, make_artifact: Callable[..., Path]) -> Callable[..., Any]:
    def do(version: str, registry: ModelRegistry | None = None) -> Any:
        return (registry or reg).register_model(name=NAME, model=str(make_artifact()), version=version)

    return do


def to_production(reg: ModelRegistry, version: str) -> None:
    reg.promote_model(NAME, version, to_stage="staging")
    reg.promote_model(NAME, version, to_stage="production")


# -- registry-promote ------------------------------------------------------------------------------

PROMOTE_KEYS = {"name", "version", "from", "to", "replaced", "commit"}


def test_promote_json_shape_replacement_and_idempotent_retry(cli, project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    data = ok(cli("registry-promote", NAME, "v2.0.0", "--to", "production", "--from", "staging", "--json"))
    assert set(data) >= PROMOTE_KEYS
    assert {k: data[k] for k in PROMOTE_KEYS} == {
        "name": NAME, "version": "2.0.0", "from": "staging", "to": "production", "replaced": "1.0.0",
        "commit": head(project)}
    assert len(data["commit"]) == 40
    assert meta(project, "1.0.0")["stage"] == "archived"
    # CI retries the same promotion: success, nothing changes
    before = head(project)
    again = ok(cli("registry-promote", NAME, "2.0.0", "--to", "production", "--from", "staging", "--json"))
    assert again["commit"] is None and again["replaced"] is None
    assert (again["version"], again["to"]) == ("2.0.0", "production")
    assert head(project) == before


def test_promote_human_output_names_the_move_actor_and_commit(cli, project: Path, register) -> None:
    register("1.0.0")
    r = cli("registry-promote", NAME, "1.0.0", "--to", "staging", "--actor", "carol@example.com")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    commit = head(project)
    assert "dev" in out and "staging" in out and out.index("dev") < out.index("staging")
    assert "carol@example.com" in out
    assert commit[:7] in out
    assert trailer(project, "Actor") == "carol@example.com"


def test_promote_refusals_and_their_exit_codes(cli, project: Path, register) -> None:
    register("1.0.0")
    before = head(project)
    err = failed(cli("registry-promote", NAME, "1.0.0", "--to", "production", "--json"), "invalid_transition", 1)
    assert err["hint"]
    failed(cli("registry-promote", NAME, "1.0.0", "--to", "production", "--force", "--json"), "usage", 2)
    failed(cli("registry-promote", NAME, "1.0.0", "--to", "staging", "--from", "staging", "--json"),
           "invalid_transition", 1)
    failed(cli("registry-promote", NAME, "7.0.0", "--to", "staging", "--json"), "not_found", 3)
    assert head(project) == before
    assert meta(project, "1.0.0")["stage"] == "dev"
    # the forced skip with a reason lands, marked as forced
    data = ok(cli("registry-promote", NAME, "1.0.0", "--to", "production", "--force", "--reason", "hotfix",
                  "--json"))
    assert (data["from"], data["to"], data["commit"]) == ("dev", "production", head(project))
    assert meta(project, "1.0.0")["stage_history"][-1]["forced"] is True
    assert trailer(project, "Reason") == "hotfix"


def test_promote_refusal_in_human_mode_goes_to_stderr(cli, project: Path, register) -> None:
    register("1.0.0")
    r = cli("registry-promote", NAME, "1.0.0", "--to", "production")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "invalid_transition" in r.stderr


# -- registry-policy / registry-approve --------------------------------------------------------------

APPROVE_KEYS = {"name", "version", "stage", "approver", "approvals", "required", "commit"}


def test_policy_approve_and_promote(cli, project: Path, reg, register) -> None:
    register("1.0.0")  # created by alice@example.com
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    before = head(project)
    data = ok(cli("registry-policy", NAME, "--require-approval", "production", "--approver", "bob@example.com",
                  "--no-self-approval", "--json"))
    assert set(data) >= {"changed", "commit"}
    assert data["changed"] is True and data["commit"] == head(project) != before
    assert trailer(project, "Event") == "policy"
    assert git(project, "show", "--name-only", "--format=", "HEAD").split() == [".specweave/registry.yaml"]
    policy = yaml.safe_load((project / ".specweave/registry.yaml").read_text())
    rule = policy["models"][NAME]["approval"]["production"]
    assert rule["approvers"] == ["bob@example.com"]
    assert rule["allow_self_approval"] is False
    assert rule.get("min_approvals", 1) == 1

    # refused promotion: approval_required, exit 1, details
    err = failed(cli("registry-promote", NAME, "1.0.0", "--to", "production", "--json"), "approval_required", 1)
    assert err["details"]["approvers"] == ["bob@example.com"]
    assert err["details"]["missing"] == 1

    # an unlisted approver, and the creator approving her own version
    failed(cli("registry-approve", NAME, "1.0.0", "--actor", "mallory@example.com", "--json"), "not_an_approver", 1)
    failed(cli("registry-approve", NAME, "1.0.0", "--json"), "not_an_approver", 1)  # actor = git identity alice
    assert meta(project, "1.0.0")["approvals"] == []

    data = ok(cli("registry-approve", NAME, "v1.0.0", "--actor", "bob@example.com", "--comment", "ok", "--json"))
    assert set(data) >= APPROVE_KEYS
    assert {k: data[k] for k in APPROVE_KEYS} == {
        "name": NAME, "version": "1.0.0", "stage": "production", "approver": "bob@example.com",
        "approvals": 1, "required": 1, "commit": head(project)}
    assert git(project, "log", "-1", "--format=%ae").strip() == "bob@example.com"
    assert meta(project, "1.0.0")["approvals"][0]["approver"] == "bob@example.com"

    data = ok(cli("registry-promote", NAME, "1.0.0", "--to", "production", "--json"))
    assert data["to"] == "production" and data["commit"] == head(project)

    # the same policy again changes nothing
    again = ok(cli("registry-policy", NAME, "--require-approval", "production", "--approver", "bob@example.com",
                   "--no-self-approval", "--json"))
    assert (again["changed"], again["commit"]) == (False, None)


# -- registry-rollback -------------------------------------------------------------------------------

ROLLBACK_KEYS = {"name", "from_version", "to_version", "reason", "commit"}


def test_rollback_json_shape_and_refusals(cli, project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    register("3.0.0")
    to_production(reg, "1.0.0")
    before = head(project)
    err = failed(cli("registry-rollback", NAME, "--reason", "nothing to go back to", "--json"),
                 "invalid_transition", 1)
    assert err["hint"]
    assert head(project) == before
    to_production(reg, "2.0.0")
    failed(cli("registry-rollback", NAME, "--to", "3.0.0", "--reason", "never deployed", "--json"),
           "invalid_transition", 1)
    failed(cli("registry-rollback", NAME, "--to", "3.0.0", "--force", "--json"), "usage", 2)
    failed(cli("registry-rollback", NAME, "--to", "9.0.0", "--json"), "not_found", 3)

    data = ok(cli("registry-rollback", NAME, "--reason", "v2 causes false positives", "--json"))
    assert set(data) >= ROLLBACK_KEYS
    assert {k: data[k] for k in ROLLBACK_KEYS} == {
        "name": NAME, "from_version": "2.0.0", "to_version": "1.0.0", "reason": "v2 causes false positives",
        "commit": head(project)}
    assert trailer(project, "Event") == "rollback"
    assert trailer(project, "Reason") == "v2 causes false positives"
    assert meta(project, "1.0.0")["stage"] == "production"
    assert meta(project, "2.0.0")["stage"] == "archived"


def test_rollback_human_output(cli, project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    to_production(reg, "2.0.0")
    r = cli("registry-rollback", NAME, "--reason", "latency")
    assert r.returncode == 0, r.stderr
    assert "v2.0.0" in r.stdout and "v1.0.0" in r.stdout
    assert r.stdout.index("v2.0.0") < r.stdout.index("v1.0.0")
    assert head(project)[:7] in r.stdout
    assert "latency" in r.stdout


# -- registry-deprecate ------------------------------------------------------------------------------

DEPRECATE_KEYS = {"name", "version", "reason", "end_of_life", "commit"}


def test_deprecate_json_shape_and_its_effects(cli, project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    failed(cli("registry-deprecate", NAME, "1.0.0", "--reason", "old", "--json"), "invalid_transition", 1)
    assert meta(project, "1.0.0")["deprecation"] is None

    data = ok(cli("registry-deprecate", NAME, "v2.0.0", "--reason", "leaky feature", "--end-of-life", "2024-06-01",
                  "--json"))
    assert set(data) >= DEPRECATE_KEYS
    assert {k: data[k] for k in DEPRECATE_KEYS} == {
        "name": NAME, "version": "2.0.0", "reason": "leaky feature", "end_of_life": "2024-06-01",
        "commit": head(project)}
    assert trailer(project, "Event") == "deprecate"
    failed(cli("registry-promote", NAME, "2.0.0", "--to", "staging", "--json"), "deprecated", 1)
    failed(cli("registry-deprecate", NAME, "2.0.0", "--reason", "x", "--end-of-life", "soon", "--json"),
           "invalid_input", 2)

    data = ok(cli("registry-deprecate", NAME, "1.0.0", "--reason", "old", "--force", "--json"))
    assert data["commit"] == head(project)
    assert meta(project, "1.0.0")["deprecation"]["reason"] == "old"


# -- registry-history --------------------------------------------------------------------------------

EVENT_KEYS = {"event", "version", "from", "to", "at", "by", "reason", "commit"}


def test_history_json_shape(cli, project: Path, reg, register) -> None:
    c1 = register("1.0.0").commit
    p1 = reg.promote_model(NAME, "1.0.0", to_stage="staging", reason="offline eval passed").commit
    p2 = reg.promote_model(NAME, "1.0.0", to_stage="production").commit
    data = ok(cli("registry-history", NAME, "--json"))
    assert set(data) >= {"name", "events"} and data["name"] == NAME
    for e in data["events"]:
        assert set(e) >= EVENT_KEYS
        assert e["at"].endswith("Z")
    got = [(e["event"], e["version"], e["from"], e["to"], e["by"], e["reason"], e["commit"]) for e in data["events"]]
    assert got == [
        ("register", "1.0.0", None, "dev", "alice@example.com", None, c1),
        ("promote", "1.0.0", "dev", "staging", "alice@example.com", "offline eval passed", p1),
        ("promote", "1.0.0", "staging", "production", "alice@example.com", None, p2),
    ]
    # --format json is the same envelope
    assert ok(cli("registry-history", NAME, "--format", "json")) == data
    failed(cli("registry-history", "no-such-model", "--json"), "not_found", 3)


def test_history_format_md_is_a_markdown_table(cli, project: Path, reg, register) -> None:
    """SPEC §7.12: --format md|json for history as for audit; md is markdown (a cell's | escaped); without
    --format, the terminal's table."""
    register("1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging", reason="a | b")
    r = cli("registry-history", NAME, "--format", "md")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == f"# History of {NAME}"
    assert lines[2] == "| # | Time | Event | Version | From | To | By | Reason | Commit |"
    assert lines[4].startswith("| 1 | ") and "| register | v1.0.0 | - | dev | alice@example.com |" in lines[4]
    assert "| promote | v1.0.0 | dev | staging | alice@example.com | a \\| b |" in lines[5]
    assert len(lines) == 6
    assert not cli("registry-history", NAME).stdout.startswith("# History")  # the terminal table
    failed(cli("registry-history", NAME, "--format", "csv", "--json"), "usage", 2)


def test_history_since_and_until_keep_the_events_within_them(cli, project: Path, register) -> None:
    """SPEC §7.12 gives registry-history and registry-audit one option line: --since and --until bound both, a date
    meaning the start (since) or the end (until) of that UTC day."""
    clock_now = [datetime(2024, 1, 10, 12, 0, 0, tzinfo=timezone.utc)]
    reg = ModelRegistry(root=project, clock=lambda: clock_now[0])
    register("1.0.0", registry=reg)  # 2024-01-10 12:00Z
    clock_now[0] += timedelta(days=5)
    reg.promote_model(NAME, "1.0.0", to_stage="staging")  # 2024-01-15 12:00Z
    clock_now[0] += timedelta(days=5)
    reg.promote_model(NAME, "1.0.0", to_stage="production")  # 2024-01-20 12:00Z
    time.sleep(0.1)  # past the read memo's racy window, so the unbounded read below is kept

    def events(*bounds: str) -> list[str]:
        return [e["to"] for e in ok(cli("registry-history", NAME, *bounds, "--json"))["events"]]

    assert events() == ["dev", "staging", "production"]
    assert events("--since", "2024-01-15") == ["staging", "production"]
    assert events("--until", "2024-01-15") == ["dev", "staging"]
    assert events("--since", "2024-01-15", "--until", "2024-01-15") == ["staging"]
    assert events("--since", "2024-01-15T12:00:01Z") == ["production"]
    assert events("--since", "2025-01-01") == []
    assert ModelRegistry(root=project).history(NAME, since="2024-01-16").to_dict()["events"][0]["to"] == "production"
    failed(cli("registry-history", NAME, "--since", "yesterday", "--json"), "invalid_input", 2)
    memo = project / ".specweave" / "cache" / "sw-registry" / "reads"
    kept = [p.name for p in memo.glob("*")] if memo.is_dir() else []
    assert kept and not [n for n in kept if "since" in n or "until" in n]  # an entry per instant: no bound


# -- registry-get --date -----------------------------------------------------------------------------

def test_get_by_date_resolves_the_version_in_production_then(cli, project: Path, register) -> None:
    clock_now = [datetime(2024, 1, 10, 12, 0, 0, tzinfo=timezone.utc)]
    reg = ModelRegistry(root=project, clock=lambda: clock_now[0])
    register("1.0.0", registry=reg)
    register("2.0.0", registry=reg)
    to_production(reg, "1.0.0")
    clock_now[0] += timedelta(days=10)
    to_production(reg, "2.0.0")  # 2024-01-20 12:00Z
    data = ok(cli("registry-get", NAME, "--date", "2024-01-15", "--json"))
    assert set(data) >= {"name", "version", "stage", "path", "sha256", "verified"}
    assert (data["name"], data["version"], data["verified"]) == (NAME, "1.0.0", True)
    assert Path(data["path"]).is_absolute() and Path(data["path"]).is_file()
    assert ok(cli("registry-get", NAME, "--date", "2024-01-20T12:30:00Z", "--json"))["version"] == "2.0.0"
    failed(cli("registry-get", NAME, "--date", "2024-01-01", "--json"), "not_found", 3)
    failed(cli("registry-get", NAME, "--date", "last tuesday", "--json"), "invalid_input", 2)
