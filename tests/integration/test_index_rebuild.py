"""The index built from nothing (store/rebuild.py: a fresh clone, a deleted cache) gives what reading every record
in one go gives: the same aggregates, the same records, the same errors, in one process or with a forked child.
Correctness only, never timing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sw_registry.errors import RegistryError
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store import rebuild as R
from sw_registry.store.index import WorkTreeSource, load_index
from sw_registry.store.records import _sorted as sorted_records
from sw_registry.store.records import aggregate, parse_record_source, summarize
from tests.conftest import make_project

INCREMENTS = ("0001-alpha", "0002-beta", "0003-gamma")


@pytest.fixture(params=["one process", "forked child"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    forked = request.param == "forked child"
    monkeypatch.setattr(R, "FORK_MIN_FILES", 1 if forked else 10**9)
    monkeypatch.setattr(R.os, "cpu_count", lambda: 2)
    calls: list[int] = []
    real = R._fork

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(R, "_fork", counting)
    yield str(request.param)
    assert bool(calls) == forked  # the mode under test is the one that ran


def write_version(root: Path, template: dict[str, Any], inc: str, name: str, version: str, **fields: Any) -> str:
    folder = root / ".specweave" / "increments" / inc / "models" / f"{name}-v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    meta = {**template, "name": name, "version": version, "increment": inc, **fields}
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    return f"{folder.relative_to(root)}/metadata.json"


@pytest.fixture
def project(tmp_path: Path, make_artifact: Any) -> tuple[Path, dict[str, Any]]:
    """Three increments, three models spread over them, stages, tags, a newer schema and unsorted versions."""
    root = make_project(tmp_path / "proj", INCREMENTS, INCREMENTS[0])
    ModelRegistry(root=root).register_model("seed", str(make_artifact(b"x")), version="1.0.0")
    template = json.loads(next(root.glob(".specweave/increments/*/models/seed-v1.0.0/metadata.json")).read_text())
    n = 0
    for i, inc in enumerate(INCREMENTS):
        for name in ("alpha", "beta", "seed"):
            for patch in (3, 1, 2, 10):
                n += 1
                stage = "production" if (i, patch) == (1, 2) and name != "seed" else \
                    "staging" if (i, patch) == (2, 1) else "archived" if patch == 3 else "dev"
                write_version(root, template, inc, name, f"{i + 2}.0.{patch}", stage=stage,
                              tags=[f"t{n % 4}", name], updated_at=f"2026-0{i + 1}-0{patch % 9 + 1}T00:00:00Z",
                              schema_version=2 if n == 7 else 1, metrics={"accuracy": n / 100})
    return root, template


def truth(root: Path) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Every record read in one go, sorted, aggregated: what the index must say."""
    by_model: dict[str, list[Any]] = {}
    for path in sorted(root.glob(".specweave/increments/*/models/*/metadata.json")):
        rel = str(path.relative_to(root))
        rec = summarize(parse_record_source(path.read_bytes(), rel), rel)
        by_model.setdefault(rec["name"], []).append(rec)
    records = {name: sorted_records(recs, name) for name, recs in by_model.items()}
    return {name: aggregate(recs) for name, recs in records.items()}, records


def cold(root: Path) -> Any:
    shutil.rmtree(root / ".specweave" / "cache", ignore_errors=True)
    return load_index(WorkTreeSource(Layout(root)))


def test_a_cold_index_is_what_reading_everything_gives(project: tuple[Path, dict[str, Any]], mode: str) -> None:
    root, _ = project
    aggs, records = truth(root)
    index = cold(root)
    assert {name: index.aggregate(name) for name in index.names()} == aggs
    assert aggs["alpha"]["production"] == "3.0.2" and aggs["beta"]["staging"] == "4.0.1"
    assert aggs["alpha"]["newer_schema"] or aggs["beta"]["newer_schema"] or aggs["seed"]["newer_schema"]
    for name in records:  # each model's records come back from the cache files the rebuild wrote
        assert index.records_of(name) == records[name]
        assert load_index(WorkTreeSource(Layout(root))).records_of(name) == records[name]
    again = load_index(WorkTreeSource(Layout(root)))  # the next read: from the cache, unchanged
    assert {name: again.aggregate(name) for name in again.names()} == aggs


def test_most_files_changed_rebuilds_and_drops_what_is_gone(project: tuple[Path, dict[str, Any]], mode: str) -> None:
    root, _ = project
    cold(root)
    shutil.rmtree(root / ".specweave" / "increments" / INCREMENTS[2] / "models")  # gone: its cache files too
    for path in root.glob(".specweave/increments/*/models/*/metadata.json"):
        meta = json.loads(path.read_text())
        meta["tags"] = ["retagged"]
        path.write_text(json.dumps(meta) + "\n")  # every file changed: the rebuild, not the incremental path
    aggs, records = truth(root)
    index = load_index(WorkTreeSource(Layout(root)))
    assert {name: index.aggregate(name) for name in index.names()} == aggs
    assert all(index.records_of(name) == records[name] for name in records)
    cached = root / ".specweave" / "cache" / "sw-registry" / "records-worktree"
    assert not [p for p in cached.rglob("*.marshal") if INCREMENTS[2] in p.name]


def test_the_same_version_in_two_increments_is_the_same_integrity_error(
    project: tuple[Path, dict[str, Any]], mode: str
) -> None:
    root, template = project
    write_version(root, template, INCREMENTS[2], "beta", "2.0.1")  # beta 2.0.1 is also in 0001-alpha
    with pytest.raises(RegistryError) as expected:
        truth(root)
    with pytest.raises(RegistryError) as got:
        cold(root)
    assert got.value.code == expected.value.code == "integrity"
    assert str(got.value) == str(expected.value)
    assert "beta@2.0.1 is registered twice" in str(got.value)
    assert not (root / ".specweave" / "cache" / "sw-registry" / "index-worktree.marshal").exists()
    with pytest.raises(RegistryError):  # and again on the next read: nothing half-built is trusted
        load_index(WorkTreeSource(Layout(root)))


def test_a_broken_file_in_either_half_is_the_error_one_process_raises(
    project: tuple[Path, dict[str, Any]], mode: str
) -> None:
    root, _ = project
    last = sorted(root.glob(f".specweave/increments/{INCREMENTS[2]}/models/*/metadata.json"))[0]
    last.write_text('{"name": "alpha", "version": ')  # in the last increment: the child's half when forked
    with pytest.raises(RegistryError) as got:
        cold(root)
    assert got.value.code == "integrity"
    assert last.parent.name in str(got.value)
    first = sorted(root.glob(f".specweave/increments/{INCREMENTS[0]}/models/*/metadata.json"))[0]
    first.write_text("[]")  # now also one in the first increment: that one is named, as a single pass names it
    with pytest.raises(RegistryError) as got:
        cold(root)
    assert first.parent.name in str(got.value)


def test_cli_reads_on_a_fresh_clone_match_the_work_tree(project: tuple[Path, dict[str, Any]], mode: str,
                                                        tmp_path: Path) -> None:
    root, _ = project
    reg = ModelRegistry(root=root)
    before = [(m.name, m.production, m.staging, m.latest, m.version_count) for m in reg.list_models()]
    shutil.rmtree(root / ".specweave" / "cache")
    fresh = ModelRegistry(root=root)
    after = [(m.name, m.production, m.staging, m.latest, m.version_count) for m in fresh.list_models()]
    assert after == before and len(before) == 3


def test_a_cache_folder_that_cannot_be_made_reads_without_the_cache(project: tuple[Path, dict[str, Any]],
                                                                    mode: str) -> None:
    root, _ = project
    aggs, records = truth(root)
    shutil.rmtree(root / ".specweave" / "cache", ignore_errors=True)
    (root / ".specweave" / "cache").write_text("not a folder\n")  # as a read-only checkout: no cache can be written
    index = load_index(WorkTreeSource(Layout(root)))
    assert {name: index.aggregate(name) for name in index.names()} == aggs
    assert all(index.records_of(name) == records[name] for name in records)


def test_no_child_is_forked_while_another_thread_runs(project: tuple[Path, dict[str, Any]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    root, _ = project
    monkeypatch.setattr(R, "FORK_MIN_FILES", 1)
    monkeypatch.setattr(R.os, "cpu_count", lambda: 2)
    forks: list[int] = []
    monkeypatch.setattr(R, "_fork", lambda *args: forks.append(1))  # would break the rebuild if it were called
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        index = cold(root)
    finally:
        stop.set()
        other.join()
    assert forks == []
    assert {name: index.aggregate(name) for name in index.names()} == truth(root)[0]
