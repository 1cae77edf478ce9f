"""registry-monitor, auto-rollback and ModelMonitor (SPEC §7.8, §5 auto_rollback, §12) on real git repos."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from sw_registry import ModelMonitor, ModelRegistry
from sw_registry.errors import InvalidInput, ThresholdBreached
from tests.cli.inprocess import run_main
from tests.conftest import INCREMENT, error, git, run_cli

JSONL = Path(".specweave/increments") / INCREMENT / "registry/monitoring/fraud.jsonl"
DAY_AGO = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> str:
    return iso(datetime.now(timezone.utc) - timedelta(**delta))


def deploy(project: Path, make_artifact, versions=(("1.0.0", 0.90), ("1.1.0", 0.92)), triggers=None) -> ModelRegistry:
    """Each version registered and promoted to production in turn, a day ago (so windows reach back to them)."""
    reg = ModelRegistry(root=project, clock=lambda: DAY_AGO)
    for version, accuracy in versions:
        reg.register_model(
            "fraud", str(make_artifact(version.encode())), version=version, metadata={"accuracy": accuracy}
        )
        reg.promote_model("fraud", version, to_stage="staging")
        reg.promote_model("fraud", version, to_stage="production")
    if triggers:
        reg.update_policy("fraud", triggers=triggers)
    return ModelRegistry(root=project)


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def files_of(project: Path, rev: str = "HEAD") -> list[str]:
    return sorted(git(project, "show", "--name-only", "--format=", rev).split())


def trailer(project: Path, key: str, rev: str = "HEAD") -> str:
    return git(project, "log", "-1", f"--format=%(trailers:key=Registry-{key},valueonly)", rev).strip()


def monitor(project: Path, *args: str, input: str | None = None):
    return run_cli(project, "registry-monitor", "fraud", *args, "--json", input=input)


def monitor_in_process(project: Path, *args: str):
    """The same command through the console script's entry point, without a new interpreter (refusal tables)."""
    return run_main(project, "registry-monitor", "fraud", *args, "--json")


def production(project: Path) -> str:
    return ModelRegistry(root=project).info("fraud").stages["production"]


ERROR_RATE = {"error_rate": {"max": 0.05}}


def test_healthy_observations_are_one_commit_of_the_monitoring_file(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers=ERROR_RATE)
    before = head(project)
    r = monitor(project, "--metric", "error_rate=0.01")
    assert r.returncode == 0 and r.stderr == "", r.stdout
    data = r.json["data"]
    assert data["status"] == "healthy" and data["name"] == "fraud" and data["version"] == "1.1.0"
    assert data["rolled_back_to"] is None and data["commit"] == head(project)
    (e,) = data["evaluations"]
    assert (e["metric"], e["value"], e["threshold"], e["breached"]) == ("error_rate", 0.01, 0.05, False)
    assert git(project, "rev-parse", "HEAD~1").strip() == before
    assert files_of(project) == [str(JSONL)]
    assert trailer(project, "Event") == "monitor" and trailer(project, "Model") == "fraud"
    (line,) = [json.loads(x) for x in (project / JSONL).read_text().splitlines()]
    assert set(line) == {"at", "version", "metrics", "recorded_by"}
    assert line["version"] == "1.1.0" and line["metrics"] == {"error_rate": 0.01}
    assert line["recorded_by"] == "alice@example.com" and line["at"].endswith("Z")
    assert git(project, "status", "--porcelain") == ""


def test_a_breach_rolls_back_in_the_same_commit_as_the_observations(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers=ERROR_RATE)
    monitor(project, "--metric", "error_rate=0.01")
    before = head(project)
    r = monitor(project, "--metric", "error_rate=0.19")
    assert r.returncode == 0, r.stdout
    data = r.json["data"]
    assert data["status"] == "rolled_back" and data["version"] == "1.1.0" and data["rolled_back_to"] == "1.0.0"
    assert data["evaluations"][0]["value"] == pytest.approx(0.1) and data["evaluations"][0]["breached"] is True
    assert data["commit"] == head(project) and git(project, "rev-parse", "HEAD~1").strip() == before
    changed = files_of(project)
    assert str(JSONL) in changed
    assert any(p.endswith("fraud-v1.0.0/metadata.json") for p in changed)
    assert any(p.endswith("fraud-v1.1.0/metadata.json") for p in changed)
    assert trailer(project, "Event") == "rollback" and trailer(project, "Auto") == "true"
    assert trailer(project, "Reason") == "auto-rollback: error_rate 0.1 breached 0.05"
    assert trailer(project, "Version") == "1.0.0" and trailer(project, "Replaced") == "1.1.0"
    assert production(project) == "1.0.0"
    lines = [json.loads(x) for x in (project / JSONL).read_text().splitlines()]
    assert [(x["version"], x["metrics"]["error_rate"]) for x in lines] == [("1.1.0", 0.01), ("1.1.0", 0.19)]
    assert git(project, "status", "--porcelain") == ""


def test_a_breach_below_min_observations_does_nothing(project: Path, make_artifact, tmp_path: Path) -> None:
    deploy(project, make_artifact, triggers={"accuracy": {"min": 0.8, "min_observations": 3}})
    lines = tmp_path / "obs.jsonl"
    lines.write_text("".join(json.dumps({"at": ago(minutes=m), "metrics": {"accuracy": 0.5}}) + "\n" for m in (9, 8)))
    r = monitor(project, "--observations", str(lines))
    data = r.json["data"]
    assert r.returncode == 0 and data["status"] == "healthy" and data["rolled_back_to"] is None
    assert data["evaluations"][0]["state"] == "insufficient" and data["evaluations"][0]["observations"] == 2
    assert production(project) == "1.1.0" and trailer(project, "Event") == "monitor"
    third = monitor(project, "--metric", "accuracy=0.5").json["data"]
    assert third["status"] == "rolled_back" and production(project) == "1.0.0"


def test_a_breach_with_no_rollback_target_is_threshold_breached_and_still_recorded(
    project: Path, make_artifact
) -> None:
    deploy(project, make_artifact, versions=(("1.0.0", 0.9),), triggers=ERROR_RATE)
    before = head(project)
    err = error(monitor(project, "--metric", "error_rate=0.5"), "threshold_breached", 1)
    details = err["details"]
    assert details["status"] == "breached" and details["rolled_back_to"] is None
    assert details["reason"] == "auto-rollback: error_rate 0.5 breached 0.05"
    assert "no earlier stable production version" in details["rollback_refused"]
    assert details["evaluations"][0]["metric"] == "error_rate" and details["evaluations"][0]["breached"] is True
    assert details["commit"] == head(project) and git(project, "rev-parse", "HEAD~1").strip() == before
    assert files_of(project) == [str(JSONL)] and trailer(project, "Event") == "monitor"
    assert production(project) == "1.0.0"
    human = run_cli(project, "registry-monitor", "fraud", "--metric", "error_rate=0.5")
    assert human.returncode == 1 and "threshold_breached" in human.stderr and "error_rate" in human.stderr


def test_no_record_evaluates_and_changes_nothing(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers=ERROR_RATE)
    before = head(project)
    r = monitor(project, "--metric", "error_rate=0.5", "--no-record")
    assert r.returncode == 0, r.stdout
    data = r.json["data"]
    assert data["status"] == "breached" and data["commit"] is None and data["rolled_back_to"] is None
    assert data["would_roll_back_to"] == "1.0.0" and data["evaluations"][0]["breached"] is True
    assert head(project) == before and not (project / JSONL).exists() and production(project) == "1.1.0"
    assert git(project, "status", "--porcelain") == ""


def test_observations_outside_a_time_window_are_ignored(project: Path, make_artifact, tmp_path: Path) -> None:
    deploy(project, make_artifact, triggers={"accuracy": {"min": 0.8, "window": "1h"}})
    lines = tmp_path / "obs.jsonl"
    lines.write_text(
        json.dumps({"at": ago(hours=3), "metrics": {"accuracy": 0.1}})  # bad, but 3 h old
        + "\n"
        + json.dumps({"at": ago(minutes=10), "metrics": {"accuracy": 0.95}})
        + "\n"
    )
    data = monitor(project, "--observations", "-", input=lines.read_text()).json["data"]
    assert data["status"] == "healthy"
    assert data["evaluations"][0]["observations"] == 1 and data["evaluations"][0]["value"] == 0.95
    assert len((project / JSONL).read_text().splitlines()) == 2  # both recorded, only one in the window
    data = monitor(project, "--metric", "accuracy=0.5", "--at", ago(minutes=5)).json["data"]
    assert data["status"] == "rolled_back" and data["evaluations"][0]["value"] == pytest.approx(0.725)


def test_accuracy_drop_is_measured_against_the_registered_accuracy(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers={"accuracy_drop": 0.10})  # v1.1.0 registered accuracy 0.92
    data = monitor(project, "--metric", "accuracy=0.85").json["data"]
    (e,) = data["evaluations"]
    assert data["status"] == "healthy" and e["value"] == pytest.approx(0.07 / 0.92) and e["registered"] == 0.92
    data = monitor(project, "--metric", "accuracy=0.70").json["data"]
    assert data["status"] == "rolled_back" and data["evaluations"][0]["value"] == pytest.approx(0.145 / 0.92)
    assert trailer(project, "Reason") == "auto-rollback: accuracy_drop 0.157609 breached 0.1"


def test_an_auto_rollback_shows_as_such_in_history_audit_and_the_living_doc(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers=ERROR_RATE)
    rolled = monitor(project, "--metric", "error_rate=0.3").json["data"]
    events = run_main(project, "registry-history", "fraud", "--json").json["data"]["events"]
    rollback, archive = events[-2:]
    assert (rollback["event"], rollback["version"], rollback["auto"]) == ("rollback", "1.0.0", True)
    assert (
        rollback["reason"] == "auto-rollback: error_rate 0.3 breached 0.05" and rollback["commit"] == rolled["commit"]
    )
    assert (archive["event"], archive["version"], archive["auto"]) == ("archive", "1.1.0", True)
    assert not any(e["auto"] for e in events[:-2])
    assert "rollback (auto)" in run_main(project, "registry-history", "fraud").stdout
    audit = run_main(project, "registry-audit", "fraud", "--json").json["data"]
    (rb,) = audit["rollbacks"]
    assert rb["auto"] is True and rb["commit"] == rolled["commit"] and rb["reason"].startswith("auto-rollback:")
    assert audit["deployments"][-1]["auto"] is True and audit["unaudited_commits"] == []
    md = run_main(project, "registry-audit", "fraud").stdout
    assert "rollback (auto)" in md and "automatically (registry-monitor" in md
    assert run_cli(project, "sync-docs", "update").returncode == 0
    doc = (project / ".specweave/docs/internal/architecture/model-registry.md").read_text()
    assert "| v1.1.0 | Archived | 0.92 |" in doc and "Auto-rolled back (error_rate 0.3 breached 0.05)" in doc
    assert "### Production Monitoring" in doc and "No observations of v1.0.0 recorded" in doc


def test_a_version_rolled_back_from_is_no_auto_rollback_target(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers=ERROR_RATE)
    assert monitor(project, "--metric", "error_rate=0.3").json["data"]["rolled_back_to"] == "1.0.0"
    err = error(monitor(project, "--metric", "error_rate=0.4"), "threshold_breached", 1)
    assert err["details"]["version"] == "1.0.0" and production(project) == "1.0.0"  # never back to 1.1.0


def test_bad_observations_are_refused_and_write_nothing(project: Path, make_artifact, tmp_path: Path) -> None:
    deploy(project, make_artifact, triggers=ERROR_RATE)
    before = head(project)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"at": "2024-01-15T10:00:00Z", "metrics": {"error_rate": "high"}}\n')
    assert (
        "must be a finite number"
        in error(monitor_in_process(project, "--observations", str(bad)), "invalid_input", 2)["message"]
    )
    bad.write_text("not json\n")
    assert "line 1" in error(monitor_in_process(project, "--observations", str(bad)), "invalid_input", 2)["message"]
    error(monitor_in_process(project, "--metric", "error_rate=high"), "invalid_input", 2)
    error(monitor_in_process(project, "--metric", "error_rate=0.1", "--at", "yesterday"), "invalid_input", 2)
    error(monitor(project), "usage", 2)
    error(monitor_in_process(project, "--metric", "a=1", "--observations", str(bad)), "usage", 2)
    error(monitor_in_process(project, "--observations", str(tmp_path)), "invalid_input", 2)
    error(run_main(project, "registry-monitor", "nope", "--metric", "a=1", "--json"), "not_found", 3)
    assert head(project) == before and not (project / JSONL).exists()


def test_observations_nested_past_any_limit_are_refused_not_a_crash(project: Path, make_artifact, tmp_path: Path
                                                                     ) -> None:
    """SPEC §9: nesting deep enough to exhaust recursion is an error from the table, in the observations given and
    in the monitoring file as committed."""
    deploy(project, make_artifact, triggers=ERROR_RATE)
    before = head(project)
    deep = '{"at": "2024-01-15T10:00:00Z", "metrics": ' + '{"a": ' * 3000 + "1" + "}" * 3000 + "}\n"
    shallow_but_deep = '{"at": "2024-01-15T10:00:00Z", "x": ' + "[" * 500 + "]" * 500 + ', "metrics": {}}\n'
    for text in (deep, shallow_but_deep):
        bad = tmp_path / "deep.jsonl"
        bad.write_text(text)
        error(monitor_in_process(project, "--observations", str(bad)), "invalid_input", 2)
    assert head(project) == before
    assert monitor_in_process(project, "--metric", "error_rate=0.01").returncode == 0
    with open(project / JSONL, "a") as fh:
        fh.write(deep)
    git(project, "commit", "-qam", "a hand-made line")
    error(monitor_in_process(project, "--metric", "error_rate=0.01"), "integrity", 4)
    error(monitor_in_process(project, "--metric", "error_rate=0.01", "--no-record"), "integrity", 4)


def test_model_monitor_and_the_seed_trigger_names(project: Path, make_artifact) -> None:
    reg = deploy(project, make_artifact)
    monitor_ = ModelMonitor(registry=reg)
    monitor_.track_model(name="fraud", stage="production", metrics=["accuracy", "error_rate"])
    monitor_.set_auto_rollback(metric="accuracy", threshold=0.80, window="24h")
    monitor_.set_auto_rollback(metric="error_rate", threshold=0.05)
    policy = yaml.safe_load((project / ".specweave/registry.yaml").read_text())
    assert policy["models"]["fraud"]["auto_rollback"] == {
        "accuracy": {"min": 0.8, "window": "24h"},
        "error_rate": {"max": 0.05},
    }
    assert trailer(project, "Event") == "policy"
    with pytest.raises(InvalidInput):
        monitor_.record({"latency": 3})  # not a tracked metric
    healthy = monitor_.record("fraud", {"accuracy": 0.9, "error_rate": 0.01})
    assert healthy.status == "healthy" and healthy.to_dict()["commit"] == head(project)
    rolled = monitor_.record({"accuracy": 0.5})
    assert rolled.status == "rolled_back" and rolled.rolled_back_to == "1.0.0"
    assert rolled.reason == "auto-rollback: accuracy 0.7 breached 0.8"
    with pytest.raises(ThresholdBreached) as info:
        monitor_.record({"error_rate": 0.9})
    assert info.value.details and info.value.details["commit"] == head(project)

    reg.set_auto_rollback_triggers(error_rate_threshold=0.05, latency_threshold=200, accuracy_drop_threshold=0.10)
    reg.set_auto_rollback_triggers(name="fraud", latency_threshold=150)
    policy = yaml.safe_load((project / ".specweave/registry.yaml").read_text())
    assert policy["defaults"]["auto_rollback"] == {
        "error_rate": {"max": 0.05},
        "inference_latency_p95_ms": {"max": 200},
        "accuracy_drop": 0.1,
    }
    assert policy["models"]["fraud"]["auto_rollback"]["inference_latency_p95_ms"] == {"max": 150}


def test_the_living_doc_charts_the_primary_metric_and_shows_the_latest_figures(project: Path, make_artifact) -> None:
    deploy(project, make_artifact, triggers={**ERROR_RATE, "accuracy_drop": 0.1})
    monitor(project, "--metric", "error_rate=0.01", "--metric", "accuracy=0.9")
    monitor(project, "--metric", "error_rate=0.03")
    assert run_cli(project, "sync-docs", "update", "--json").json["data"]["changed"] is True
    doc = (project / ".specweave/docs/internal/architecture/model-registry.md").read_text()
    chart = (
        "```mermaid\nxychart-beta\n"
        '    title "accuracy by version"\n'
        '    x-axis ["v1.0.0", "v1.1.0"]\n'
        '    y-axis "accuracy"\n'
        "    line [0.9, 0.92]\n```"
    )
    assert chart in doc
    assert "| error_rate | 0.02 | max 0.05 | since production | 2 (min 1) | ok |" in doc
    assert "| accuracy_drop | 0.0217391 | drop 0.1 | since production | 1 (min 1) | ok |" in doc
    assert "evaluated at its latest observation" in doc and "2 observation(s)" in doc
    head_before = head(project)
    again = run_cli(project, "sync-docs", "update", "--json").json["data"]
    assert again["changed"] is False and head(project) == head_before  # deterministic
