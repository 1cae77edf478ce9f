"""registry-compare through the CLI and compare_models through the API (SPEC §7.10, §9.1, §12)."""

from __future__ import annotations

import json
from pathlib import Path

from sw_registry.registry import ModelRegistry
from tests.conftest import error, run_cli


def test_compare_json_shape_and_api_agree(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model(
        "m",
        str(make_artifact(b"a")),
        version="3.0.0",
        metadata={"accuracy": 0.85, "inference_latency_p95_ms": 40, "features": ["amount"]},
    )
    reg.register_model(
        "m",
        str(make_artifact(b"bb")),
        version="3.1.0",
        metadata={
            "accuracy": 0.87,
            "inference_latency_p95_ms": 35,
            "features": ["amount", "merchant_reputation_score"],
        },
    )
    r = run_cli(project, "registry-compare", "m", "v3.0.0", "v3.1.0", "--json")
    assert r.returncode == 0 and r.stderr == ""
    data = json.loads(r.stdout)["data"]
    assert set(data) >= {"a", "b", "metrics", "features", "hyperparameters", "signature_compatible", "recommendation"}
    assert (data["a"], data["b"], data["recommendation"]) == ("m@3.0.0", "m@3.1.0", "better")
    assert all(set(m) >= {"name", "a", "b", "delta", "relative", "better"} for m in data["metrics"])
    assert data["features"]["added"] == ["merchant_reputation_score"]
    assert reg.compare_models(model_a="m@3.0.0", model_b="m@3.1.0").to_dict() == data
    fmt_json = run_cli(project, "registry-compare", "m", "3.0.0", "3.1.0", "--format", "json")
    assert json.loads(fmt_json.stdout)["data"] == data
    md = run_cli(project, "registry-compare", "m", "3.0.0", "3.1.0", "--format", "md")
    assert md.returncode == 0 and md.stdout.startswith("## Comparison: v3.0.0 vs v3.1.0")
    human = run_cli(project, "registry-compare", "m", "3.0.0", "3.1.0")
    assert human.returncode == 0 and "recommendation: better" in human.stdout


def test_compare_unknown_version_is_not_found(project: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model("m", str(make_artifact(b"a")), version="1.0.0")
    error(run_cli(project, "registry-compare", "m", "1.0.0", "9.9.9", "--json"), "not_found", 3)
