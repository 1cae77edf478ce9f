"""docs/ci/github-actions.yml: its `run:` steps, run locally in order against a bare remote (real git, real CLI).

The harness does what the Actions runner does for these steps: a checkout (a clone of the remote), the
workflow's env plus GITHUB_RUN_ID/GITHUB_SHA/GITHUB_ENV, each step in `bash -eo pipefail`, values appended to
$GITHUB_ENV visible to later steps, and a failing step ends the job. Only the `pip install` steps are skipped:
this interpreter already has sw-registry installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import git, make_project, run_cli

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "ci" / "github-actions.yml"

TRAIN = """\
import argparse, json, os, pickle
parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
out = parser.parse_args().out
os.makedirs(out, exist_ok=True)
model = {"weights": [0.1, 0.2], "run": os.environ.get("GITHUB_RUN_ID")}
with open(os.path.join(out, "model.pkl"), "wb") as fh:
    pickle.dump(model, fh)
with open(os.path.join(out, "metrics.json"), "w") as fh:
    json.dump({"accuracy": 0.91, "hyperparameters": {"n_estimators": 10}}, fh)
"""

MODEL_TEST = """\
import os, pickle

def test_model_loads_and_is_good_enough():
    with open("build/model.pkl", "rb") as fh:
        model = pickle.load(fh)
    assert len(model["weights"]) == 2
    assert os.environ.get("MAKE_MODEL_TESTS_FAIL") != "1"
"""


def workflow() -> dict[str, Any]:
    doc = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def run_steps(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s.get("name", ""), s["run"]) for job in doc["jobs"].values() for s in job["steps"] if "run" in s]


def test_recipe_has_the_promised_steps_in_order() -> None:
    doc = workflow()
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert on["push"]["branches"] == ["main"] and "pull_request" in on
    gate = " ".join(s.get("run", "") for s in doc["jobs"]["gate"]["steps"])
    assert "sync-docs review --check" in gate and "registry-verify" in gate
    model = [s.get("run", "") for s in doc["jobs"]["model"]["steps"]]
    register = next(i for i, r in enumerate(model) if "registry-register" in r)
    tests = next(i for i, r in enumerate(model) if "pytest" in r)
    promote = next(i for i, r in enumerate(model) if "registry-promote" in r)
    assert register < tests < promote  # promotion only after the tests passed
    assert "--to staging" in model[promote]
    writes = [r for r in model if "sw-registry registry-" in r or "sw-registry sync-docs update" in r]
    assert len(writes) == 3 and all("--push" in r for r in writes)
    assert doc["jobs"]["model"]["needs"] == "gate"
    for _name, run in run_steps(doc):
        assert "${{" not in run  # plain bash: the local run below is the same script


def seed_project(tmp_path: Path) -> Path:
    """A SpecWeave project with a training script, model tests and a current living doc, on a bare remote."""
    seed = make_project(tmp_path / "seed")
    (seed / "train.py").write_text(TRAIN)
    (seed / "tests" / "model").mkdir(parents=True)
    (seed / "tests" / "model" / "test_model.py").write_text(MODEL_TEST)
    (seed / "requirements.txt").write_text("# training requirements\n")
    with open(seed / ".gitignore", "a") as fh:
        fh.write("build/\n__pycache__/\n.pytest_cache/\n")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "training code")
    assert run_cli(seed, "sync-docs", "update", "--json").returncode == 0
    remote = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    return remote


def run_job(doc: dict[str, Any], job: str, workspace: Path, tmp_path: Path, extra: dict[str, str]) -> str | None:
    """Run a job's `run:` steps like the runner; returns the name of the step that failed, or None."""
    github_env = tmp_path / f"github_env_{job}"
    github_env.write_text("")
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        **{k: str(v) for k, v in doc.get("env", {}).items()},
        **{k: str(v) for k, v in doc["jobs"][job].get("env", {}).items()},
        "GITHUB_RUN_ID": extra.get("GITHUB_RUN_ID", "1"),
        "GITHUB_SHA": git(workspace, "rev-parse", "HEAD").strip(),
        "GITHUB_ENV": str(github_env),
        "CI": "true",
        **extra,
    }
    for step in doc["jobs"][job]["steps"]:
        if "run" not in step:
            continue  # uses: checkout and setup-python are the clone and this interpreter
        if step["run"].lstrip().startswith("python -m pip install"):
            continue
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            return f"{step.get('name')}: {proc.stdout}{proc.stderr}"
        for line in github_env.read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
    return None


def test_recipe_runs_locally_against_a_bare_remote(tmp_path: Path) -> None:
    doc = workflow()
    remote = seed_project(tmp_path)
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(remote), str(ci))  # actions/checkout
    assert run_job(doc, "gate", ci, tmp_path, {}) is None
    assert run_job(doc, "model", ci, tmp_path, {"GITHUB_RUN_ID": "101"}) is None
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects[:3] == [
        "registry: update the living doc",
        "registry: promote fraud-detection-model v1.0.0 dev -> staging",
        "registry: register fraud-detection-model v1.0.0",
    ]
    # a fresh checkout sees it, and the merge gate passes there
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(remote), str(fresh))
    info = run_cli(fresh, "registry-info", "fraud-detection-model", "--json").json["data"]
    assert info["stages"]["staging"] == "1.0.0"
    assert run_job(doc, "gate", fresh, tmp_path, {}) is None

    # red tests: the next version is registered, the job stops at the tests, staging keeps v1.0.0
    failed = run_job(doc, "model", fresh, tmp_path, {"GITHUB_RUN_ID": "102", "MAKE_MODEL_TESTS_FAIL": "1"})
    assert failed is not None and failed.startswith("Test the model")
    git(fresh, "pull", "-q", "--ff-only")
    info = run_cli(fresh, "registry-info", "fraud-detection-model", "--json").json["data"]
    assert info["stages"]["staging"] == "1.0.0"
    assert {v["version"]: v["stage"] for v in info["versions"]} == {"1.0.0": "staging", "1.0.1": "dev"}
    # ... and the gate now fails on the stale doc, until a green run refreshes it
    assert (run_job(doc, "gate", fresh, tmp_path, {}) or "").startswith("Living doc is current")
