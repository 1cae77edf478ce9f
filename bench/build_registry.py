"""Build a benchmark registry quickly, without calling the CLI once per version.

The result is an ordinary SpecWeave project that sw-registry reads and writes like any other:

    <out>/
      .git/                                  git init -b main; user.name/user.email set in this repo only
      .gitignore                             .specweave/cache/
      .specweave/increments/
        0001-bench/metadata.json             {"status": "active"}  (where new registrations land)
        0002-bench/metadata.json             {"status": "completed"}
        0003-bench/metadata.json             {"status": "completed"}
        000K-bench/models/<name>-v<version>/
          model.pkl                          4 KB of (seeded) random bytes
          metadata.json                      SPEC §4 schema, 5 metrics, stage_history with increasing seq
          features.yaml                      features: [{name, type}] = the signature's inputs
          requirements.txt
        000K-bench/registry/
          model_catalog.yaml                 derived, written by the product's own code
          lineage_graph.json                 derived, written by the product's own code

Each model gets ``--versions`` versions, spread in order over the increments (the oldest in 0001).
Per model, the version three from the top is in production and the next one in staging, each with
the matching promote entries in stage_history; every other version is in dev.

Everything is one git commit ("bench: ..."), made without Registry-* trailers: registry-audit and
registry-verify will (correctly) report it as a change made outside the tool.

Usage:
    python bench/build_registry.py --versions 500 --out /tmp/reg   # 3 × 500 = 1,500 versions
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sw_registry.gitops import FAST_OBJECTS as FAST_GIT  # the git options of the product's own writes
from sw_registry.layout import Layout
from sw_registry.metadata import SCHEMA_VERSION, ordered
from sw_registry.store.derived import derived_files
from sw_registry.store.files import dump_json
from sw_registry.store.index import WorkTreeSource, load_index

MODELS = ("fraud-detection-model", "churn-model", "recommender")
INCREMENTS = ("0001-bench", "0002-bench", "0003-bench")
ACTOR_NAME, ACTOR_EMAIL = "Bench Bot", "bench@example.com"
ARTIFACT_BYTES = 4096
BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
FEATURES = (("amount", "float"), ("merchant_risk_score", "float"), ("country", "str"), ("hour", "int"))
REQUIREMENTS = "scikit-learn==1.4.0\nnumpy==1.26.4\n"



def version_string(i: int) -> str:
    """The i-th version (0-based) of a model: strictly increasing, a realistic mix of minors and patches."""
    return f"{1 + i // 100}.{(i // 10) % 10}.{i % 10}"


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def features_yaml(features: list[dict[str, str]]) -> bytes:
    """features.yaml as the product writes it (PyYAML block style) for simple names and types."""
    lines = ["features:"]
    for f in features:
        lines += [f"- name: {f['name']}", f"  type: {f['type']}"]
    return ("\n".join(lines) + "\n").encode()


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, stdout=subprocess.DEVNULL)


def init_project(root: Path, increments: tuple[str, ...] = INCREMENTS) -> None:
    """A git repo with a local identity, a .gitignore for the cache and the increments (the first active)."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", ACTOR_NAME)
    git(root, "config", "user.email", ACTOR_EMAIL)
    git(root, "config", "commit.gpgsign", "false")
    (root / ".gitignore").write_text(".specweave/cache/\n")
    for n, inc in enumerate(increments):
        folder = root / ".specweave" / "increments" / inc
        folder.mkdir(parents=True)
        status = "active" if n == 0 else "completed"
        (folder / "metadata.json").write_bytes(dump_json({"id": inc, "status": status, "type": "feature"}))
        (folder / "spec.md").write_text(f"# {inc}\n\nBenchmark increment.\n")


def version_metadata(name: str, i: int, n: int, inc: str, artifact: bytes, rng: random.Random,
                     prod: int, staging: int) -> dict[str, Any]:
    """metadata.json (SPEC §4) of the i-th of n versions; seq: registers are 1..n, then the promotions."""
    version = version_string(i)
    created = BASE_TIME + timedelta(hours=i)
    history = [{"seq": i + 1, "event": "register", "from": None, "to": "dev", "at": iso(created),
                "by": ACTOR_EMAIL, "reason": None, "forced": False}]
    promoted = BASE_TIME + timedelta(hours=n)

    def promote(seq: int, frm: str, to: str, minutes: int) -> None:
        history.append({"seq": seq, "event": "promote", "from": frm, "to": to,
                        "at": iso(promoted + timedelta(minutes=minutes)), "by": ACTOR_EMAIL,
                        "reason": None, "forced": False})

    stage, approvals = "dev", []
    if i == prod:
        promote(n + 1, "dev", "staging", 1)
        promote(n + 2, "staging", "production", 2)
        stage = "production"
        approvals = [{"stage": "production", "approver": "reviewer@example.com",
                      "at": iso(promoted + timedelta(minutes=2)), "comment": "benchmark approval"}]
    elif i == staging:
        promote(n + 3, "dev", "staging", 3)
        stage = "staging"
    features = [{"name": k, "type": t} for k, t in FEATURES]
    meta = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "version": version,
        "increment": inc,
        "stage": stage,
        "created_at": iso(created),
        "updated_at": history[-1]["at"],
        "created_by": ACTOR_EMAIL,
        "description": f"{name} benchmark version {version}",
        "tags": ["bench", f"batch-{i // 100}"],
        "metrics": {
            "accuracy": round(rng.uniform(0.80, 0.95), 4),
            "precision": round(rng.uniform(0.75, 0.95), 4),
            "recall": round(rng.uniform(0.55, 0.80), 4),
            "f1": round(rng.uniform(0.65, 0.85), 4),
            "inference_latency_p95_ms": rng.randint(40, 120),
        },
        "hyperparameters": {"n_estimators": rng.randint(100, 900), "max_depth": rng.randint(3, 12),
                            "learning_rate": round(rng.uniform(0.01, 0.3), 3)},
        "info": {"algorithm": "XGBoost", "framework": "xgboost==1.7.0", "python_version": "3.11"},
        "features": features,
        "signature": {"inputs": {f["name"]: f["type"] for f in features}, "outputs": {"score": "float"}},
        "lineage": {"data": f"v2024-{1 + i % 12:02d}", "feature_engineering": "v1",
                    "experiment": f"exp-{i:04d}",
                    **({"parent": f"{name}@{version_string(i - 1)}"} if i else {})},
        "artifact": {"path": "model.pkl", "sha256": hashlib.sha256(artifact).hexdigest(),
                     "size_bytes": len(artifact), "store": "git"},
        "approvals": approvals,
        "stage_history": history,
        "deprecation": None,
    }
    return ordered(meta)


def write_versions(root: Path, versions: int, seed: int) -> int:
    """Write every version folder; returns how many were written."""
    if versions < 2:
        raise SystemExit("--versions must be at least 2 (one production and one staging version per model)")
    rng = random.Random(seed)
    layout = Layout(root)
    prod, staging = max(0, versions - 3), max(0, versions - 3) + 1
    per_increment = -(-versions // len(INCREMENTS))  # ceil
    req = REQUIREMENTS.encode()
    count = 0
    for name in MODELS:
        for i in range(versions):
            inc = INCREMENTS[i // per_increment]
            models = root / ".specweave" / "increments" / inc / "models"
            folder = models / layout.version_dirname(name, version_string(i))
            folder.mkdir(parents=True)
            artifact = rng.randbytes(ARTIFACT_BYTES)
            meta = version_metadata(name, i, versions, inc, artifact, rng, prod, staging)
            (folder / "model.pkl").write_bytes(artifact)
            (folder / "metadata.json").write_bytes(dump_json(meta))
            (folder / "features.yaml").write_bytes(features_yaml(meta["features"]))
            (folder / "requirements.txt").write_bytes(req)
            count += 1
    return count


def write_derived(root: Path) -> None:
    """model_catalog.yaml and lineage_graph.json of every increment, by the product's own code.

    The read cache is not written, so the registry starts cold, like a fresh clone.
    """
    layout = Layout(root)
    index = load_index(WorkTreeSource(layout), use_cache=False)
    for inc in layout.increments():
        for rel, data in derived_files(inc.rel, inc.id, index.in_increment(inc.id)).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def build(out: Path, versions: int, seed: int = 0) -> dict[str, Any]:
    """Build the registry in ``out`` (created; must be empty) and return a summary."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; pass a new or empty folder to --out")
    root = out.resolve()
    t0 = time.perf_counter()
    init_project(root)
    count = write_versions(root, versions, seed)
    write_derived(root)
    git(root, *FAST_GIT, "add", "-A")
    git(root, *FAST_GIT, "commit", "-q", "-m",
        f"bench: registry of {len(MODELS)} models x {versions} versions ({count} versions)")
    return {"root": str(root), "models": list(MODELS), "versions_per_model": versions, "versions": count,
            "increments": list(INCREMENTS), "seconds": round(time.perf_counter() - t0, 2)}


# -- realistic histories (issue 10): one commit per operation --------------------------------------------------


def _finish_stages(reg: Any, versions: int) -> None:
    """Per model, through the product: the version three from the top to production (staging, an approval,
    production), the next one to staging. One commit per operation, as a team would make them."""
    prod, staging = max(0, versions - 3), max(0, versions - 3) + 1
    for name in MODELS:
        reg.promote_model(name, version_string(prod), to_stage="staging", reason="bench")
        reg.approve_model(name, version_string(prod), approver="reviewer@example.com", comments="bench approval")
        reg.promote_model(name, version_string(prod), to_stage="production", reason="bench")
        reg.promote_model(name, version_string(staging), to_stage="staging", reason="bench")


def build_through_product(out: Path, versions: int, seed: int = 0,
                          increments: tuple[str, ...] = INCREMENTS) -> dict[str, Any]:
    """Every version registered by the product's API, one commit each (register), then the stage changes.

    The slow, faithful builder: each registration is the product's own write (lock, dirty check, files, derived
    files, one commit with trailers), spread in order over ``increments``.
    """
    from sw_registry.registry import ModelRegistry

    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; pass a new or empty folder to --out")
    root = out.resolve()
    t0 = time.perf_counter()
    init_project(root, increments)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    rng = random.Random(seed)
    reg = ModelRegistry(root=root, actor=ACTOR_EMAIL)
    per_increment = -(-versions // len(increments))
    scratch = Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    try:
        for i in range(versions):
            for name in MODELS:
                art = scratch / "model.pkl"
                art.write_bytes(rng.randbytes(ARTIFACT_BYTES))
                reg.register_model(name, str(art), version=version_string(i), **_register_fields(name, i, rng),
                                   increment=increments[i // per_increment])
        _finish_stages(reg, versions)
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return {"root": str(root), "models": list(MODELS), "versions_per_model": versions,
            "versions": versions * len(MODELS), "increments": list(increments),
            "seconds": round(time.perf_counter() - t0, 2), "builder": "product"}


def _register_fields(name: str, i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "description": f"{name} benchmark version {version_string(i)}",
        "tags": ["bench", f"batch-{i // 100}"],
        "metrics": {"accuracy": round(rng.uniform(0.80, 0.95), 4), "precision": round(rng.uniform(0.75, 0.95), 4),
                    "recall": round(rng.uniform(0.55, 0.80), 4), "f1": round(rng.uniform(0.65, 0.85), 4),
                    "inference_latency_p95_ms": rng.randint(40, 120)},
        "params": {"n_estimators": rng.randint(100, 900), "max_depth": rng.randint(3, 12)},
        "inputs": dict(FEATURES),
        "outputs": {"score": "float"},
        "data_version": f"v2024-{1 + i % 12:02d}",
        "experiment": f"exp-{i:04d}",
        "parent": f"{name}@{version_string(i - 1)}" if i else None,
        "requirements": None,
    }


def build_fast(out: Path, versions: int, n_increments: int = 20, seed: int = 0) -> dict[str, Any]:
    """The same shape of history, quickly: ``git fast-import`` writes one commit per registered version (its
    folder, with the product's register trailers), and after each increment's versions one reindex commit with
    that increment's derived files (rendered by the product's code); then the stage changes go through the product.

    What differs from build_through_product: the derived files are committed once per increment instead of with
    every registration, and the files are written by this script (same schema, same trailers).
    """
    from sw_registry.store.index import summarize

    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; pass a new or empty folder to --out")
    root = out.resolve()
    t0 = time.perf_counter()
    increments = tuple(f"{k + 1:04d}-bench" for k in range(n_increments))
    init_project(root, increments)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    rng = random.Random(seed)
    layout = Layout(root)
    per_increment = -(-versions // n_increments)
    req = REQUIREMENTS.encode()
    stream = bytearray()
    when = int(BASE_TIME.timestamp())
    mark = 0

    def blob(path: str, data: bytes) -> None:
        stream.extend(b"M 100644 inline " + path.encode() + b"\n" + b"data %d\n" % len(data) + data + b"\n")

    def commit(message: str, files: dict[str, bytes], at: int) -> None:
        nonlocal mark
        mark += 1
        msg = message.encode()
        stream.extend(b"commit refs/heads/main\nmark :%d\n" % mark)
        stream.extend(f"author {ACTOR_NAME} <{ACTOR_EMAIL}> {at} +0000\n".encode())
        stream.extend(f"committer {ACTOR_NAME} <{ACTOR_EMAIL}> {at} +0000\n".encode())
        stream.extend(b"data %d\n" % len(msg) + msg + b"\n")
        if mark == 1:
            stream.extend(b"from refs/heads/main^0\n")
        for path, data in files.items():
            blob(path, data)
        stream.extend(b"\n")

    records: dict[str, list[dict[str, Any]]] = {inc: [] for inc in increments}
    for i in range(versions):
        inc = increments[i // per_increment]
        for name in MODELS:
            folder = f".specweave/increments/{inc}/models/{layout.version_dirname(name, version_string(i))}"
            artifact = rng.randbytes(ARTIFACT_BYTES)
            meta = version_metadata(name, i, versions, inc, artifact, rng, -1, -1)
            meta_bytes = dump_json(meta)
            records[inc].append(summarize(meta, f"{folder}/metadata.json"))
            ver = version_string(i)
            message = (f"registry: register {name} v{ver}\n\nRegistry-Event: register\nRegistry-Model: {name}\n"
                       f"Registry-Version: {ver}\nRegistry-To: dev\nRegistry-Actor: {ACTOR_EMAIL}\n"
                       f"Registry-Seq: {i + 1}\n")
            commit(message, {f"{folder}/model.pkl": artifact, f"{folder}/metadata.json": meta_bytes,
                             f"{folder}/features.yaml": features_yaml(meta["features"]),
                             f"{folder}/requirements.txt": req}, when + 3600 * i)
        if i == versions - 1 or (i + 1) // per_increment != i // per_increment:
            inc_rel = f".specweave/increments/{inc}"
            message = f"registry: reindex {inc}\n\nRegistry-Event: reindex\nRegistry-Actor: {ACTOR_EMAIL}\n"
            commit(message, derived_files(inc_rel, inc, records[inc]), when + 3600 * i + 1)
    stream.extend(b"done\n")
    subprocess.run(["git", "fast-import", "--quiet", "--done"], cwd=root, input=bytes(stream), check=True)
    git(root, "reset", "-q", "--hard", "main")
    from sw_registry.registry import ModelRegistry

    _finish_stages(ModelRegistry(root=root, actor=ACTOR_EMAIL), versions)
    return {"root": str(root), "models": list(MODELS), "versions_per_model": versions,
            "versions": versions * len(MODELS), "increments": list(increments),
            "seconds": round(time.perf_counter() - t0, 2), "builder": "fast-import"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=500, help="versions per model (default 500 -> 1,500 in all)")
    parser.add_argument("--out", type=Path, default=None, help="new or empty folder (default: a new temp folder)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for artifacts and metrics")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="sw-registry-bench-"))
    summary = build(out, args.versions, args.seed)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"built {summary['versions']} versions of {len(MODELS)} models in {summary['root']} "
              f"({summary['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
