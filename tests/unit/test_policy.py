"""registry.yaml validation and defaults (SPEC §5). Pure, no git."""

from __future__ import annotations

from typing import Any

import pytest

from sw_registry.errors import RegistryError
from sw_registry.policy import DEFAULT_LOWER_IS_BETTER, Policy, validate

FULL = {
    "schema_version": 1,
    "artifact_store": "git",
    "large_artifact_warn_mb": 100,
    "docs_path": ".specweave/docs/internal/architecture/model-registry.md",
    "metrics": {"lower_is_better": ["latency", "loss"]},
    "branch": "main",
    "defaults": {"approval": {"production": {"approvers": [], "min_approvals": 1, "allow_self_approval": True}}},
    "models": {
        "fraud-detection-model": {
            "owner": "ml-team@example.com",
            "primary_metric": "accuracy",
            "approval": {"production": {"approvers": ["alice@example.com", "bob@example.com"], "min_approvals": 1,
                                        "allow_self_approval": False}},
            "auto_rollback": {
                "error_rate": {"max": 0.05},
                "inference_latency_p95_ms": {"max": 200},
                "accuracy": {"min": 0.80, "window": "24h", "min_observations": 3},
                "accuracy_drop": 0.10,
            },
        }
    },
}


def config_error(data: Any) -> RegistryError:
    with pytest.raises(RegistryError) as exc:
        validate(data)
    assert exc.value.code == "config_error"
    assert exc.value.exit_code == 2
    return exc.value


def test_the_spec_example_validates() -> None:
    assert validate(FULL) == FULL


def test_empty_file_is_an_empty_policy() -> None:
    assert validate(None) == {}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"colour": "blue"}, "colour"),
        ({"metrics": {"higher_is_better": ["acc"]}}, "higher_is_better"),
        ({"defaults": {"owners": []}}, "owners"),
        ({"models": {"m": {"owner": "a", "maintainer": "b"}}}, "maintainer"),
        ({"models": {"m": {"approval": {"production": {"approver": ["a"]}}}}}, "approver"),
        ({"models": {"m": {"approval": {"qa": {"approvers": []}}}}}, "qa"),
        ({"models": {"m": {"auto_rollback": {"error_rate": {"maximum": 0.1}}}}}, "maximum"),
    ],
)
def test_unknown_key_is_config_error_naming_the_key(data: dict[str, Any], key: str) -> None:
    err = config_error(data)
    assert key in err.message


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"large_artifact_warn_mb": "big"}, "large_artifact_warn_mb"),
        ({"large_artifact_warn_mb": True}, "large_artifact_warn_mb"),
        ({"branch": 5}, "branch"),
        ({"artifact_store": ["git"]}, "artifact_store"),
        ({"models": []}, "models"),
        ({"metrics": {"lower_is_better": "latency"}}, "lower_is_better"),
        ({"models": {"m": {"owner": 3}}}, "owner"),
        ({"models": {"m": {"approval": {"production": {"approvers": "alice@example.com"}}}}}, "approvers"),
        ({"models": {"m": {"approval": {"production": {"min_approvals": "1"}}}}}, "min_approvals"),
        ({"models": {"m": {"approval": {"production": {"min_approvals": True}}}}}, "min_approvals"),
        ({"models": {"m": {"approval": {"production": {"allow_self_approval": "no"}}}}}, "allow_self_approval"),
        ({"models": {"m": {"auto_rollback": {"error_rate": {"max": "0.05"}}}}}, "max"),
        ({"models": {"m": {"auto_rollback": {"accuracy": {"min": 0.8, "window": 24}}}}}, "window"),
        ({"models": {"m": {"auto_rollback": {"accuracy_drop": "10%"}}}}, "accuracy_drop"),
    ],
)
def test_wrong_type_is_config_error_naming_the_key(data: dict[str, Any], key: str) -> None:
    err = config_error(data)
    assert key in err.message


@pytest.mark.parametrize("key", ["docs_path", "signers_file"])
@pytest.mark.parametrize("path", [
    "../outside.md", "/tmp/abs.md", "\\share\\doc.md", "~/doc.md", "docs/../../x.md", "docs\\..\\..\\x.md", "",
    ".", "a\0b",
    ".git/config", "sub/.git/config", ".specweave/cache/x.md", ".specweave/registry.yaml",
    ".specweave/increments/0001-a/models/m-v1.0.0/metadata.json",
    ".specweave/increments/_archive/0001-a/registry/model_catalog.yaml",
    ".specweave/increments/0001-a/experiments/e/experiment.json",
])
def test_a_file_a_write_rewrites_must_be_the_users_own_inside_the_project(key: str, path: str) -> None:
    """SPEC §8: a write never touches anything outside the work tree; docs_path and signers_file name files a
    write rewrites and commits, so neither may leave the project or name git's or the registry's own files."""
    err = config_error({key: path})
    assert key in err.message


@pytest.mark.parametrize("path", ["./docs/model-registry.md", ".specweave/docs/internal/architecture/x.md",
                                  ".specweave/increments/0001-a/reports/model-registry.md", "MODELS.md"])
def test_a_docs_path_of_the_users_own_inside_the_project_is_kept(path: str) -> None:
    assert validate({"docs_path": path}) == {"docs_path": path}


def test_a_non_mapping_file_is_config_error() -> None:
    config_error(["a", "list"])


def test_no_approval_key_anywhere_means_no_approval_needed() -> None:
    policy = Policy(validate({"models": {"m": {"owner": "x@example.com"}}}))
    assert policy.approval("m", "production") is None
    assert policy.approval("m", "staging") is None


def test_approval_rule_fills_in_defaults() -> None:
    policy = Policy(validate({"defaults": {"approval": {"production": {}}}}))
    assert policy.approval("any-model", "production") == {
        "approvers": [], "min_approvals": 1, "allow_self_approval": True}
    assert policy.approval("any-model", "staging") is None


def test_a_model_rule_overrides_the_defaults() -> None:
    policy = Policy(validate(FULL))
    assert policy.approval("fraud-detection-model", "production") == {
        "approvers": ["alice@example.com", "bob@example.com"], "min_approvals": 1, "allow_self_approval": False}
    assert policy.approval("other-model", "production") == {
        "approvers": [], "min_approvals": 1, "allow_self_approval": True}


def test_policy_defaults() -> None:
    policy = Policy({})
    assert policy.artifact_store == "git"
    assert policy.large_artifact_warn_mb == 100
    assert policy.branch is None
    assert policy.lower_is_better == DEFAULT_LOWER_IS_BETTER == [
        "latency", "error", "loss", "rmse", "mae", "mse", "size", "fpr"]


def test_a_lower_is_better_list_replaces_the_default() -> None:
    assert Policy(validate({"metrics": {"lower_is_better": ["brier"]}})).lower_is_better == ["brier"]
