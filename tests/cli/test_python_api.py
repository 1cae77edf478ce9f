"""The Python API (SPEC §12): register objects and paths, load only verified pickles it wrote, and return
typed objects whose to_dict() is exactly the CLI's --json data."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sw_registry.errors import RegistryError
from sw_registry.model import ModelInfo, ModelSummary, ModelVersion
from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git

MODELS = f".specweave/increments/{INCREMENT}/models"



@dataclass
class ThresholdModel:
    """A tiny picklable 'trained model' defined at module level."""

    threshold: float
    weights: list[float] = field(default_factory=list)

    def predict(self, x: float) -> bool:
        return x * sum(self.weights) > self.threshold


SEED_METADATA = {
    "accuracy": 0.87,
    "precision": 0.85,
    "inference_latency_p95_ms": 80,
    "algorithm": "XGBoost",
    "calibrated": True,
    "hyperparameters": {"n_estimators": 673, "max_depth": 6},
    "features": ["amount_vs_user_average", "merchant_risk_score"],
    "tags": ["fraud"],
    "description": "seed example",
    "training_data_version": "v2024-01",
    "feature_engineering_version": "v1",
    "experiment": "exp-003-xgboost",
    "parent_model": "fraud-detection-model@3.0.0",
}


@pytest.fixture
def reg(project: Path) -> ModelRegistry:
    return ModelRegistry(increment="0042", root=project)


def test_a_model_object_round_trips_after_its_hash_verifies(reg: ModelRegistry, project: Path) -> None:
    model = ThresholdModel(0.5, [0.1, 0.2, 0.3])
    mv = reg.register_model(name="fraud-detection-model", model=model, version="v3", metadata=SEED_METADATA)
    assert isinstance(mv, ModelVersion) and mv.version == "3.0.0" and mv.commit
    assert mv.metadata["increment"] == INCREMENT
    loaded = ModelRegistry(root=project).get_model(name="fraud-detection-model", version="v3.0.0", load=True)
    assert loaded == model and isinstance(loaded, ThresholdModel) and loaded is not model
    assert loaded.predict(10.0) is True


def test_a_plain_dict_round_trips(reg: ModelRegistry) -> None:
    obj = {"coef": [1.5, -2.0], "intercept": 0.25, "classes": ("no", "yes")}
    reg.register_model(name="m", model=obj, version="1.0.0")
    assert reg.get_model(name="m", version="1.0.0") == obj  # load=True is the default


def test_a_tampered_pickle_is_never_loaded(reg: ModelRegistry, project: Path) -> None:
    reg.register_model(name="m", model=ThresholdModel(0.5, [1.0]), version="1.0.0")
    target = project / MODELS / "m-v1.0.0" / "model.pkl"
    # a different, valid pickle: loading it would "work", so only the hash check can stop it
    target.write_bytes(pickle.dumps(ThresholdModel(99.0, [666.0])))
    with pytest.raises(RegistryError) as exc:
        ModelRegistry(root=project).get_model(name="m", version="1.0.0", load=True)
    assert exc.value.code == "integrity" and exc.value.exit_code == 4


def test_load_false_gives_the_model_version(reg: ModelRegistry) -> None:
    reg.register_model(name="m", model={"a": 1}, version="1.0.0")
    mv = reg.get_model(name="m", version="1.0.0", load=False)
    assert isinstance(mv, ModelVersion) and mv.verified is True
    assert Path(mv.path).is_absolute() and Path(mv.path).is_file()


def test_a_path_artifact_gives_a_model_version_even_when_it_is_a_pickle(reg: ModelRegistry, tmp_path: Path) -> None:
    user_pickle = tmp_path / "model.pkl"
    user_pickle.write_bytes(pickle.dumps({"not": "loaded by the registry"}))
    reg.register_model(name="m", model=str(user_pickle), version="1.0.0")
    got = reg.get_model(name="m", version="1.0.0", load=True)
    assert isinstance(got, ModelVersion)  # a pickle the registry did not write is never unpickled
    assert Path(got.path).read_bytes() == user_pickle.read_bytes()
    assert got.sha256 == got.metadata["artifact"]["sha256"] and got.verified is True


def test_path_artifact_from_a_pathlike(reg: ModelRegistry, make_artifact) -> None:
    art = make_artifact(b"onnx bytes", name="model.onnx")
    mv = reg.register_model(name="m", model=art, version="1.0.0")
    assert Path(mv.path).name == "model.onnx" and Path(mv.path).read_bytes() == b"onnx bytes"


def test_seed_flat_metadata_is_sorted_into_metadata_json(reg: ModelRegistry, project: Path, make_artifact) -> None:
    reg.register_model(name="fraud-detection-model", model=str(make_artifact()), version="3.1.0",
                       metadata=SEED_METADATA)
    meta = json.loads((project / MODELS / "fraud-detection-model-v3.1.0" / "metadata.json").read_text())
    assert meta["metrics"] == {"accuracy": 0.87, "precision": 0.85, "inference_latency_p95_ms": 80}
    assert meta["info"] == {"algorithm": "XGBoost", "calibrated": True}
    assert meta["hyperparameters"] == {"n_estimators": 673, "max_depth": 6}
    assert meta["features"] == [{"name": "amount_vs_user_average", "type": "any"},
                                {"name": "merchant_risk_score", "type": "any"}]
    assert meta["tags"] == ["fraud"] and meta["description"] == "seed example"
    assert meta["lineage"] == {"data": "v2024-01", "feature_engineering": "v1", "experiment": "exp-003-xgboost",
                               "parent": "fraud-detection-model@3.0.0"}
    for key in SEED_METADATA:
        if key not in ("hyperparameters", "features", "tags", "description"):
            assert key not in meta, key


def test_version_model_returns_the_next_version_without_registering(reg: ModelRegistry, project: Path,
                                                                     make_artifact) -> None:
    assert reg.version_model(name="m", version_type="minor") == "1.0.0"
    for v in ("1.0.0", "1.2.0", "1.3.0rc1"):
        reg.register_model(name="m", model=str(make_artifact()), version=v)
    head, tree = git(project, "rev-parse", "HEAD"), sorted((project / MODELS).iterdir())
    assert reg.version_model(name="m", version_type="minor") == "1.3.0"
    assert reg.version_model(name="m", version_type="major") == "2.0.0"
    assert reg.version_model(name="m", version_type="patch") == "1.2.1"
    assert git(project, "rev-parse", "HEAD") == head and sorted((project / MODELS).iterdir()) == tree
    assert [m.latest for m in reg.list_models()] == ["1.3.0rc1"]


def test_versions_are_unique_per_model_across_increments(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"one")), version="1.0.0")
    head = git(project, "rev-parse", "HEAD")
    with pytest.raises(RegistryError) as exc:
        reg.register_model("m", str(make_artifact(b"two")), version="1.0.0", increment="0050-elsewhere")
    assert exc.value.code == "already_exists" and exc.value.exit_code == 5
    assert git(project, "rev-parse", "HEAD") == head
    assert not (project / ".specweave/increments/0050-elsewhere").exists()
    assert reg.register_model("m", str(make_artifact(b"two")), version="1.1.0",
                              increment="0050-elsewhere").metadata["increment"] == "0050-elsewhere"
    assert [m.version_count for m in reg.list_models()] == [2]


def test_api_errors_carry_spec_codes(reg: ModelRegistry, make_artifact) -> None:
    cases = [
        (lambda: reg.register_model(name="Bad Name", model={}), "invalid_name"),
        (lambda: reg.register_model(name="m", model={}, version="1.0.0.dev1"), "invalid_version"),
        (lambda: reg.get_model(name="nope", version="1.0.0"), "not_found"),
        (lambda: reg.info("nope"), "not_found"),
        (lambda: reg.register_model(name="m", model=lambda x: x), "invalid_input"),  # not picklable
        # an unknown stage is refused by the API itself, not only by the CLI's options (lifecycle.check_stage)
        (lambda: reg.list_models(stage="prod"), "invalid_input"),
        (lambda: reg.list_versions(stage="prod"), "invalid_input"),
        (lambda: reg.get_model(name="m", stage="prod"), "invalid_input"),
    ]
    for call, code in cases:
        with pytest.raises(RegistryError) as exc:
            call()
        assert exc.value.code == code


# -- typed results equal the CLI's --json data --------------------------------------------------------


@pytest.fixture
def populated(project: Path, make_artifact) -> ModelRegistry:
    reg = ModelRegistry(root=project)
    reg.register_model("fraud-model", str(make_artifact()), version="1.0.0", metadata={"accuracy": 0.8},
                       tags=["fraud"])
    reg.register_model("fraud-model", ThresholdModel(0.3, [1.0]), version="1.1.0", metadata={"accuracy": 0.85})
    reg.register_model("churn-model", str(make_artifact()), metadata={"f1": 0.7, "owner_team": "growth"})
    reg.promote_model("fraud-model", "1.0.0", to_stage="staging")
    reg.promote_model("fraud-model", "1.0.0", to_stage="production")
    return reg


def cli_data(cli, *args: str) -> Any:
    r = cli(*args, "--json")
    assert r.returncode == 0 and r.stderr == "", r.stdout + r.stderr
    return json.loads(r.stdout)["data"]


def test_list_models_to_dict_equals_cli_list(cli, populated: ModelRegistry) -> None:
    summaries = populated.list_models()
    assert all(isinstance(s, ModelSummary) for s in summaries)
    assert {"models": [s.to_dict() for s in summaries]} == cli_data(cli, "registry-list")


def test_list_versions_to_dict_equals_cli_all_versions(run, populated: ModelRegistry) -> None:
    assert {"versions": [v.to_dict() for v in populated.list_versions()]} == cli_data(run, "registry-list",
                                                                                     "--all-versions")


def test_info_to_dict_equals_cli_info(run, populated: ModelRegistry) -> None:
    info = populated.info("fraud-model")
    assert isinstance(info, ModelInfo)
    assert info.to_dict() == cli_data(run, "registry-info", "fraud-model")
    one = populated.info("fraud-model", "1.1.0")
    assert isinstance(one, ModelVersion)
    assert one.to_dict() == cli_data(run, "registry-info", "fraud-model", "--version", "1.1.0")


def test_get_model_to_dict_equals_cli_get(run, populated: ModelRegistry) -> None:
    mv = populated.get_model("fraud-model", stage="production", load=False)
    assert mv.to_dict() == cli_data(run, "registry-get", "fraud-model", "--stage", "production")


def test_register_result_to_dict_equals_cli_register_shape(run, project: Path, make_artifact) -> None:
    art = make_artifact(b"same bytes")
    from_cli = cli_data(run, "registry-register", "m", "--artifact", str(art), "--version", "1.0.0")
    again = ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")  # idempotent repeat
    assert again.commit is None
    assert again.to_dict() == {**from_cli, "commit": None}
