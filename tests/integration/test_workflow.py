"""The stage workflow through the Python API on real git repositories (SPEC §4, §5, §6, §7.4–§7.7, §7.12, §7.13, §8).

Every test builds a real SpecWeave project in a temp git repo, drives ``ModelRegistry`` and checks the
files it wrote and the commits it made with plain git.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from sw_registry import ModelRegistry, RegistryError
from tests.conftest import INCREMENT, git

NAME = "fraud-model"
INC_DIR = f".specweave/increments/{INCREMENT}"
HISTORY_MD = f"{INC_DIR}/registry/deployment_history.md"


# -- helpers -------------------------------------------------------------------------------------

class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def meta_path(project: Path, version: str, name: str = NAME) -> Path:
    return project / INC_DIR / "models" / f"{name}-v{version}" / "metadata.json"


def meta(project: Path, version: str, name: str = NAME) -> dict[str, Any]:
    return json.loads(meta_path(project, version, name).read_text())


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def commit_count(project: Path) -> int:
    return int(git(project, "rev-list", "--count", "HEAD").strip())


def trailer(project: Path, key: str, rev: str = "HEAD") -> str:
    return git(project, "log", "-1", f"--format=%(trailers:key=Registry-{key},valueonly)", rev).strip()


def changed_files(project: Path, rev: str = "HEAD") -> set[str]:
    out = git(project, "show", "--name-only", "--format=", rev)
    return {line for line in out.splitlines() if line.strip()}


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file of the registry (not the cache) with its bytes."""
    base = project / ".specweave"
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in sorted(base.rglob("*"))
            if p.is_file() and "cache" not in p.relative_to(base).parts}


def history_rows(project: Path) -> list[list[str]]:
    """The table rows of deployment_history.md, as cells (header and separator dropped)."""
    text = (project / HISTORY_MD).read_text()
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or line.startswith("|---") or line.startswith("| Time"):
            continue
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def stage_rows(project: Path) -> list[tuple[str, str, str, str]]:
    """(version, from, to, reason) of the rows that record a move between two stages."""
    stages = {"dev", "staging", "production", "archived"}
    return [(r[2], r[3], r[4], r[6]) for r in history_rows(project) if r[3] in stages]


@pytest.fixture
def reg(project: Path) -> ModelRegistry:
    return ModelRegistry(root=project)


@pytest.fixture
def register(reg: ModelRegistry, make_artifact: Callable[..., Path]) -> Callable[..., Any]:
    def do(version: str, name: str = NAME, registry: ModelRegistry | None = None) -> Any:
        return (registry or reg).register_model(name=name, model=str(make_artifact()), version=version)

    return do


def to_production(reg: ModelRegistry, version: str) -> None:
    reg.promote_model(NAME, version, to_stage="staging")
    reg.promote_model(NAME, version, to_stage="production")


def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RegistryError:
    with pytest.raises(RegistryError) as exc:
        fn(*args, **kwargs)
    return exc.value


# -- promote -------------------------------------------------------------------------------------

def test_promote_dev_staging_production_one_commit_each_with_trailers(project: Path, reg, register) -> None:
    register("1.0.0")
    for frm, to in (("dev", "staging"), ("staging", "production")):
        before = commit_count(project)
        r = reg.promote_model(NAME, "v1.0.0", from_stage=frm, to_stage=to)
        assert commit_count(project) == before + 1
        assert r.commit == head(project) and len(r.commit) == 40
        assert (r.name, r.version, r.from_stage, r.to_stage, r.replaced) == (NAME, "1.0.0", frm, to, None)
        assert trailer(project, "Event") == "promote"
        assert trailer(project, "Model") == NAME
        assert trailer(project, "Version") == "1.0.0"
        assert trailer(project, "From") == frm
        assert trailer(project, "To") == to
        assert trailer(project, "Actor") == "alice@example.com"
        m = meta(project, "1.0.0")
        assert m["stage"] == to
        last = m["stage_history"][-1]
        assert (last["event"], last["from"], last["to"], last["by"], last["forced"]) == (
            "promote", frm, to, "alice@example.com", False)
        assert git(project, "status", "--porcelain").strip() == ""
    seqs = [e["seq"] for e in meta(project, "1.0.0")["stage_history"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_actor_is_recorded_in_metadata_and_trailer(project: Path, register, make_artifact) -> None:
    register("1.0.0")
    carol = ModelRegistry(root=project, actor="carol@example.com")
    carol.promote_model(NAME, "1.0.0", to_stage="staging")
    assert trailer(project, "Actor") == "carol@example.com"
    assert meta(project, "1.0.0")["stage_history"][-1]["by"] == "carol@example.com"


def test_promoting_into_staging_archives_the_holder_in_the_same_commit(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    before = commit_count(project)
    r = reg.promote_model(NAME, "2.0.0", from_stage="dev", to_stage="staging")
    assert commit_count(project) == before + 1
    assert r.replaced == "1.0.0"
    assert meta(project, "2.0.0")["stage"] == "staging"
    old = meta(project, "1.0.0")
    assert old["stage"] == "archived"
    last = old["stage_history"][-1]
    assert (last["from"], last["to"], last["reason"]) == ("staging", "archived", "replaced by v2.0.0")
    files = changed_files(project)
    assert meta_path(project, "1.0.0").relative_to(project).as_posix() in files
    assert meta_path(project, "2.0.0").relative_to(project).as_posix() in files
    assert reg.info(NAME).stages == {"staging": "2.0.0", "production": None}


def test_promoting_into_production_archives_the_holder_in_the_same_commit(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    before = commit_count(project)
    r = reg.promote_model(NAME, "2.0.0", to_stage="production")
    assert commit_count(project) == before + 1
    assert r.replaced == "1.0.0"
    old = meta(project, "1.0.0")
    assert old["stage"] == "archived"
    assert old["stage_history"][-1]["reason"] == "replaced by v2.0.0"
    assert meta_path(project, "1.0.0").relative_to(project).as_posix() in changed_files(project)
    # exactly one production version, in the files and in the API
    prods = [v for v in ("1.0.0", "2.0.0") if meta(project, v)["stage"] == "production"]
    assert prods == ["2.0.0"]
    assert reg.info(NAME).stages["production"] == "2.0.0"
    # the holder's archive event comes right after the promotion in seq order
    assert old["stage_history"][-1]["seq"] == meta(project, "2.0.0")["stage_history"][-1]["seq"] + 1


def test_promoting_to_the_stage_it_holds_is_a_noop_even_with_from(project: Path, reg, register) -> None:
    register("1.0.0")
    to_production(reg, "1.0.0")
    before_head, before_files = head(project), snapshot(project)
    for frm in (None, "staging", "dev"):
        r = reg.promote_model(NAME, "1.0.0", from_stage=frm, to_stage="production")
        assert r.commit is None
        assert r.replaced is None
        assert r.to_stage == "production"
    assert head(project) == before_head
    assert snapshot(project) == before_files


def test_from_guard_mismatch_refuses_and_changes_nothing(project: Path, reg, register) -> None:
    register("1.0.0")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.promote_model, NAME, "1.0.0", from_stage="staging", to_stage="production")
    assert err.code == "invalid_transition"
    assert head(project) == before_head and snapshot(project) == before_files


def test_skipping_a_stage_is_refused_then_forced_with_a_reason(project: Path, reg, register) -> None:
    register("1.0.0")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production")
    assert err.code == "invalid_transition" and err.hint
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production", force=True)
    assert err.code == "usage"
    assert head(project) == before_head and snapshot(project) == before_files
    r = reg.promote_model(NAME, "1.0.0", to_stage="production", force=True, reason="hotfix for incident 42")
    assert r.commit == head(project)
    last = meta(project, "1.0.0")["stage_history"][-1]
    assert (last["from"], last["to"], last["forced"], last["reason"]) == (
        "dev", "production", True, "hotfix for incident 42")
    assert trailer(project, "Reason") == "hotfix for incident 42"


def test_unknown_version_is_not_found(project: Path, reg, register) -> None:
    register("1.0.0")
    err = refused(reg.promote_model, NAME, "9.9.9", to_stage="staging")
    assert err.code == "not_found" and err.exit_code == 3
    err = refused(reg.promote_model, "no-such-model", "1.0.0", to_stage="staging")
    assert err.code == "not_found"


# -- approvals -------------------------------------------------------------------------------------

def test_set_approval_required_commits_registry_yaml(project: Path, reg, register) -> None:
    before = commit_count(project)
    r = reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME,
                                  allow_self_approval=False)
    assert r.changed is True and r.commit == head(project)
    assert commit_count(project) == before + 1
    assert trailer(project, "Event") == "policy"
    assert changed_files(project) == {".specweave/registry.yaml"}
    data = yaml.safe_load((project / ".specweave/registry.yaml").read_text())
    rule = data["models"][NAME]["approval"]["production"]
    assert rule["approvers"] == ["bob@example.com"]
    assert rule["min_approvals"] == 1
    assert rule["allow_self_approval"] is False
    again = reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME,
                                      allow_self_approval=False)
    assert again.changed is False and again.commit is None
    assert commit_count(project) == before + 1


def test_promotion_without_approval_is_refused_with_details(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    reg.set_approval_required(stage="production", approvers=["bob@example.com", "carol@example.com"], name=NAME)
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production")
    assert err.code == "approval_required" and err.exit_code == 1
    assert err.details["approvers"] == ["bob@example.com", "carol@example.com"]
    assert err.details["missing"] == 1
    # --force never bypasses approvals
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production", force=True, reason="urgent")
    assert err.code == "approval_required"
    assert head(project) == before_head and snapshot(project) == before_files
    assert meta(project, "1.0.0")["stage"] == "staging"


def test_approval_is_committed_as_the_approver_and_unlocks_promotion(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME,
                              allow_self_approval=False)
    a = reg.approve_model(NAME, "1.0.0", approver="bob@example.com", comments="looks good")
    assert a.commit == head(project)
    assert (a.approver, a.stage, a.approvals, a.required) == ("bob@example.com", "production", 1, 1)
    assert git(project, "log", "-1", "--format=%ae").strip() == "bob@example.com"
    assert trailer(project, "Event") == "approve"
    assert trailer(project, "Actor") == "bob@example.com"
    approvals = meta(project, "1.0.0")["approvals"]
    assert len(approvals) == 1
    assert (approvals[0]["approver"], approvals[0]["stage"], approvals[0]["comment"]) == (
        "bob@example.com", "production", "looks good")
    r = reg.promote_model(NAME, "1.0.0", to_stage="production")
    assert r.commit == head(project)
    assert meta(project, "1.0.0")["stage"] == "production"
    # the promotion is by alice, the approval stays bob's
    assert git(project, "log", "-1", "--format=%ae").strip() == "alice@example.com"


def test_an_unlisted_approver_is_refused_and_nothing_changes(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME)
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.approve_model, NAME, "1.0.0", approver="mallory@example.com")
    assert err.code == "not_an_approver" and err.exit_code == 1
    assert head(project) == before_head and snapshot(project) == before_files
    assert meta(project, "1.0.0")["approvals"] == []


def test_self_approval_is_refused_when_disallowed(project: Path, reg, register) -> None:
    register("1.0.0")  # created_by alice@example.com (git identity)
    assert meta(project, "1.0.0")["created_by"] == "alice@example.com"
    reg.set_approval_required(stage="production", approvers=["alice@example.com", "bob@example.com"], name=NAME,
                              allow_self_approval=False)
    before_head = head(project)
    err = refused(reg.approve_model, NAME, "1.0.0", approver="alice@example.com")
    assert err.code == "not_an_approver"
    assert head(project) == before_head
    assert meta(project, "1.0.0")["approvals"] == []


def test_min_approvals_two_needs_two_different_approvers(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    reg.set_approval_required(stage="production", approvers=["bob@example.com", "carol@example.com"], name=NAME,
                              min_approvals=2)
    first = reg.approve_model(NAME, "1.0.0", approver="bob@example.com")
    assert (first.approvals, first.required) == (1, 2)
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production")
    assert err.code == "approval_required" and err.details["missing"] == 1
    again = reg.approve_model(NAME, "1.0.0", approver="bob@example.com")
    assert again.commit is None and again.approvals == 1
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production")
    assert err.details["missing"] == 1
    second = reg.approve_model(NAME, "1.0.0", approver="carol@example.com")
    assert (second.approvals, second.required) == (2, 2)
    assert git(project, "log", "-1", "--format=%ae").strip() == "carol@example.com"
    assert reg.promote_model(NAME, "1.0.0", to_stage="production").commit == head(project)


# -- rollback --------------------------------------------------------------------------------------

def test_rollback_to_the_previous_production_version(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    to_production(reg, "2.0.0")
    before = commit_count(project)
    r = reg.rollback(NAME, reason="v2 raises false positives")
    assert commit_count(project) == before + 1
    assert (r.from_version, r.to_version, r.reason, r.commit) == (
        "2.0.0", "1.0.0", "v2 raises false positives", head(project))
    assert meta(project, "1.0.0")["stage"] == "production"
    assert meta(project, "2.0.0")["stage"] == "archived"
    back = meta(project, "1.0.0")["stage_history"][-1]
    assert (back["event"], back["from"], back["to"], back["reason"]) == (
        "rollback", "archived", "production", "v2 raises false positives")
    assert meta(project, "2.0.0")["stage_history"][-1]["to"] == "archived"
    assert trailer(project, "Event") == "rollback"
    assert trailer(project, "Version") == "1.0.0"
    assert trailer(project, "To") == "production"
    assert trailer(project, "Reason") == "v2 raises false positives"
    files = changed_files(project)
    assert {meta_path(project, v).relative_to(project).as_posix() for v in ("1.0.0", "2.0.0")} <= files
    assert ("v1.0.0", "archived", "production", "v2 raises false positives") in stage_rows(project)
    assert any(row[0] == "v2.0.0" and row[1:3] == ("production", "archived") for row in stage_rows(project))


def test_rollback_without_an_earlier_production_version_changes_nothing(project: Path, reg, register) -> None:
    register("1.0.0")
    err = refused(reg.rollback, NAME, reason="no production at all")
    assert err.code == "invalid_transition" and err.hint
    to_production(reg, "1.0.0")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.rollback, NAME, reason="only one production version")
    assert err.code == "invalid_transition" and err.exit_code == 1
    assert err.hint
    assert head(project) == before_head and snapshot(project) == before_files


def test_rollback_to_a_version_never_in_production_needs_force(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.rollback, NAME, to_version="2.0.0", reason="try it")
    assert err.code == "invalid_transition"
    err = refused(reg.rollback, NAME, to_version="2.0.0", force=True)
    assert err.code == "usage"
    assert head(project) == before_head and snapshot(project) == before_files
    r = reg.rollback(NAME, to_version="2.0.0", reason="v1 is broken, v2 passed staging", force=True)
    assert r.commit == head(project) and (r.from_version, r.to_version) == ("1.0.0", "2.0.0")
    assert meta(project, "2.0.0")["stage"] == "production"
    assert meta(project, "1.0.0")["stage"] == "archived"


def test_rollback_to_a_deprecated_version_needs_force(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    to_production(reg, "2.0.0")
    reg.deprecate_model(NAME, "1.0.0", reason="trained on leaked data")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.rollback, NAME, reason="v2 is bad")
    assert err.code == "deprecated" and err.exit_code == 1
    err = refused(reg.rollback, NAME, to_version="1.0.0", reason="v2 is bad")
    assert err.code == "deprecated"
    assert head(project) == before_head and snapshot(project) == before_files
    r = reg.rollback(NAME, to_version="1.0.0", reason="v2 is worse than the leak", force=True)
    assert r.commit == head(project)
    assert meta(project, "1.0.0")["stage"] == "production"


def test_rollback_verifies_the_target_artifact_first(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    to_production(reg, "2.0.0")
    art = meta_path(project, "1.0.0").parent / "model.pkl"
    art.write_bytes(b"tampered")
    # left uncommitted, the registry is refused as damaged (dirty_registry or integrity, both exit 4)
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.rollback, NAME, reason="v2 is bad")
    assert err.exit_code == 4
    assert head(project) == before_head and snapshot(project) == before_files
    # committed behind the tool's back, the work tree is clean but the hash no longer matches
    git(project, "commit", "-q", "-am", "oops")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.rollback, NAME, reason="v2 is bad")
    assert err.code == "integrity" and err.exit_code == 4
    assert head(project) == before_head and snapshot(project) == before_files
    assert meta(project, "2.0.0")["stage"] == "production"
    assert meta(project, "1.0.0")["stage"] == "archived"


# -- deprecation -----------------------------------------------------------------------------------

def test_deprecate_records_reason_and_end_of_life(project: Path, reg, register) -> None:
    register("1.0.0")
    r = reg.deprecate_model(NAME, "1.0.0", reason="superseded by v2", end_of_life="2024-06-01")
    assert r.commit == head(project)
    assert (r.reason, r.end_of_life) == ("superseded by v2", "2024-06-01")
    dep = meta(project, "1.0.0")["deprecation"]
    assert (dep["reason"], dep["end_of_life"]) == ("superseded by v2", "2024-06-01")
    assert trailer(project, "Event") == "deprecate"
    assert trailer(project, "Reason") == "superseded by v2"
    assert meta(project, "1.0.0")["stage"] == "dev"  # deprecation is not a stage
    err = refused(reg.deprecate_model, NAME, "1.0.0", reason="x", end_of_life="June 2024")
    assert err.code == "invalid_input"


def test_deprecating_the_production_version_needs_force(project: Path, reg, register) -> None:
    register("1.0.0")
    to_production(reg, "1.0.0")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.deprecate_model, NAME, "1.0.0", reason="old")
    assert err.code == "invalid_transition" and err.exit_code == 1
    assert head(project) == before_head and snapshot(project) == before_files
    r = reg.deprecate_model(NAME, "1.0.0", reason="old", force=True)
    assert r.commit == head(project)
    assert meta(project, "1.0.0")["deprecation"]["reason"] == "old"
    assert meta(project, "1.0.0")["stage"] == "production"


def test_promoting_a_deprecated_version_needs_force(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.deprecate_model(NAME, "1.0.0", reason="bad features")
    before_head, before_files = head(project), snapshot(project)
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="staging")
    assert err.code == "deprecated" and err.exit_code == 1
    assert head(project) == before_head and snapshot(project) == before_files
    r = reg.promote_model(NAME, "1.0.0", to_stage="staging", force=True, reason="needed for a replay test")
    assert r.commit == head(project)
    assert meta(project, "1.0.0")["stage"] == "staging"


# -- deployment_history.md -------------------------------------------------------------------------

def test_deployment_history_gets_one_row_per_stage_change(project: Path, reg, register) -> None:
    carol = ModelRegistry(root=project, actor="carol@example.com")
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    carol.promote_model(NAME, "2.0.0", to_stage="production", reason="better recall")
    assert stage_rows(project) == [
        ("v1.0.0", "dev", "staging", "-"),
        ("v1.0.0", "staging", "production", "-"),
        ("v2.0.0", "dev", "staging", "-"),
        ("v2.0.0", "staging", "production", "better recall"),
        ("v1.0.0", "production", "archived", "replaced by v2.0.0"),
    ]
    rows = [r for r in history_rows(project) if r[3] in {"dev", "staging", "production", "archived"}]
    for row in rows:
        assert len(row) == 7
        assert row[1] == NAME
        datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%SZ")  # time column is UTC ISO-8601
    assert [r[5] for r in rows] == ["alice@example.com"] * 3 + ["carol@example.com"] * 2
    # the file is committed with the change it records
    assert HISTORY_MD in changed_files(project)


# -- history ---------------------------------------------------------------------------------------

def test_history_lists_every_event_in_order_with_its_commit(project: Path, reg, register) -> None:
    reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME)
    c = {}
    c["reg1"] = register("1.0.0").commit
    c["reg2"] = register("2.0.0").commit
    c["p1s"] = reg.promote_model(NAME, "1.0.0", to_stage="staging").commit
    c["a1"] = reg.approve_model(NAME, "1.0.0", approver="bob@example.com").commit
    c["p1p"] = reg.promote_model(NAME, "1.0.0", to_stage="production").commit
    c["p2s"] = reg.promote_model(NAME, "2.0.0", to_stage="staging").commit
    c["a2"] = reg.approve_model(NAME, "2.0.0", approver="bob@example.com").commit
    c["p2p"] = reg.promote_model(NAME, "2.0.0", to_stage="production").commit
    c["rb"] = reg.rollback(NAME, reason="v2 drifts").commit
    c["dep"] = reg.deprecate_model(NAME, "2.0.0", reason="drifts").commit
    h = reg.history(NAME)
    assert h.name == NAME
    # the holder's move to archived may be named "archive" or "promote"; SPEC names only its effect
    got = [("archive" if e.to_stage == "archived" and e.event in ("archive", "promote") else e.event,
            e.version, e.from_stage, e.to_stage, e.commit) for e in h.events]
    assert got == [
        ("register", "1.0.0", None, "dev", c["reg1"]),
        ("register", "2.0.0", None, "dev", c["reg2"]),
        ("promote", "1.0.0", "dev", "staging", c["p1s"]),
        ("approve", "1.0.0", None, "production", c["a1"]),
        ("promote", "1.0.0", "staging", "production", c["p1p"]),
        ("promote", "2.0.0", "dev", "staging", c["p2s"]),
        ("approve", "2.0.0", None, "production", c["a2"]),
        ("promote", "2.0.0", "staging", "production", c["p2p"]),
        ("archive", "1.0.0", "production", "archived", c["p2p"]),
        ("rollback", "1.0.0", "archived", "production", c["rb"]),
        ("archive", "2.0.0", "production", "archived", c["rb"]),
        ("deprecate", "2.0.0", None, None, c["dep"]),
    ]
    assert all(commit and len(commit) == 40 for commit in c.values())
    by_event = {(e.event, e.version): e for e in h.events}
    assert by_event[("approve", "1.0.0")].by == "bob@example.com"
    assert by_event[("rollback", "1.0.0")].reason == "v2 drifts"
    assert by_event[("deprecate", "2.0.0")].reason == "drifts"
    # the shape is the CLI's
    d = h.to_dict()
    assert set(d) >= {"name", "events"}
    assert set(d["events"][0]) >= {"event", "version", "from", "to", "at", "by", "reason", "commit"}


# -- same second: seq decides ------------------------------------------------------------------------

def test_same_second_events_follow_seq(project: Path, register) -> None:
    fixed = datetime(2024, 1, 15, 10, 30, 0, tzinfo=timezone.utc)
    reg = ModelRegistry(root=project, clock=lambda: fixed)
    for v in ("1.0.0", "2.0.0", "3.0.0"):
        register(v, registry=reg)
    # promoted in an order that is neither version order nor (tied) time order
    for v in ("3.0.0", "1.0.0", "2.0.0"):
        to_production(reg, v)
    assert reg.info(NAME).stages["production"] == "2.0.0"
    same = "2024-01-15T10:30:00Z"
    assert reg.resolve(NAME, date=same)["version"] == "2.0.0"
    assert reg.resolve(NAME, date="2024-01-15")["version"] == "2.0.0"
    assert reg.get_model_by_date(NAME, "2024-01-15", load=False).version == "2.0.0"

    r = reg.rollback(NAME, reason="v2 bad")  # the previous production version is v1, by seq
    assert (r.from_version, r.to_version) == ("2.0.0", "1.0.0")
    assert reg.resolve(NAME, date=same)["version"] == "1.0.0"
    assert reg.get_model_by_date(NAME, "2024-01-15", load=False).version == "1.0.0"

    r = reg.rollback(NAME, reason="v1 bad too")  # and now the previous one is v2 again
    assert (r.from_version, r.to_version) == ("1.0.0", "2.0.0")
    assert reg.resolve(NAME, date=same)["version"] == "2.0.0"

    h = reg.history(NAME)
    assert {e.at for e in h.events} == {same}
    prod_moves = [(e.event, e.version) for e in h.events if e.to_stage == "production"]
    assert prod_moves == [("promote", "3.0.0"), ("promote", "1.0.0"), ("promote", "2.0.0"),
                          ("rollback", "1.0.0"), ("rollback", "2.0.0")]
    seqs = [e.seq for e in h.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # the seq is unique across all versions in the files too
    all_seqs = [e["seq"] for v in ("1.0.0", "2.0.0", "3.0.0") for e in meta(project, v)["stage_history"]]
    assert len(all_seqs) == len(set(all_seqs))


def test_get_model_by_date_returns_the_version_in_production_then(project: Path, register) -> None:
    clock = Clock(datetime(2024, 1, 10, 12, 0, 0, tzinfo=timezone.utc))
    reg = ModelRegistry(root=project, clock=clock)
    register("1.0.0", registry=reg)
    register("2.0.0", registry=reg)
    to_production(reg, "1.0.0")  # 2024-01-10 12:00
    clock.now += timedelta(days=10)
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    reg.promote_model(NAME, "2.0.0", to_stage="production")  # 2024-01-20 12:00
    got = reg.get_model_by_date(NAME, "2024-01-15", load=False)
    assert got.version == "1.0.0"
    assert got.verified is True and Path(got.path).is_file()
    assert reg.get_model_by_date(NAME, "2024-01-20T11:59:59Z", load=False).version == "1.0.0"
    assert reg.get_model_by_date(NAME, "2024-01-20T13:00:00+01:00", load=False).version == "2.0.0"
    assert reg.get_model_by_date(NAME, "2024-01-20", load=False).version == "2.0.0"
    assert reg.resolve(NAME, date="2024-02-01")["version"] == "2.0.0"
    err = refused(reg.get_model_by_date, NAME, "2024-01-09", load=False)
    assert err.code == "not_found" and err.exit_code == 3
    err = refused(reg.get_model_by_date, NAME, "not-a-date", load=False)
    assert err.code == "invalid_input"


# -- the user's own changes --------------------------------------------------------------------------

def test_a_staged_user_change_survives_promote(project: Path, reg, register) -> None:
    register("1.0.0")
    notes = project / "notes.txt"
    notes.write_bytes(b"v0\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "-q", "-m", "notes")
    notes.write_bytes(b"staged \xc3\xa9 content\r\n")
    git(project, "add", "notes.txt")
    notes.write_bytes(b"unstaged work in progress\n")
    r = reg.promote_model(NAME, "1.0.0", to_stage="staging")
    assert r.commit == head(project)
    assert "notes.txt" not in changed_files(project)
    assert all(p.startswith(".specweave/") for p in changed_files(project))
    assert notes.read_bytes() == b"unstaged work in progress\n"
    staged = git(project, "diff", "--cached", "--name-only").split()
    assert staged == ["notes.txt"]
    blob = git(project, "rev-parse", ":notes.txt").strip()
    content = subprocess.run(["git", "cat-file", "blob", blob], cwd=project, capture_output=True, check=True).stdout
    assert content == b"staged \xc3\xa9 content\r\n"


# -- more rules ------------------------------------------------------------------------------------

def test_a_reason_cannot_forge_trailers(project: Path, reg, register) -> None:
    register("1.0.0")
    sneaky = "ok\n\nRegistry-Event: deprecate\nRegistry-Version: 9.9.9\nRegistry-Actor: mallory@example.com"
    reg.promote_model(NAME, "1.0.0", to_stage="staging", reason=sneaky)
    assert trailer(project, "Event") == "promote"
    assert trailer(project, "Version") == "1.0.0"
    assert trailer(project, "Actor") == "alice@example.com"
    assert "\n" not in trailer(project, "Reason")


def test_default_approval_policy_applies_to_every_model(project: Path, reg, register) -> None:
    r = reg.set_approval_required(stage="production", approvers=["bob@example.com"])
    assert r.commit == head(project)
    data = yaml.safe_load((project / ".specweave/registry.yaml").read_text())
    assert data["defaults"]["approval"]["production"]["approvers"] == ["bob@example.com"]
    for name in (NAME, "churn-model"):
        register("1.0.0", name=name)
        reg.promote_model(name, "1.0.0", to_stage="staging")
        err = refused(reg.promote_model, name, "1.0.0", to_stage="production")
        assert err.code == "approval_required"
        assert err.details == {**err.details, "approvers": ["bob@example.com"], "missing": 1}


def test_approval_for_staging_gates_promotion_into_staging(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.set_approval_required(stage="staging", approvers=["bob@example.com"], name=NAME)
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="staging")
    assert err.code == "approval_required"
    # an approval for production does not count for staging
    reg.approve_model(NAME, "1.0.0", approver="bob@example.com", stage="production")
    assert refused(reg.promote_model, NAME, "1.0.0", to_stage="staging").code == "approval_required"
    reg.approve_model(NAME, "1.0.0", approver="bob@example.com", stage="staging")
    assert reg.promote_model(NAME, "1.0.0", to_stage="staging").commit == head(project)


def test_approval_required_argument_needs_one_approval_from_anyone(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    err = refused(reg.promote_model, NAME, "1.0.0", to_stage="production", approval_required=True)
    assert err.code == "approval_required" and err.details["missing"] == 1
    reg.approve_model(NAME, "1.0.0", approver="zed@example.com")
    assert reg.promote_model(NAME, "1.0.0", to_stage="production", approval_required=True).commit == head(project)


def test_approvals_count_per_version(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME)
    reg.approve_model(NAME, "1.0.0", approver="bob@example.com")
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    assert refused(reg.promote_model, NAME, "2.0.0", to_stage="production").code == "approval_required"


def test_rollback_needs_no_approval_and_no_reason(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    to_production(reg, "2.0.0")
    reg.set_approval_required(stage="production", approvers=["bob@example.com"], name=NAME, min_approvals=1)
    r = reg.rollback(NAME)
    assert (r.from_version, r.to_version, r.reason) == ("2.0.0", "1.0.0", None)
    assert r.commit == head(project)
    assert meta(project, "1.0.0")["stage"] == "production"


def test_rollback_to_the_current_production_version_changes_nothing(project: Path, reg, register) -> None:
    register("1.0.0")
    register("2.0.0")
    to_production(reg, "1.0.0")
    to_production(reg, "2.0.0")
    reg.rollback(NAME, reason="v2 bad")
    before_head, before_files = head(project), snapshot(project)
    r = reg.rollback(NAME, to_version="1.0.0", reason="v2 bad")  # a CI retry of the same rollback
    assert r.commit is None and r.to_version == "1.0.0"
    assert head(project) == before_head and snapshot(project) == before_files


def test_archiving_the_production_version_leaves_no_holder(project: Path, reg, register) -> None:
    register("1.0.0")
    to_production(reg, "1.0.0")
    r = reg.promote_model(NAME, "1.0.0", to_stage="archived", reason="retired")
    assert (r.from_stage, r.to_stage, r.replaced) == ("production", "archived", None)
    assert reg.info(NAME).stages == {"staging": None, "production": None}
    err = refused(reg.get_model, NAME, stage="production", load=False)
    assert err.code == "not_found"
    # archived -> staging is an allowed way back
    assert reg.promote_model(NAME, "1.0.0", to_stage="staging").commit == head(project)


def test_deprecating_again_with_the_same_reason_is_a_noop(project: Path, reg, register) -> None:
    register("1.0.0")
    reg.deprecate_model(NAME, "1.0.0", reason="old", end_of_life="2024-06-01")
    before = head(project)
    r = reg.deprecate_model(NAME, "1.0.0", reason="old", end_of_life="2024-06-01")
    assert r.commit is None
    assert head(project) == before


def test_stage_changes_are_logged_in_each_versions_own_increment(project: Path, reg, register,
                                                                  make_artifact) -> None:
    register("1.0.0")
    to_production(reg, "1.0.0")
    other = "0043-fraud-v2"
    reg.register_model(name=NAME, model=str(make_artifact()), version="2.0.0", increment=other)
    reg.promote_model(NAME, "2.0.0", to_stage="staging")
    r = reg.promote_model(NAME, "2.0.0", to_stage="production")
    assert r.replaced == "1.0.0"
    new_log = (project / f".specweave/increments/{other}/registry/deployment_history.md").read_text()
    old_log = (project / HISTORY_MD).read_text()
    assert "| v2.0.0 | staging | production |" in new_log
    assert "v1.0.0" not in new_log
    assert "| v1.0.0 | production | archived |" in old_log
    assert "v2.0.0 | staging | production" not in old_log
    # both increments' files are in the one commit, and nothing is left uncommitted
    files = changed_files(project)
    assert f"{INC_DIR}/models/{NAME}-v1.0.0/metadata.json" in files
    assert f".specweave/increments/{other}/models/{NAME}-v2.0.0/metadata.json" in files
    assert git(project, "status", "--porcelain").strip() == ""
    catalog = yaml.safe_load((project / INC_DIR / "registry/model_catalog.yaml").read_text())
    assert [e["stage"] for e in catalog["models"][NAME]] == ["archived"]


def test_set_model_signature_rewrites_signature_and_features_in_one_commit(project: Path, make_artifact) -> None:
    from sw_registry.registry import ModelRegistry as Registry
    from tests.conftest import git as run_git

    reg = Registry(root=project)
    reg.register_model("sig", str(make_artifact(b"s")), version="1.0.0")
    before = run_git(project, "rev-parse", "HEAD").strip()
    mv = reg.set_model_signature(model="sig@1.0.0", inputs={"amount": "float", "merchant_id": "int"},
                                 outputs={"fraud_probability": "float"})
    assert mv.commit is not None and run_git(project, "rev-parse", "HEAD^").strip() == before
    assert mv.metadata["signature"] == {"inputs": {"amount": "float", "merchant_id": "int"},
                                       "outputs": {"fraud_probability": "float"}}
    assert mv.metadata["features"] == [{"name": "amount", "type": "float"}, {"name": "merchant_id", "type": "int"}]
    folder = project / ".specweave/increments" / INCREMENT / "models/sig-v1.0.0"
    import yaml

    assert yaml.safe_load((folder / "features.yaml").read_text())["features"] == mv.metadata["features"]
    trailer = run_git(project, "log", "-1", "--format=%(trailers:key=Registry-Event,valueonly)").strip()
    assert trailer == "signature"
    again = reg.set_model_signature(model="sig@1.0.0", inputs={"amount": "float", "merchant_id": "int"},
                                    outputs={"fraud_probability": "float"})
    assert again.commit is None
