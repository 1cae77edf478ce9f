"""registry-register end to end (SPEC §7.1, §4): every option lands in the version folder's files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import INCREMENT, Result, git

SECTION4_KEYS = [
    "schema_version", "name", "version", "increment", "stage", "created_at", "updated_at", "created_by",
    "description", "tags", "metrics", "hyperparameters", "info", "features", "signature", "lineage",
    "artifact", "approvals", "stage_history", "deprecation",
]



def ok(r: Result) -> dict[str, Any]:
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    return doc["data"]


def version_dir(project: Path, name: str, version: str, increment: str = INCREMENT) -> Path:
    return project / ".specweave" / "increments" / increment / "models" / f"{name}-v{version}"


def stored(project: Path, name: str, version: str, increment: str = INCREMENT) -> dict[str, Any]:
    return json.loads((version_dir(project, name, version, increment) / "metadata.json").read_text())


def test_register_with_every_option(cli, project: Path, make_artifact, tmp_path: Path) -> None:
    art = make_artifact(b"model-bytes-1", name="model.pkl")
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({
        "accuracy": 0.87, "inference_latency_p95_ms": 80, "algorithm": "XGBoost", "calibrated": True,
        "hyperparameters": {"max_depth": 6}, "features": ["amount"], "tags": ["fraud"],
        "feature_engineering_version": "v1",
    }))
    req = tmp_path / "requirements.txt"
    req_text = "xgboost==1.7.0\n# pinned for reproducibility\nnumpy>=1.24,<2  \n"
    req.write_bytes(req_text.encode())
    r = cli(
        "registry-register", "fraud-model", "--artifact", str(art), "--version", "v3.1",
        "--metadata", str(meta),
        "--metric", "recall=0.62", "--metric", "support=120",
        "--param", "n_estimators=673", "--param", "learning_rate=0.05", "--param", "early_stop=true",
        "--param", "objective=binary:logistic",
        "--feature", "merchant_risk_score:float", "--output", "fraud_probability:float",
        "--requirements", str(req), "--tag", "high-precision", "--description", "tuned depth",
        "--data-version", "v2024-01", "--experiment", "exp-003-xgboost", "--parent", "fraud-model@v3",
        "--increment", "42", "--json",
    )
    data = ok(r)
    assert data["version"] == "3.1.0"
    meta_out = stored(project, "fraud-model", "3.1.0")
    assert [k for k in meta_out if k in SECTION4_KEYS] == SECTION4_KEYS  # every §4 key, in §4 order
    assert not {"commit", "path", "verified"} & set(meta_out)  # output-only keys never land in the file
    assert meta_out["schema_version"] == 1 and meta_out["stage"] == "dev" and meta_out["increment"] == INCREMENT
    assert meta_out["created_by"] == "alice@example.com"
    assert meta_out["metrics"] == {"accuracy": 0.87, "inference_latency_p95_ms": 80, "recall": 0.62, "support": 120}
    hp = meta_out["hyperparameters"]
    assert hp == {"max_depth": 6, "n_estimators": 673, "learning_rate": 0.05, "early_stop": True,
                  "objective": "binary:logistic"}
    assert type(hp["n_estimators"]) is int and type(hp["learning_rate"]) is float and hp["early_stop"] is True
    assert meta_out["info"] == {"algorithm": "XGBoost", "calibrated": True}
    assert meta_out["tags"] == ["fraud", "high-precision"]
    assert meta_out["description"] == "tuned depth"
    assert meta_out["lineage"] == {"feature_engineering": "v1", "data": "v2024-01", "experiment": "exp-003-xgboost",
                                   "parent": "fraud-model@3.0.0"}
    assert meta_out["signature"] == {"inputs": {"merchant_risk_score": "float", "amount": "any"},
                                     "outputs": {"fraud_probability": "float"}}
    assert sorted(meta_out["features"], key=lambda f: f["name"]) == [
        {"name": "amount", "type": "any"}, {"name": "merchant_risk_score", "type": "float"}]
    assert {k: meta_out["artifact"].get(k) for k in ("path", "sha256", "size_bytes", "store")} == {
        "path": "model.pkl", "sha256": hashlib.sha256(b"model-bytes-1").hexdigest(), "size_bytes": 13, "store": "git"}
    assert meta_out["approvals"] == [] and meta_out["deprecation"] is None
    assert len(meta_out["stage_history"]) == 1
    expected_event = {"seq": 1, "event": "register", "from": None, "to": "dev", "at": meta_out["created_at"],
                      "by": "alice@example.com", "reason": None, "forced": False}
    assert {k: meta_out["stage_history"][0].get(k) for k in expected_event} == expected_event
    assert meta_out["created_at"].endswith("Z")
    folder = version_dir(project, "fraud-model", "3.1.0")
    assert (folder / "requirements.txt").read_bytes() == req_text.encode()  # copied verbatim
    assert (folder / "model.pkl").read_bytes() == b"model-bytes-1"
    features_doc = yaml.safe_load((folder / "features.yaml").read_text())
    assert set(features_doc) == {"features"}
    assert sorted(features_doc["features"], key=lambda f: f["name"]) == sorted(meta_out["features"],
                                                                               key=lambda f: f["name"])
    # the JSON output is the stored metadata plus the commit
    assert {k: data[k] for k in SECTION4_KEYS} == meta_out
    assert data["commit"] == git(project, "rev-parse", "HEAD").strip()


def test_metadata_yaml_file_is_sorted_like_the_api_dict(cli, project: Path, make_artifact, tmp_path: Path) -> None:
    meta = tmp_path / "meta.yaml"
    meta.write_text(
        "accuracy: 0.91\n"
        "epochs: 12\n"
        "framework: sklearn==1.4\n"
        "balanced: false\n"
        "hyperparameters: {C: 0.5}\n"
        "features: [amount, {name: country, type: str}]\n"
        "tags: [churn]\n"
        "description: from yaml\n"
        "training_data_version: v2024-02\n"
        "experiment: exp-7\n"
        "parent_model: churn-model@1.0.0\n"
        "metrics: {f1: 0.8}\n"
    )
    data = ok(cli("registry-register", "churn-model", "--artifact", str(make_artifact()), "--metadata", str(meta),
                  "--json"))
    assert data["version"] == "1.0.0"  # first version without --version
    m = stored(project, "churn-model", "1.0.0")
    assert m["metrics"] == {"accuracy": 0.91, "epochs": 12, "f1": 0.8}
    assert m["info"] == {"framework": "sklearn==1.4", "balanced": False}
    assert m["hyperparameters"] == {"C": 0.5}
    assert m["features"] == [{"name": "amount", "type": "any"}, {"name": "country", "type": "str"}]
    assert m["tags"] == ["churn"] and m["description"] == "from yaml"
    assert m["lineage"] == {"data": "v2024-02", "experiment": "exp-7", "parent": "churn-model@1.0.0"}


def test_signature_file_and_features_file(run, project: Path, make_artifact, tmp_path: Path) -> None:
    sig = tmp_path / "signature.yaml"
    sig.write_text("inputs: {amount: float, country: str}\noutputs: {fraud_probability: float}\n")
    ok(run("registry-register", "sig-model", "--artifact", str(make_artifact()), "--signature", str(sig),
           "--output", "label:int", "--json"))
    m = stored(project, "sig-model", "1.0.0")
    assert m["signature"] == {"inputs": {"amount": "float", "country": "str"},
                              "outputs": {"fraud_probability": "float", "label": "int"}}
    doc = yaml.safe_load((version_dir(project, "sig-model", "1.0.0") / "features.yaml").read_text())
    assert doc == {"features": [{"name": "amount", "type": "float"}, {"name": "country", "type": "str"}]}

    feats = tmp_path / "features.yaml"
    feats.write_text("features:\n  - {name: amount, type: float}\n  - {name: age, type: int}\n")
    ok(run("registry-register", "feat-model", "--artifact", str(make_artifact()), "--features", str(feats), "--json"))
    m = stored(project, "feat-model", "1.0.0")
    assert m["features"] == [{"name": "amount", "type": "float"}, {"name": "age", "type": "int"}]
    assert m["signature"]["inputs"] == {"amount": "float", "age": "int"}


def test_bumps_follow_the_highest_version(run, project: Path, make_artifact) -> None:
    versions = []
    for extra in ((), ("--bump", "minor"), ("--bump", "patch"), ("--bump", "major")):
        versions.append(ok(run("registry-register", "m", "--artifact", str(make_artifact()), *extra,
                               "--json"))["version"])
    assert versions == ["1.0.0", "1.1.0", "1.1.1", "2.0.0"]


def test_folder_artifact_records_every_file(cli, project: Path, tmp_path: Path) -> None:
    src = tmp_path / "saved_model"
    (src / "variables").mkdir(parents=True)
    contents = {"saved_model.pb": b"graph", "variables/variables.index": b"idx", "variables/data-0": b"\0" * 1000}
    for rel, body in contents.items():
        (src / rel).write_bytes(body)
    data = ok(cli("registry-register", "tf-model", "--artifact", str(src), "--json"))
    art = stored(project, "tf-model", "1.0.0")["artifact"]
    assert art["path"] == "saved_model"
    assert sorted(art["files"], key=lambda f: f["path"]) == sorted(
        ({"path": rel, "sha256": hashlib.sha256(body).hexdigest(), "size_bytes": len(body)}
         for rel, body in contents.items()), key=lambda f: f["path"])
    assert art["size_bytes"] == sum(len(b) for b in contents.values())
    assert len(art["sha256"]) == 64 and art["sha256"] not in {f["sha256"] for f in art["files"]}
    assert data["artifact"]["sha256"] == art["sha256"]
    copied = version_dir(project, "tf-model", "1.0.0") / "saved_model"
    assert {p.relative_to(copied).as_posix(): p.read_bytes() for p in copied.rglob("*") if p.is_file()} == contents
    # the combined hash covers content: one changed byte in one file gives another hash
    (src / "variables" / "data-0").write_bytes(b"\0" * 999 + b"\1")
    other = ok(cli("registry-register", "tf-model", "--artifact", str(src), "--json"))
    assert other["version"] == "1.0.1" and other["artifact"]["sha256"] != art["sha256"]


def test_same_version_same_artifact_is_a_success_that_changes_nothing(run, project: Path, make_artifact) -> None:
    art = make_artifact(b"weights")
    first = ok(run("registry-register", "m", "--artifact", str(art), "--version", "1.0.0", "--json"))
    head = git(project, "rev-parse", "HEAD")
    again = ok(run("registry-register", "m", "--artifact", str(art), "--version", "v1", "--json"))
    assert again["commit"] is None
    assert again["version"] == "1.0.0" and again["artifact"]["sha256"] == first["artifact"]["sha256"]
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""


def test_same_version_different_artifact_is_already_exists(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact(b"one")), "--version", "1.0.0", "--json"))
    head = git(project, "rev-parse", "HEAD")
    before = (version_dir(project, "m", "1.0.0") / "model.pkl").read_bytes()
    r = run("registry-register", "m", "--artifact", str(make_artifact(b"two")), "--version", "1.0.0", "--json")
    assert r.returncode == 5, r.stdout
    assert json.loads(r.stdout)["error"]["code"] == "already_exists"
    assert git(project, "rev-parse", "HEAD") == head
    assert (version_dir(project, "m", "1.0.0") / "model.pkl").read_bytes() == before
    assert git(project, "status", "--porcelain") == ""


def test_without_requirements_a_commented_file_is_written(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    text = (version_dir(project, "m", "1.0.0") / "requirements.txt").read_text()
    assert all(line.startswith("#") or "==" in line or not line.strip() for line in text.splitlines())


def test_register_into_a_new_increment_by_full_id(run, project: Path, make_artifact) -> None:
    data = ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--increment", "0050-new-work",
                  "--json"))
    assert data["increment"] == "0050-new-work"
    assert (version_dir(project, "m", "1.0.0", "0050-new-work") / "metadata.json").is_file()
    assert git(project, "status", "--porcelain") == ""


def test_the_commit_carries_register_trailers(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--version", "2.1", "--json"))
    trailers = git(project, "log", "-1", "--format=%(trailers:only,unfold)")
    lines = set(trailers.strip().splitlines())
    assert {"Registry-Event: register", "Registry-Model: m", "Registry-Version: 2.1.0",
            "Registry-Actor: alice@example.com"} <= lines


def test_non_finite_metrics_never_produce_invalid_json(run, project: Path, make_artifact) -> None:
    """NaN and Infinity are not JSON (RFC 8259): refuse them, or store something every JSON parser reads."""

    def strict(text: str) -> Any:
        def refuse(constant: str) -> None:
            raise ValueError(f"non-standard JSON constant {constant}")

        return json.loads(text, parse_constant=refuse)

    r = run("registry-register", "m", "--artifact", str(make_artifact()), "--metric", "loss=.nan",
            "--metric", "auc=.inf", "--json")
    doc = strict(r.stdout)
    if r.returncode == 0:
        strict((version_dir(project, "m", "1.0.0") / "metadata.json").read_text())
    else:
        assert (r.returncode, doc["error"]["code"]) == (2, "invalid_input")
        assert git(project, "status", "--porcelain") == ""
