"""Sorting the seed's flat metadata dict into §4 fields (SPEC §4). Pure, no git."""

from __future__ import annotations

from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.metadata import merge_signature, normalize_features, ordered, parse_key_values, sort_flat

# the flat dict the seed's training code passes as register_model(metadata=...)
SEED_FLAT = {
    "accuracy": 0.87,
    "precision": 0.85,
    "recall": 0.62,
    "inference_latency_p95_ms": 80,
    "algorithm": "XGBoost",
    "framework": "xgboost==1.7.0",
    "python_version": "3.10",
    "calibrated": True,
    "uses_gpu": False,
    "hyperparameters": {"n_estimators": 673, "max_depth": 6},
    "features": ["amount_vs_user_average", "merchant_risk_score"],
    "tags": ["fraud", "high-precision"],
    "description": "XGBoost with tuned depth",
    "training_data_version": "v2024-01",
    "feature_engineering_version": "v1",
    "experiment": "exp-003-xgboost",
    "parent_model": "fraud-detection-model@3.0.0",
}


def test_seed_flat_dict_is_sorted_into_fields() -> None:
    out = sort_flat(SEED_FLAT)
    assert out["metrics"] == {"accuracy": 0.87, "precision": 0.85, "recall": 0.62, "inference_latency_p95_ms": 80}
    assert out["hyperparameters"] == {"n_estimators": 673, "max_depth": 6}
    assert out["info"] == {"algorithm": "XGBoost", "framework": "xgboost==1.7.0", "python_version": "3.10",
                           "calibrated": True, "uses_gpu": False}
    assert out["features"] == [{"name": "amount_vs_user_average", "type": "any"},
                               {"name": "merchant_risk_score", "type": "any"}]
    assert out["tags"] == ["fraud", "high-precision"]
    assert out["description"] == "XGBoost with tuned depth"
    assert out["lineage"] == {"data": "v2024-01", "feature_engineering": "v1", "experiment": "exp-003-xgboost",
                              "parent": "fraud-detection-model@3.0.0"}


def test_no_seed_key_is_left_at_the_top_level() -> None:
    out = sort_flat(SEED_FLAT)
    leaked = set(out) & (set(SEED_FLAT) - {"hyperparameters", "features", "tags", "description"})
    assert leaked == set()


def test_booleans_are_info_not_metrics() -> None:
    out = sort_flat({"calibrated": True, "pruned": False, "auc": 1})
    assert out["metrics"] == {"auc": 1}
    assert out["info"] == {"calibrated": True, "pruned": False}


def test_strings_none_and_structures_go_to_info() -> None:
    out = sort_flat({"algorithm": "rf", "notes": None, "classes": ["a", "b"], "extra": {"k": 1}, "acc": "0.9"})
    assert out["metrics"] == {}
    assert out["info"] == {"algorithm": "rf", "notes": None, "classes": ["a", "b"], "extra": {"k": 1}, "acc": "0.9"}


def test_ints_and_floats_are_metrics() -> None:
    out = sort_flat({"f1": 0.5, "epochs_run": 12, "loss": -1.25})
    assert out["metrics"] == {"f1": 0.5, "epochs_run": 12, "loss": -1.25}


def test_existing_section4_keys_are_taken_as_fields() -> None:
    flat = {
        "metrics": {"f1": 0.7},
        "info": {"algorithm": "rf"},
        "lineage": {"data": "v9"},
        "signature": {"inputs": {"amount": "float"}, "outputs": {"p": "float"}},
        "increment": "0042",
        "accuracy": 0.9,
    }
    out = sort_flat(flat)
    assert out["metrics"] == {"f1": 0.7, "accuracy": 0.9}
    assert out["info"] == {"algorithm": "rf"}
    assert out["lineage"] == {"data": "v9"}
    assert out["signature"] == {"inputs": {"amount": "float"}, "outputs": {"p": "float"}}
    assert out["increment"] == "0042"
    assert "metrics" not in out["info"] and "increment" not in out["info"] and "signature" not in out["info"]


def test_features_as_plain_names_get_type_any_and_typed_entries_keep_their_type() -> None:
    assert normalize_features(["a", {"name": "b", "type": "float"}]) == [
        {"name": "a", "type": "any"}, {"name": "b", "type": "float"}]
    assert normalize_features({"c": "int"}) == [{"name": "c", "type": "int"}]


def test_empty_or_missing_metadata_gives_every_field_empty() -> None:
    out = sort_flat(None)
    assert out == {"description": "", "tags": [], "metrics": {}, "hyperparameters": {}, "info": {},
                   "features": [], "signature": None, "lineage": {}}


@pytest.mark.parametrize("flat", [{"metrics": {"acc": "high"}}, {"metrics": {"ok": True}}, {"metrics": [1]},
                                  {"features": "amount"}, ["not", "a", "dict"]])
def test_malformed_metadata_is_invalid_input(flat: object) -> None:
    with pytest.raises(RegistryError) as exc:
        sort_flat(flat)  # type: ignore[arg-type]
    assert exc.value.code == "invalid_input"


def test_signature_inputs_and_features_agree() -> None:
    sig, feats = merge_signature({"inputs": {"amount": "float"}, "outputs": {"p": "float"}},
                                 [{"name": "score", "type": "any"}], {"age": "int"}, {"label": "int"})
    assert sig == {"inputs": {"amount": "float", "age": "int", "score": "any"},
                   "outputs": {"p": "float", "label": "int"}}
    assert feats == [{"name": k, "type": t} for k, t in sig["inputs"].items()]


def test_ordered_keeps_section4_order_and_preserves_unknown_keys() -> None:
    meta = {"zzz_custom": 1, "version": "1.0.0", "schema_version": 1, "name": "m", "metrics": {}}
    out = ordered(meta)
    assert list(out) == ["schema_version", "name", "version", "metrics", "zzz_custom"]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("3", 3), ("0.1", 0.1), ("true", True), ("false", False), ("hello", "hello"), ("'3'", "3"), ("-7", -7),
     ("1.5e+3", 1500.0)],
)
def test_param_values_are_yaml_scalars(raw: str, value: object) -> None:
    parsed = parse_key_values([f"k={raw}"], "param")["k"]
    assert parsed == value and type(parsed) is type(value)


def test_param_without_equals_is_invalid_input() -> None:
    with pytest.raises(RegistryError) as exc:
        parse_key_values(["novalue"], "param")
    assert exc.value.code == "invalid_input"


def test_register_side_files_are_loaded_by_the_core(tmp_path: Path) -> None:
    """registry-register's --metadata/--features/--signature, read without the CLI (inputs.load_register_files)."""
    from sw_registry.errors import InvalidInput
    from sw_registry.inputs import load_register_files

    (tmp_path / "meta.json").write_text('{"accuracy": 0.9}')
    (tmp_path / "features.yaml").write_text("features:\n  - amount\n  - {name: risk, type: float}\n")
    (tmp_path / "list.yaml").write_text("[amount]\n")
    (tmp_path / "sig.yaml").write_text("inputs: {amount: float}\noutputs: {score: float}\n")
    got = load_register_files(tmp_path / "meta.json", tmp_path / "features.yaml", tmp_path / "sig.yaml")
    assert got == {
        "metadata": {"accuracy": 0.9},
        "features": [{"name": "amount", "type": "any"}, {"name": "risk", "type": "float"}],
        "signature": {"inputs": {"amount": "float"}, "outputs": {"score": "float"}},
    }
    assert load_register_files(features=tmp_path / "list.yaml")["features"] == [{"name": "amount", "type": "any"}]
    assert load_register_files() == {"metadata": None, "features": None, "signature": None}
    with pytest.raises(InvalidInput):
        load_register_files(metadata=tmp_path / "missing.json")
