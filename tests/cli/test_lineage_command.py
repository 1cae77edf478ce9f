"""registry-lineage and get_lineage (SPEC §7.11, §9.1): chains, parents and reverse queries."""

from __future__ import annotations

import json
from pathlib import Path

from sw_registry.registry import ModelRegistry
from tests.conftest import error, run_cli


def registry(project: Path, make_artifact) -> ModelRegistry:
    reg = ModelRegistry(root=project)
    reg.register_model(
        "fraud",
        str(make_artifact(b"1")),
        version="3.0.0",
        metadata={
            "training_data_version": "v2024-01",
            "feature_engineering_version": "v1",
            "experiment": "exp-001",
            "features": ["amount", "merchant_risk_score"],
        },
    )
    reg.register_model(
        "fraud",
        str(make_artifact(b"2")),
        version="3.1.0",
        parent="fraud@3.0.0",
        allow_breaking=True,
        metadata={
            "training_data_version": "v2024-02",
            "feature_engineering_version": "v1",
            "experiment": "exp-003-xgboost",
            "features": ["amount"],
        },
    )
    reg.register_model(
        "churn",
        str(make_artifact(b"3")),
        version="1.0.0",
        metadata={"training_data_version": "v2024-01", "features": ["tenure"]},
    )
    reg.promote_model("fraud", "3.1.0", to_stage="staging")
    return reg


def test_one_version_has_its_chain_parent_and_deployment(project: Path, make_artifact) -> None:
    reg = registry(project, make_artifact)
    data = json.loads(run_cli(project, "registry-lineage", "fraud", "v3.1.0", "--format", "json").stdout)["data"]
    ids = {n["id"] for n in data["nodes"]}
    assert {
        "data:v2024-02",
        "feature_engineering:v1",
        "experiment:exp-003-xgboost",
        "model:fraud@3.1.0",
        "deployment:fraud:staging",
        "model:fraud@3.0.0",
    } <= ids
    edges = {(e["from"], e["to"]) for e in data["edges"]}
    assert ("data:v2024-02", "feature_engineering:v1") in edges
    assert ("experiment:exp-003-xgboost", "model:fraud@3.1.0") in edges
    assert ("model:fraud@3.1.0", "deployment:fraud:staging") in edges
    assert ("model:fraud@3.0.0", "model:fraud@3.1.0") in edges
    assert data["versions"] == ["fraud@3.1.0", "fraud@3.0.0"]  # the version and its parent
    assert reg.get_lineage(name="fraud", version="v3.1.0").to_dict() == data


def test_reverse_queries(project: Path, make_artifact) -> None:
    registry(project, make_artifact)

    def versions(*args: str) -> list[str]:
        r = run_cli(project, "registry-lineage", *args, "--json")
        assert r.returncode == 0, r.stdout
        return sorted(json.loads(r.stdout)["data"]["versions"])

    assert versions("--uses", "data:v2024-01") == ["churn@1.0.0", "fraud@3.0.0"]
    assert versions("--uses", "feature_engineering:v1") == ["fraud@3.0.0", "fraud@3.1.0"]
    assert versions("--uses", "experiment:exp-003-xgboost") == ["fraud@3.1.0"]
    assert versions("--uses", "model:fraud@3.0.0") == ["fraud@3.1.0"]  # its children
    assert versions("--feature", "merchant_risk_score") == ["fraud@3.0.0"]
    assert versions("--feature", "amount") == ["fraud@3.0.0", "fraud@3.1.0"]
    assert versions("--uses", "deployment:fraud:staging") == ["fraud@3.1.0"]
    for bad in ("bogus:x", "v2024-01", "data:", "Data:v2024-01"):  # not a node id: refused, not "no version"
        r = run_cli(project, "registry-lineage", "--uses", bad, "--json")
        assert (r.returncode, r.json["error"]["code"], r.stderr) == (2, "invalid_input", ""), (bad, r.stdout)


def test_tree_and_mermaid_output(project: Path, make_artifact) -> None:
    registry(project, make_artifact)
    tree = run_cli(project, "registry-lineage", "fraud").stdout
    assert "data:v2024-02" in tree and "└─> model:fraud@3.1.0" in tree and "(parent: fraud@3.0.0)" in tree
    mermaid = run_cli(project, "registry-lineage", "fraud", "--format", "mermaid").stdout
    assert mermaid.startswith("graph LR") and '"model:fraud@3.1.0"' in mermaid and " --> " in mermaid


def test_a_tree_line_wider_than_the_terminal_is_left_to_the_terminal_to_wrap(project: Path, make_artifact) -> None:
    """The tree is printed as it is (rich's soft wrap): a line is never broken at the console's width, which
    would break the tree's indentation (and rich's wrapping of 20,000 lines took 1.1 s of 1.8 at 10,002 versions)."""
    registry(project, make_artifact)
    wide = run_cli(project, "registry-lineage", "fraud").stdout
    narrow = run_cli(project, "registry-lineage", "fraud", env={"COLUMNS": "24"}).stdout
    assert narrow == wide
    assert "                └─> model:fraud@3.1.0" in narrow.splitlines()


def test_lineage_refusals(project: Path, make_artifact) -> None:
    registry(project, make_artifact)
    error(run_cli(project, "registry-lineage", "nope", "--json"), "not_found", 3)
    error(run_cli(project, "registry-lineage", "fraud", "9.9.9", "--json"), "not_found", 3)
    error(run_cli(project, "registry-lineage", "--json"), "usage", 2)


def test_a_chain_of_parents_across_models_is_followed(project: Path, make_artifact) -> None:
    """A version's ancestors may be other models' versions: each model is read as the chain reaches it."""
    reg = registry(project, make_artifact)
    reg.register_model("distilled", str(make_artifact(b"4")), version="1.0.0", parent="fraud@3.1.0")
    reg.register_model("tiny", str(make_artifact(b"5")), version="0.1.0", parent="distilled@1.0.0")
    data = reg.get_lineage(name="tiny", version="0.1.0").to_dict()
    assert data["versions"] == ["tiny@0.1.0", "distilled@1.0.0", "fraud@3.1.0", "fraud@3.0.0"]
    edges = {(e["from"], e["to"]) for e in data["edges"]}
    assert {("model:distilled@1.0.0", "model:tiny@0.1.0"), ("model:fraud@3.0.0", "model:fraud@3.1.0")} <= edges
    whole = reg.get_lineage(name="tiny").to_dict()  # the model alone: its versions, each with its parent's node
    assert whole["versions"] == ["tiny@0.1.0"] and "model:distilled@1.0.0" in {n["id"] for n in whole["nodes"]}
