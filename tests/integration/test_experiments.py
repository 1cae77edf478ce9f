"""track_experiment and registry-experiments (SPEC §12, §2 experiments/) on real git repos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sw_registry import ModelRegistry, track_experiment
from sw_registry.errors import AlreadyExists, InvalidName, UsageError
from tests.conftest import INCREMENT, error, git, run_cli

EXPERIMENTS = Path(".specweave/increments") / INCREMENT / "experiments"


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def test_an_experiment_that_raises_leaves_no_commit_and_no_file(project: Path) -> None:
    before = head(project)
    with (
        pytest.raises(RuntimeError, match="training diverged"),
        track_experiment("xgboost-v1", increment="0042", root=project) as exp,
    ):
        exp.log_params({"max_depth": 6})
        exp.log_metrics({"accuracy": 0.91})
        exp.register_model(model={"weights": [1, 2, 3]}, name="fraud", auto_version=True)
        raise RuntimeError("training diverged")
    assert head(project) == before
    assert not (project / EXPERIMENTS).exists()
    assert not (project / ".specweave/increments" / INCREMENT / "models").exists()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_two_experiments_one_commit_each_and_a_comparison_table(project: Path) -> None:
    before = head(project)
    with track_experiment("xgboost-v1", increment="0042", root=project) as first:
        first.log_params({"max_depth": 6, "n_estimators": 100})
        first.log_metrics({"accuracy": 0.87, "recall": 0.6})
        first.register_model(model={"weights": [1]}, name="fraud", auto_version=True)
    assert git(project, "rev-parse", "HEAD~1").strip() == before and first.commit == head(project)
    mv = first.model_version
    assert mv is not None and mv.version == "1.0.0" and mv.commit == first.commit
    files = git(project, "show", "--name-only", "--format=", "HEAD").split()
    folder = f"{EXPERIMENTS}/xgboost-v1"
    assert {f"{folder}/params.json", f"{folder}/metrics.json", f"{folder}/metadata.yaml"} <= set(files)
    assert f"{EXPERIMENTS}/comparison.md" in files
    assert any(p.endswith("models/fraud-v1.0.0/metadata.json") for p in files)
    trailers = git(project, "log", "-1", "--format=%(trailers:only,unfold)")
    assert "Registry-Event: experiment" in trailers and "Registry-Experiment: xgboost-v1" in trailers
    assert "Registry-Model: fraud" in trailers and "Registry-Version: 1.0.0" in trailers
    (register,) = ModelRegistry(root=project).history("fraud").events
    assert (register.event, register.version, register.commit) == ("register", "1.0.0", first.commit)
    meta = ModelRegistry(root=project).info("fraud", "1.0.0").metadata
    assert meta["lineage"]["experiment"] == "xgboost-v1"
    assert meta["metrics"] == {"accuracy": 0.87, "recall": 0.6}
    assert meta["hyperparameters"] == {"max_depth": 6, "n_estimators": 100}
    assert json.loads((project / folder / "params.json").read_text()) == {"max_depth": 6, "n_estimators": 100}
    assert json.loads((project / folder / "metrics.json").read_text()) == {"accuracy": 0.87, "recall": 0.6}
    md = yaml.safe_load((project / folder / "metadata.yaml").read_text())
    assert md["name"] == "xgboost-v1" and md["model"] == "fraud@1.0.0" and md["created_by"] == "alice@example.com"

    with track_experiment("xgboost-v2", root=project) as second:  # the active increment
        second.log_param("max_depth", 8)
        second.log_metric("accuracy", 0.91)
    assert second.model_version is None and git(project, "rev-parse", "HEAD~1").strip() == first.commit
    table = (project / EXPERIMENTS / "comparison.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| xgboost")]
    assert rows[0].startswith("| xgboost-v2 | 0.91 |") and rows[1].startswith("| xgboost-v1 | 0.87 |")
    assert "| Experiment | accuracy | recall | param max_depth | param n_estimators | Model |" in table
    assert rows[1].endswith("| 6 | 100 | fraud@1.0.0 |") and rows[0].endswith("| 8 | - | - |")
    assert git(project, "status", "--porcelain") == ""

    r = run_cli(project, "registry-experiments", "--json")
    assert r.returncode == 0 and r.stderr == ""
    listed = {e["name"]: e for e in r.json["data"]["experiments"]}
    assert listed["xgboost-v1"]["version"] == "1.0.0" and listed["xgboost-v1"]["model"] == "fraud"
    assert listed["xgboost-v1"]["models"] == [{"name": "fraud", "version": "1.0.0"}]
    assert listed["xgboost-v1"]["params"] == {"max_depth": 6, "n_estimators": 100}
    assert listed["xgboost-v2"]["version"] is None and listed["xgboost-v2"]["increment"] == INCREMENT
    human = run_cli(project, "registry-experiments", "--increment", "42")
    assert human.returncode == 0 and "xgboost-v1" in human.stdout and "fraud v1.0.0" in human.stdout
    uses = run_cli(project, "registry-lineage", "--uses", "experiment:xgboost-v1", "--json").json["data"]
    assert uses["versions"] == ["fraud@1.0.0"]


def test_auto_version_bumps_from_the_last_version_and_names_are_checked(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("fraud", str(make_artifact(b"v1")), version="1.2.0")
    with track_experiment("retrain", registry=reg) as exp:
        exp.register_model(model=str(make_artifact(b"v2")), name="fraud")
    assert exp.model_version is not None and exp.model_version.version == "1.2.1"  # same signature: a patch
    with pytest.raises(AlreadyExists):
        track_experiment("retrain", registry=reg).__enter__()  # refused before the run starts
    with pytest.raises(InvalidName):
        track_experiment("../escape", registry=reg)
    before = head(project)
    with pytest.raises(UsageError), track_experiment("twice", registry=reg) as exp:
        exp.register_model(model={"a": 1}, name="fraud")
        exp.register_model(model={"b": 2}, name="fraud")
    assert head(project) == before and not (project / EXPERIMENTS / "twice").exists()
    error(run_cli(project, "registry-experiments", "--increment", "0099", "--json"), "not_found", 3)
