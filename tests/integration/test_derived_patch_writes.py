"""Writes patch the derived files from the previous render and keep only what changed in the cache (issue 10):
after any sequence of registers, promotions, deprecations and hand edits committed by the user (a version's
metadata, a version removed, a derived file itself), the files are byte for byte a full render from every
metadata.json. Real repositories, real writes through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sw_registry.errors import RegistryError
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store import derived_cache
from tests.conftest import INCREMENT, git, make_project
from tests.integration.test_derived_cache import assert_derived_fresh

MODELS = Path(".specweave/increments") / INCREMENT / "models"
REGISTRY = MODELS.parent / "registry"

OPS = st.one_of(
    st.tuples(st.just("register"), st.sampled_from("ab"), st.sampled_from([None, "d1", "d2"]), st.booleans()),
    st.tuples(st.just("promote"), st.sampled_from("ab"), st.integers(0, 9), st.sampled_from(["staging", "production"])),
    st.tuples(st.just("deprecate"), st.sampled_from("ab"), st.integers(0, 9)),
    st.tuples(st.just("edit"), st.integers(0, 19), st.sampled_from(["tags", "data", "stage"])),
    st.tuples(st.just("remove"), st.integers(0, 19)),
    st.tuples(st.just("derived"), st.sampled_from(["rewrite", "commit"])),
)


def versions(project: Path, name: str | None = None) -> list[Path]:
    return sorted(p for p in (project / MODELS).glob("*-v*") if name is None or p.name.startswith(f"{name}-v"))


def apply(reg: ModelRegistry, project: Path, op: tuple[Any, ...], artifact: Path) -> None:
    kind = op[0]
    if kind == "register":
        _, name, data, with_parent = op
        existing = versions(project, name)
        parent = None
        if with_parent and existing:
            parent = f"{name}@{json.loads((existing[0] / 'metadata.json').read_text())['version']}"
        reg.register_model(name, str(artifact), bump="patch", data_version=data, parent=parent)
    elif kind in ("promote", "deprecate"):
        found = versions(project, op[1])
        if not found:
            return
        version = json.loads((found[op[2] % len(found)] / "metadata.json").read_text())["version"]
        if kind == "promote":
            reg.promote_model(op[1], version, to_stage=op[3], force=True, reason="test")
        else:
            reg.deprecate_model(op[1], version, reason="old", force=True)
    elif kind in ("edit", "remove"):
        found = versions(project)
        if not found:
            return
        folder = found[op[1] % len(found)]
        if kind == "remove":
            git(project, "rm", "-q", "-r", str(folder.relative_to(project)))
        else:
            path = folder / "metadata.json"
            meta = json.loads(path.read_text())
            if op[2] == "tags":
                meta["tags"] = [*meta.get("tags", []), "by-hand"]
            elif op[2] == "data":
                meta["lineage"] = {**(meta.get("lineage") or {}), "data": "hand"}
            else:
                meta["stage"] = "archived"
            path.write_text(json.dumps(meta, indent=2) + "\n")
        git(project, "commit", "-q", "--allow-empty", "-am", "by hand")
    else:  # a derived file: written again with the same bytes (a new inode), or changed and committed
        path = project / REGISTRY / "model_catalog.yaml"
        if not path.exists():
            return
        content = path.read_bytes()
        path.unlink()
        path.write_bytes(content if op[1] == "rewrite" else content + b"# by hand\n")
        if op[1] == "commit":
            git(project, "commit", "-q", "--allow-empty", "-am", "catalog by hand")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking real repositories takes minutes
@given(ops=st.lists(OPS, min_size=3, max_size=12))
def test_derived_files_stay_a_full_render_through_any_writes_and_hand_edits(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[Any, ...]]
) -> None:
    project = make_project(tmp_path_factory.mktemp("p") / "proj")
    artifact = project.parent / "model.pkl"
    reg = ModelRegistry(root=project)
    for name in ("a", "b"):
        for i in range(3):
            artifact.write_bytes(f"{name}{i}".encode())
            reg.register_model(name, str(artifact), bump="patch", data_version=f"d{i % 2}")
    for n, op in enumerate(ops):
        artifact.write_bytes(f"op{n}".encode())
        head = git(project, "rev-parse", "HEAD")
        try:
            apply(reg, project, op, artifact)
        except RegistryError:
            continue  # a refusal (an approval missing, a dirty registry) writes nothing
        if op[0] in ("register", "promote", "deprecate") and git(project, "rev-parse", "HEAD") != head:
            assert_derived_fresh(project)  # a write (not a no-op): the hand edits before it are in its files
    artifact.write_bytes(b"last")
    reg.register_model("a", str(artifact), bump="patch")
    assert_derived_fresh(project)


def cache_files(project: Path) -> tuple[Path, Path]:
    base, delta = derived_cache.paths(str(Layout(project).cache_dir), f".specweave/increments/{INCREMENT}")
    return Path(base), Path(delta)


def test_a_write_appends_what_it_changed_and_compacts_a_large_delta(
    project: Path, make_artifact: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("a", str(make_artifact()), version="1.0.0")
    base, delta = cache_files(project)
    assert base.exists() and not delta.exists()  # the first write renders in full and writes the base
    size = base.stat().st_size
    reg.register_model("a", str(make_artifact()), version="1.0.1")
    reg.promote_model("a", "1.0.0", to_stage="staging")
    assert base.stat().st_size == size and delta.stat().st_size > 0  # only the changes appended
    assert_derived_fresh(project)
    state = derived_cache.load(str(base), str(delta))
    assert len(state["entries"]) == 2
    monkeypatch.setattr(derived_cache, "COMPACT_BYTES", 1)
    reg.register_model("a", str(make_artifact()), version="1.0.2")
    assert not delta.exists() and base.stat().st_size > size  # folded into the base
    assert len(derived_cache.load(str(base), str(delta))["entries"]) == 3
    assert_derived_fresh(project)


def test_a_damaged_or_stale_delta_never_reaches_the_files(project: Path, make_artifact: Any) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("a", str(make_artifact()), version="1.0.0")
    reg.register_model("a", str(make_artifact()), version="1.0.1")
    base, delta = cache_files(project)
    with delta.open("ab") as fh:  # a write killed in the middle of its append
        fh.write(b"\xff\x00\x00\x00partial")
    assert derived_cache.load(str(base), str(delta))["entries"] == {}
    reg.promote_model("a", "1.0.1", to_stage="staging")
    assert_derived_fresh(project)
    assert not delta.exists()  # rendered in full, and the base rewritten
    # a delta of an older base (a crash between a compaction's two steps) is ignored, not applied
    old_delta = delta.with_suffix(".old")
    reg.register_model("a", str(make_artifact()), version="1.0.2")
    delta.rename(old_delta)
    path = project / MODELS / "a-v1.0.0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["tags"] = ["by-hand"]
    path.write_text(json.dumps(meta) + "\n")
    git(project, "commit", "-q", "-am", "by hand")
    base.unlink()
    reg.register_model("a", str(make_artifact()), version="1.0.3")  # a new base, another generation
    old_delta.rename(delta)
    assert len(derived_cache.load(str(base), str(delta))["entries"]) == 4
    reg.promote_model("a", "1.0.2", to_stage="staging")
    assert_derived_fresh(project)
