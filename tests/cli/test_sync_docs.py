"""sync-docs (SPEC §7.9): the generated block between markers, deterministic, outside text kept byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from sw_registry.registry import ModelRegistry
from tests.conftest import error, git, run_cli

DOC = Path(".specweave/docs/internal/architecture/model-registry.md")


def lifecycle(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    for version, acc in (("3.0.0", 0.85), ("3.1.0", 0.87)):
        reg.register_model(
            "fraud-model",
            str(make_artifact(version.encode())),
            version=version,
            metadata={"accuracy": acc, "inference_latency_p95_ms": 40, "training_data_version": "v1"},
        )
        reg.promote_model("fraud-model", version, to_stage="staging")
        reg.promote_model("fraud-model", version, to_stage="production")


def test_update_writes_the_block_and_keeps_everything_else(project: Path, make_artifact) -> None:
    lifecycle(project, make_artifact)
    doc = project / DOC
    doc.parent.mkdir(parents=True, exist_ok=True)
    before, after = "# Our models\n\nHand-written intro.\n\n", "\n\n## Notes\nKeep me exactly.\n"
    doc.write_text(before + "<!-- sw-registry:begin -->\nold\n<!-- sw-registry:end -->" + after)
    git(project, "add", str(DOC))
    git(project, "commit", "-qm", "docs skeleton")
    r = run_cli(project, "sync-docs", "update", "--json")
    assert r.returncode == 0, r.stdout
    data = json.loads(r.stdout)["data"]
    assert data["changed"] is True and len(data["commit"]) == 40 and Path(data["path"]) == doc
    text = doc.read_text()
    assert text.startswith(before) and text.endswith(after)
    assert "- Version: v3.1.0" in text
    assert "| Version | Stage | accuracy | Deployed | Notes |" in text
    assert "| v3.1.0 | Production | 0.87 |" in text and "| v3.0.0 | Archived | 0.85 |" in text
    assert "Replaced by v3.1.0" in text
    assert "sw-registry registry-rollback fraud-model --to v3.0.0" in text
    assert "```mermaid" in text and "model:fraud-model@3.1.0" in text
    trailer = git(project, "log", "-1", "--format=%(trailers:key=Registry-Event,valueonly)").strip()
    assert trailer == "docs"
    head = git(project, "rev-parse", "HEAD")
    again = json.loads(run_cli(project, "sync-docs", "update", "--json").stdout)["data"]
    assert again["changed"] is False and again["commit"] is None
    assert git(project, "rev-parse", "HEAD") == head and doc.read_text() == text


def test_review_and_check(project: Path, make_artifact) -> None:
    lifecycle(project, make_artifact)
    stale = error(run_cli(project, "sync-docs", "review", "--check", "--json"), "stale_docs", 1)
    assert "+## Fraud Model - Production" in stale["details"]["diff"]
    assert not (project / DOC).exists()  # review writes nothing
    review = run_cli(project, "sync-docs", "review")
    assert review.returncode == 0 and review.stdout.startswith("--- a/")
    assert run_cli(project, "sync-docs", "update", "--json").returncode == 0
    assert run_cli(project, "sync-docs", "review", "--check", "--json").returncode == 0
    ModelRegistry(root=project).deprecate_model("fraud-model", "3.0.0", reason="old")
    assert run_cli(project, "sync-docs", "review", "--check").returncode == 1


def test_the_rollback_plan_after_a_rollback_names_what_registry_rollback_would_return_to(
    project: Path, make_artifact
) -> None:
    """The plan names the previous *stable* production version; when the only earlier one is a version production
    was rolled back from, it says so and gives the command, rather than that there is none (registry-rollback
    without --to would return to it)."""
    lifecycle(project, make_artifact)  # 3.0.0, then 3.1.0 in production
    ModelRegistry(root=project).rollback("fraud-model", reason="3.1.0 misfires")  # back to 3.0.0
    r = run_cli(project, "sync-docs", "update", "--json")
    assert r.returncode == 0, r.stdout
    plan = (project / DOC).read_text().split("### Rollback Plan", 1)[1]
    assert "No earlier stable production version: v3.1.0 was in production before v3.0.0" in plan
    assert "sw-registry registry-rollback fraud-model --to v3.1.0" in plan
    assert "No earlier production version to roll back to" not in plan
