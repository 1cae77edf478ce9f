"""The narrowed check stats only the metadata.json of a model's known version folders (README "What a write checks
and reads"): a file created in one of them is left the user's own by a write that does not change that folder, and
refused as before by a write that does. Correctness only, never timing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.registry import ModelRegistry
from sw_registry.store import snapshot_file
from tests.conftest import NEW_INCREMENT, OLD_INCREMENT, git, two_increment_registry

OLD, NEW = OLD_INCREMENT, NEW_INCREMENT
INCS = Path(".specweave/increments")


@pytest.fixture
def reg(tmp_path: Path, make_artifact) -> ModelRegistry:  # type: ignore[no-untyped-def]
    reg = two_increment_registry(tmp_path, make_artifact)
    reg.promote_model("m", "1.0.1", to_stage="staging")  # the last write left a stat snapshot
    return reg


def test_a_file_added_to_a_version_folder_is_refused_only_by_a_write_that_changes_that_folder(
    reg: ModelRegistry, make_artifact
) -> None:
    project = reg.ctx.layout.root
    notes = project / INCS / OLD / "models" / "m-v1.0.0" / "notes.txt"
    notes.write_text("mine\n")
    rel = str(notes.relative_to(project))

    # a write of the model that does not change that folder lands, and leaves the file as it was, uncommitted
    assert snapshot_file.load(reg.ctx.layout) is not None
    reg.register_model("m", str(make_artifact(b"c")), bump="patch")
    assert notes.read_text() == "mine\n"
    assert git(project, "status", "--porcelain", "-uall").split() == ["??", rel]
    assert rel not in git(project, "show", "--name-only", "--format=", "HEAD")

    # a write that rewrites a file in that folder is refused, as the full check refuses it
    assert snapshot_file.load(reg.ctx.layout) is not None
    with pytest.raises(RegistryError) as exc:
        reg.promote_model("m", "1.0.0", to_stage="staging")
    assert exc.value.code == "dirty_registry"
    assert git(project, "status", "--porcelain", "-uall").split() == ["??", rel]

    notes.unlink()
    reg.promote_model("m", "1.0.0", to_stage="staging")
    assert reg.get_model("m", version="1.0.0", load=False).stage == "staging"
    assert git(project, "status", "--porcelain") == ""



def test_registry_files_written_just_before_the_snapshot_do_not_widen_the_check_to_the_whole_registry(
    reg: ModelRegistry, make_artifact
) -> None:
    """Registry files whose mtime lies in the racy window are checked again by the next write; a status that finds
    them unchanged must not turn, because this write's own journal exists by then, into a full status that refuses
    a user's file elsewhere (a check that depended only on timing: the test above failed 4 runs in 6 that way)."""
    project = reg.ctx.layout.root
    notes = project / INCS / OLD / "models" / "m-v1.0.0" / "notes.txt"
    notes.write_text("mine\n")
    future = time.time_ns() + 10**9  # newer than the next write's start: racy for certain
    for derived in (project / INCS / NEW / "registry").iterdir():
        os.utime(derived, ns=(future, future))
    reg.register_model("m", str(make_artifact(b"c")), bump="patch")
    assert git(project, "status", "--porcelain", "-uall").split() == ["??", str(notes.relative_to(project))]

def test_a_write_to_an_increment_with_no_derived_cache_stays_narrowed(reg: ModelRegistry, monkeypatch) -> None:
    """Many stale versions in the derived cache (here: none cached, and any count counts as many) are taken from
    the increment's record cache files, not the whole index: the write keeps its narrowed check and leaves the stat
    snapshot for the next one, and the derived files are exactly a full render."""
    from sw_registry.store import derived
    from tests.integration.test_derived_cache import assert_derived_fresh

    layout = reg.ctx.layout
    monkeypatch.setattr(derived, "PARSE_LIMIT", 0)
    for cached in (layout.cache_dir / "derived").glob("*.marshal"):
        cached.unlink()
    full_checks: list[int] = []
    real = derived.refresh_increment

    def watched(tx, inc):  # type: ignore[no-untyped-def]
        real(tx, inc)
        full_checks.append(int(tx.check is None or tx.check.full))

    monkeypatch.setattr(derived, "refresh_increment", watched)
    reg.promote_model("m", "1.0.0", to_stage="staging")
    assert full_checks and not any(full_checks)  # each increment it refreshed (1.0.1 is archived in the other)
    assert snapshot_file.load(layout) is not None
    assert_derived_fresh(layout.root)
