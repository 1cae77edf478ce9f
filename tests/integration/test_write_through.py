"""The write-through (issue 10, store/record_layer.py): once a write committed, the records it wrote are in the
model's cache, so the next write's check is a stat pass (no metadata.json read again, no cache file or summary
rewritten); hand edits are still seen by writes and reads; a write killed before its write-through, or a cache left
half way, is found and repaired by the next run. Real repositories and real runs; parses are counted by wrapping
the one function that parses a metadata.json for the index (it still runs). Correctness only, never timing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from sw_registry.store import rebuild, record_cache, record_layer, record_summary
from sw_registry.store.index import WorkTreeSource, load_index
from sw_registry.store.record_cache import _records_dir
from tests.cli.inprocess import run_main
from tests.conftest import NEW_INCREMENT, OLD_INCREMENT, git, promoted_registry

MODELS_NEW = f".specweave/increments/{NEW_INCREMENT}/models"


@pytest.fixture
def reg(tmp_path: Path, make_artifact) -> ModelRegistry:  # type: ignore[no-untyped-def]
    """m: 1.0.0 (OLD, archived), 1.0.1 (NEW, production), 1.0.2 (NEW, dev); other 1.0.0 (NEW)."""
    reg = promoted_registry(tmp_path, make_artifact)
    reg.register_model("m", str(make_artifact(b"c")), version="1.0.2")
    return reg


def folder(reg: ModelRegistry, name: str = "m") -> Path:
    layout = reg.ctx.layout
    return _records_dir(layout.cache_dir, WorkTreeSource(layout), name)


def cache_files(reg: ModelRegistry) -> dict[str, tuple[int, int]]:
    """(mtime, inode) of the model's full cache files and its summary: what a rewrite changes."""
    out = {}
    for path in folder(reg).iterdir():
        if path.name != record_layer.LAYER:
            st = path.stat()
            out[path.name] = (st.st_mtime_ns, st.st_ino)
    return out


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The metadata paths the index parses from now on (the real parser runs; each call is noted). A rebuild in
    two processes would parse in the other one: the registries here are far below its threshold."""
    seen: list[str] = []
    real = record_cache.parse_raw

    def counted(raw: bytes | None, rel: str):  # type: ignore[no-untyped-def]
        seen.append(rel)
        return real(raw, rel)

    monkeypatch.setattr(record_cache, "parse_raw", counted)
    monkeypatch.setattr(rebuild, "parse_raw", counted)  # the read's rebuild from nothing imports it by name
    return seen


def as_cached_and_afresh(reg: ModelRegistry, name: str = "m") -> tuple[list, list]:  # type: ignore[type-arg]
    layout = reg.ctx.layout
    cached = load_index(WorkTreeSource(layout)).records_of(name)
    afresh = load_index(WorkTreeSource(layout), use_cache=False).records_of(name)
    return cached, afresh


WRITES = {
    "register": lambda reg, art: reg.register_model("m", str(art), bump="patch"),
    "promote": lambda reg, art: reg.promote_model("m", "1.0.2", to_stage="staging"),
    "approve": lambda reg, art: reg.approve_model("m", "1.0.2", approver="qa@example.com", stage="production"),
    "rollback": lambda reg, art: reg.rollback("m", reason="bad numbers"),
}


@pytest.mark.parametrize("op", sorted(WRITES))
def test_after_each_kind_of_write_the_next_one_reads_and_rewrites_nothing(reg, make_artifact, parses, op) -> None:
    WRITES[op](reg, make_artifact(op.encode()))
    before, parsed_before = cache_files(reg), len(parses)
    assert before and (folder(reg) / record_layer.LAYER).exists()  # the write's records: in the layer
    got = reg.register_model("m", str(make_artifact(b"next")), bump="minor")  # the next write (narrowed)
    assert parses[parsed_before:] == []  # nothing read again: every version found in the cache as it is
    assert cache_files(reg) == before  # no full cache file and no summary written again
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh and cached[-1]["version"] == got.version
    assert reg.info("m", got.version).version == got.version


def test_reads_after_a_write_see_its_records_and_leave_the_cache_files_alone(reg, make_artifact, parses) -> None:
    assert [v.stage for v in reg.list_versions(model="m")] == ["archived", "production", "dev"]  # the read's cache
    reg.promote_model("m", "1.0.2", to_stage="staging")
    before, parsed = cache_files(reg), len(parses)
    assert [v.stage for v in reg.list_versions(model="m")] == ["archived", "production", "staging"]
    shown = json.loads(run_main(reg.ctx.layout.root, "registry-info", "m", "--json").stdout)["data"]
    assert shown["stages"]["staging"] == "1.0.2"
    assert cache_files(reg) == before  # the model's records came from the cache files and the layer over them
    assert set(parses[parsed:]) <= {f"{MODELS_NEW}/m-v1.0.2/metadata.json"}  # (the index's own file: changed)
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Edit a metadata.json in place (same inode), its mtime one second on: an edit made later by hand."""
    st = path.stat()
    meta = json.loads(path.read_text())
    change(meta)
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(json.dumps(meta, indent=2) + "\n")
        fh.truncate()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_ino == st.st_ino


def test_a_hand_edit_after_a_write_is_seen_by_reads_and_by_the_next_write(reg, make_artifact) -> None:
    project = reg.ctx.layout.root
    reg.promote_model("m", "1.0.2", to_stage="staging")  # its record now in the layer
    path = project / MODELS_NEW / "m-v1.0.2" / "metadata.json"
    _edit(path, lambda meta: meta.update(tags=["by-hand"]))
    assert reg.info("m", "1.0.2").metadata["tags"] == ["by-hand"]  # a read: the layer's record is not the file's
    shown = json.loads(run_main(project, "registry-info", "m", "--version", "1.0.2", "--json").stdout)["data"]
    assert shown["tags"] == ["by-hand"]
    refused = run_main(project, "registry-promote", "m", "1.0.2", "--to", "production", "--json")
    assert refused.returncode == 4 and json.loads(refused.stdout)["error"]["code"] == "dirty_registry"
    git(project, "commit", "-q", "-am", "tag by hand")
    moved = reg.promote_model("m", "1.0.2", to_stage="production")
    assert moved.to_stage == "production"
    assert reg.info("m", "1.0.2").metadata["tags"] == ["by-hand"]
    _edit(path, lambda meta: meta.update(tags=["again"]))  # an edit of the file the write just wrote through
    git(project, "commit", "-q", "-am", "tag by hand again")
    assert [v.metadata["tags"] for v in reg.list_versions(model="m")][-1] == ["again"]
    assert reg.rollback("m", reason="r").to_version == "1.0.1"
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh and cached[-1]["tags"] == ["again"] and cached[-1]["stage"] == "archived"


def test_a_layer_past_its_limit_is_folded_into_the_cache_file(reg, make_artifact, monkeypatch) -> None:
    monkeypatch.setattr(record_summary, "LIMIT", 2)
    name = f"{MODELS_NEW.rsplit('/models', 1)[0].replace('/', '%')}"
    shard = folder(reg) / f"{name}.marshal"

    def in_layer() -> int:
        return len(record_layer.over(record_layer.load(folder(reg)), name, record_layer.file_stat(shard)))

    folded = 0
    for i in range(4):
        ino, held = shard.stat().st_ino, in_layer()
        reg.register_model("m", str(make_artifact(f"x{i}".encode())), bump="patch")
        if held < 2:  # room for one more record: it goes into the layer, the file stays
            assert (shard.stat().st_ino, in_layer()) == (ino, held + 1)
        else:  # the layer would pass its limit: folded into the cache file, which then holds every record
            assert shard.stat().st_ino != ino and in_layer() == 0
            folded += 1
    assert folded >= 1
    full = record_summary._full_shard(shard)
    versions = [v.version for v in reg.list_versions(model="m") if v.version != "1.0.0"]
    assert folded and sorted(rec["version"] for _fp, rec in full.values()) <= sorted(versions)
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "T"


def test_a_write_killed_before_its_write_through_leaves_a_cache_the_next_run_repairs(reg, make_artifact,
                                                                                     parses) -> None:
    project = reg.ctx.layout.root
    proc = subprocess.Popen(
        [sys.executable, "-m", "sw_registry", "registry-promote", "m", "1.0.2", "--to", "staging", "--json"],
        cwd=project, env={**os.environ, "SW_REGISTRY_TEST_STOP_AT": "write_through"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _stopped(proc.pid):
        assert proc.poll() is None, "the promote ended before its write-through"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert git(project, "log", "-1", "--format=%s").startswith("registry: promote m v1.0.2")  # it committed
    layer = {rel: rec["stage"] for _, part in record_layer.load(folder(reg)).values() for rel, (_, rec) in part.items()}
    assert "staging" not in layer.values()  # ... and its record never reached the cache
    parsed = len(parses)
    assert reg.info("m", "1.0.2").stage == "staging"  # reads see the file
    assert reg.promote_model("m", "1.0.2", to_stage="production").to_stage == "production"
    assert [p for p in parses[parsed:] if "/m-v1.0.2/" in p]  # read again (by the read, or the write), as it must
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh and cached[-1]["stage"] == "production"


def test_a_cache_left_half_way_is_found_and_repaired(reg, make_artifact, monkeypatch) -> None:
    """Summary, layer and cache files each from another moment (a kill between the files a fold writes, a copy of
    an older cache): the stats they name tell which to trust; what is not trusted is read again."""
    monkeypatch.setattr(record_summary, "LIMIT", 1)
    old = folder(reg).parent / "kept"
    shutil.copytree(folder(reg), old)
    reg.promote_model("m", "1.0.2", to_stage="staging")
    reg.approve_model("m", "1.0.2", approver="qa@example.com", stage="production")  # folds NEW's file
    for name in (record_summary.SUMMARY, record_layer.LAYER):  # put back older ones beside the newer file
        if (old / name).exists():
            shutil.copy2(old / name, folder(reg) / name)
    got = reg.promote_model("m", "1.0.2", to_stage="production")
    assert got.to_stage == "production"
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh
    for shard in folder(reg).glob("*.marshal"):  # a layer lying over a file that was replaced is void
        if (old / shard.name).exists():
            shutil.copy2(old / shard.name, shard)
    assert reg.rollback("m", reason="r").to_version == "1.0.1"
    cached, afresh = as_cached_and_afresh(reg)
    assert cached == afresh and [r["stage"] for r in cached] == ["archived", "production", "archived"]
    assert OLD_INCREMENT in cached[0]["dir"]
