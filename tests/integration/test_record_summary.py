"""A write's light records (issue 10, store/record_summary.py): the per-model summary beside the full
per-(model, increment) cache files is taken again whenever a file it summarises changed, was removed or is new,
and a write's decisions (next version, holder of a stage, seq, rollback target) come out as from the full records.
Correctness only, never timing."""

from __future__ import annotations

import json
import marshal
import os
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from sw_registry.store.index import WorkTreeSource, load_index
from sw_registry.store.record_cache import _records_dir
from sw_registry.store.record_summary import SUMMARY, light
from tests.conftest import NEW_INCREMENT, OLD_INCREMENT, git, promoted_registry

OLD, NEW = OLD_INCREMENT, NEW_INCREMENT


@pytest.fixture
def reg(tmp_path: Path, make_artifact) -> ModelRegistry:  # type: ignore[no-untyped-def]
    """Model m with versions in two increments, one of them in production (so rollback has a target)."""
    reg = promoted_registry(tmp_path, make_artifact)
    return reg


def folder(reg: ModelRegistry, name: str = "m") -> Path:
    layout = reg.ctx.layout
    return _records_dir(layout.cache_dir, WorkTreeSource(layout), name)


def summary(reg: ModelRegistry) -> dict:  # type: ignore[type-arg]
    data = marshal.loads((folder(reg) / SUMMARY).read_bytes())
    return data["shards"]  # type: ignore[no-any-return]


def assert_summary_matches_the_cache_files(reg: ModelRegistry) -> None:
    """Every entry names the stat of the full cache file it summarises, and holds its records' light fields."""
    shards = summary(reg)
    files = sorted(p.name[: -len(".marshal")] for p in folder(reg).glob("*.marshal"))
    assert sorted(shards) == files
    for shard, (st, entries) in shards.items():
        path = folder(reg) / f"{shard}.marshal"
        got = os.stat(path)
        assert st == (got.st_mtime_ns, got.st_size, got.st_ino)
        full = marshal.loads(path.read_bytes())
        assert {rel: (fp, light(rec)) for (rel, fp), rec in zip(full["fps"].items(), full["records"])} == entries


def cached_versions(reg: ModelRegistry) -> list[str]:
    """The versions the summary and the layer over the cache files (record_layer.py) hold, each once."""
    from sw_registry.store import record_layer

    got = {rel: e[1][0] for _, es in summary(reg).values() for rel, e in es.items()}
    for shard, (st, part) in record_layer.load(folder(reg)).items():
        assert st == record_layer.file_stat(folder(reg) / f"{shard}.marshal")  # it lies over the file as it is
        got.update({rel: rec["version"] for rel, (_fp, rec) in part.items()})
    return sorted(got.values())


def test_a_write_keeps_the_summary_of_each_cache_file_it_writes(reg, make_artifact) -> None:
    assert_summary_matches_the_cache_files(reg)
    reg.register_model("m", str(make_artifact(b"c")), bump="patch")
    assert_summary_matches_the_cache_files(reg)
    assert cached_versions(reg) == ["1.0.0", "1.0.1", "1.0.2"]  # the write's own version: written through
    reg.promote_model("m", "1.0.2", to_stage="staging")
    assert_summary_matches_the_cache_files(reg)
    assert cached_versions(reg) == ["1.0.0", "1.0.1", "1.0.2"]


def test_the_light_records_decide_as_the_full_ones(reg) -> None:
    layout = reg.ctx.layout
    index = load_index(WorkTreeSource(layout))
    full = index.records_of("m")
    reg.promote_model("m", "1.0.1", to_stage="production")  # a no-op write: leaves a stat snapshot
    with reg.ctx.write() as tx:
        lite = tx.index.light_of("m")
        assert tx.index.guard is not None and "stage_events" in lite[0] and "events" not in lite[0]  # light ones
        assert [(r["version"], r["stage"], r["dir"], r["max_seq"]) for r in lite] == [
            (r["version"], r["stage"], r["dir"], r["max_seq"]) for r in full
        ]
        assert tx.index.holder("m", "production") == full[1]  # the full record of the one it names
        assert tx.index.max_seq("m") == index.max_seq("m")
        assert tx.index.find("m", "1.0.0") == full[0]


def test_a_cache_file_rewritten_outside_a_narrowed_write_is_summarised_again(reg, make_artifact) -> None:
    project = reg.ctx.layout.root
    path = project / ".specweave/increments" / OLD / "models" / "m-v1.0.0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["tags"] = ["by-hand"]
    path.write_text(json.dumps(meta, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "tag by hand")
    assert load_index(WorkTreeSource(reg.ctx.layout)).records_of("m")  # a read of the full index ...
    with pytest.raises(AssertionError):  # ... rewrote m's cache file of OLD, and left the summary behind it
        assert_summary_matches_the_cache_files(reg)
    assert reg.rollback("m").to_version == "1.0.0"  # the next write takes that file's summary again
    assert_summary_matches_the_cache_files(reg)
    got = reg.list_versions(model="m")
    assert [v.stage for v in got] == ["production", "archived"] and "by-hand" in got[0].metadata["tags"]


def test_a_removed_or_broken_cache_file_or_summary_is_rebuilt(reg, make_artifact) -> None:
    for shard in folder(reg).glob("*.marshal"):
        if OLD in shard.name:
            shard.unlink()
    assert reg.register_model("m", str(make_artifact(b"c")), bump="patch").version == "1.0.2"
    assert_summary_matches_the_cache_files(reg)
    (folder(reg) / SUMMARY).write_bytes(b"not marshal")
    assert reg.register_model("m", str(make_artifact(b"d")), bump="minor").version == "1.1.0"
    assert_summary_matches_the_cache_files(reg)
    for shard in folder(reg).glob("*.marshal"):
        shard.write_bytes(b"broken")
    reg.promote_model("m", "1.1.0", to_stage="staging")
    assert_summary_matches_the_cache_files(reg)
    assert [v.stage for v in reg.list_versions(model="m")] == ["archived", "production", "dev", "staging"]


def test_a_stage_changed_by_hand_reaches_the_write_through_the_fingerprint(reg, make_artifact) -> None:
    project = reg.ctx.layout.root
    path = project / ".specweave/increments" / NEW / "models" / "m-v1.0.1" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["stage"] = "staging"  # the summary still says production
    path.write_text(json.dumps(meta, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "stage by hand")
    reg.register_model("m", str(make_artifact(b"c")), version="1.0.2")
    reg.promote_model("m", "1.0.2", to_stage="staging")  # displaces the hand-made staging holder
    assert [v.stage for v in reg.list_versions(model="m")] == ["archived", "archived", "staging"]
    reg.promote_model("m", "1.0.2", to_stage="production")  # narrowed: the summary is taken again
    assert_summary_matches_the_cache_files(reg)
    assert [v.stage for v in reg.list_versions(model="m")] == ["archived", "archived", "production"]
