"""The narrowed check's stat pass (issue 10, s6-check; store/write_check.py, store/stat_pass.py): each file at most one
stat per write, no listing of a ``models/`` folder whose stat is the snapshot's, and what that fast path relies on
(a folder's mtime sees a name created, removed or renamed in it; a file's own stat sees an edit in place) shown
case by case. Correctness and the count of calls only, never timing."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.registry import ModelRegistry
from sw_registry.store import snapshot_file, stat_pass, write_check
from tests.conftest import NEW_INCREMENT, OLD_INCREMENT, git, promoted_registry

OLD, NEW = OLD_INCREMENT, NEW_INCREMENT
INCS = Path(".specweave/increments")
TICK = 0.04  # seconds: longer than the timestamp tick of the file systems tests run on (1 ns to a few ms)


@pytest.fixture
def reg(tmp_path: Path, make_artifact) -> ModelRegistry:  # type: ignore[no-untyped-def]
    """promoted_registry, whose last write (made a tick of any file system's clock after the files it found were
    last written, and writing in the new increment only) listed the old increment's ``models/`` folder: the next
    write takes the fast path (no listing) there. (An increment a write wrote in is listed by the next write once:
    ``worktree_state.refresh`` re-stats its folders without listing them.)"""
    reg = promoted_registry(tmp_path, make_artifact)
    time.sleep(TICK)  # else, on a file system with a coarse clock, a file the set-up wrote may still be racy
    reg.promote_model("other", "1.0.0", to_stage="staging")  # other lives in the new increment
    assert snapshot_file.load(reg.ctx.layout) is not None
    return reg


@pytest.fixture
def listings(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The ``models/`` folders the check lists (the slow path)."""
    seen: list[str] = []

    class Watched(stat_pass.Listing):
        def __init__(self, path: str) -> None:
            seen.append(path)
            super().__init__(path)

    monkeypatch.setattr(write_check, "Listing", Watched)
    return seen


def folder(reg: ModelRegistry, inc: str, name: str, version: str) -> Path:
    return reg.ctx.layout.root / INCS / inc / "models" / f"{name}-v{version}"


def probe(reg: ModelRegistry, make_artifact, tag: str):  # type: ignore[no-untyped-def]
    """A write that reads m everywhere and rewrites only the new increment (OLD's models/ folder stays as it is)."""
    return lambda: reg.register_model("m", str(make_artifact(tag.encode())), bump="patch", increment=NEW)


def refused(call) -> bool:  # type: ignore[no-untyped-def]
    try:
        call()
    except RegistryError as exc:
        assert exc.code == "dirty_registry"
        return True
    return False


def test_a_write_stats_each_metadata_file_once_and_lists_no_unchanged_models_folder(
    reg: ModelRegistry, make_artifact, monkeypatch, listings: list[str]
) -> None:
    stats: Counter[str] = Counter()
    real = os.stat

    def counted(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("dir_fd") is not None:  # the check's stats relative to an open models/ folder
            stats[str(path)] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    reg.register_model("m", str(make_artifact(b"new")), bump="patch", increment=NEW)  # rewrites NEW's derived files
    monkeypatch.setattr(os, "stat", real)
    assert f"{OLD}/models" not in " ".join(listings)
    assert stats and max(stats.values()) == 1
    # every version of m (both increments) and every other version of the increment it rewrites, by metadata.json
    assert set(stats) == {f"{f}/metadata.json" for f in ("m-v1.0.0", "m-v1.0.1", "other-v1.0.0")}
    assert git(reg.ctx.layout.root, "status", "--porcelain") == ""


@pytest.mark.parametrize("change", ["removed", "renamed over", "edited in place"])
def test_a_metadata_file_changed_behind_an_unchanged_models_folder_is_refused(
    reg: ModelRegistry, make_artifact, listings: list[str], change: str
) -> None:
    """m's 1.0.0 lives in the increment the promote does not rewrite: only its metadata.json's stat can tell."""
    project = reg.ctx.layout.root
    meta = folder(reg, OLD, "m", "1.0.0") / "metadata.json"
    models_before = os.stat(meta.parent.parent)
    data = json.loads(meta.read_text())
    data["description"] = "by hand"
    if change == "removed":
        meta.unlink()
    elif change == "renamed over":  # an editor's save: a new file renamed over the old one
        tmp = meta.with_name("metadata.json.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, meta)
    else:
        with open(meta, "r+b") as fh:  # same inode, same folder listing
            fh.write(meta.read_bytes().replace(b'"description": ""', b'"description": "x"', 1))
    assert os.stat(meta.parent.parent).st_mtime_ns == models_before.st_mtime_ns  # models/ itself unchanged
    assert refused(probe(reg, make_artifact, "refused"))
    assert f"{OLD}/models" not in " ".join(listings)  # found on the fast path
    git(project, "checkout", "--", str(meta.relative_to(project)))
    probe(reg, make_artifact, "lands")()
    assert git(project, "status", "--porcelain") == ""


def test_a_version_folder_removed_or_added_by_hand_is_seen_through_the_models_folder(
    reg: ModelRegistry, make_artifact, listings: list[str]
) -> None:
    project = reg.ctx.layout.root
    gone = folder(reg, OLD, "m", "1.0.0")
    shutil.rmtree(gone)
    assert snapshot_file.load(reg.ctx.layout) is not None
    assert refused(probe(reg, make_artifact, "refused"))
    assert f"{OLD}/models" in " ".join(listings)  # the models/ folder's stat changed: listed
    git(project, "checkout", "--", str(gone.relative_to(project)))
    probe(reg, make_artifact, "lands")()  # and leaves a snapshot again

    # a folder named like a version of m, new in an increment the write does not rewrite
    stray = folder(reg, OLD, "m", "9.9.9")
    stray.mkdir()
    (stray / "notes.txt").write_text("mine\n")
    listings.clear()
    assert refused(probe(reg, make_artifact, "refused again"))
    assert f"{OLD}/models" in " ".join(listings)  # the models/ folder's stat changed: listed
    (stray / "notes.txt").unlink()
    stray.rmdir()
    probe(reg, make_artifact, "lands again")()
    assert git(project, "status", "--porcelain") == ""


def test_a_file_added_to_another_models_version_folder_stays_the_users_own_until_a_write_changes_that_folder(
    reg: ModelRegistry, make_artifact
) -> None:
    """The increment a write rewrites is checked by each version's metadata.json (the derived files are made from
    those alone): a file beside another model's metadata.json is neither committed nor touched, as for the
    written model's own folders, and a write that changes that folder refuses as before."""
    project = reg.ctx.layout.root
    # the fixture's promote wrote other's metadata.json just before its snapshot: racy there on a file system with a
    # coarse clock, so the next write would rightly ask git about that folder (and find the note). One more write a
    # tick later first.
    time.sleep(TICK)
    probe(reg, make_artifact, "past the racy window")()
    time.sleep(TICK)
    notes = folder(reg, NEW, "other", "1.0.0") / "notes.txt"
    notes.write_text("mine\n")
    rel = str(notes.relative_to(project))
    reg.register_model("m", str(make_artifact(b"new")), bump="patch", increment=NEW)
    assert notes.read_text() == "mine\n"
    assert git(project, "status", "--porcelain", "-uall").split() == ["??", rel]
    assert rel not in git(project, "show", "--name-only", "--format=", "HEAD")
    assert refused(lambda: reg.promote_model("other", "1.0.0", to_stage="production"))
    notes.unlink()
    reg.promote_model("other", "1.0.0", to_stage="production")
    assert reg.get_model("other", version="1.0.0", load=False).stage == "production"
    assert git(project, "status", "--porcelain") == ""


def test_a_version_folder_recent_at_a_snapshot_is_still_known_to_the_write_after_next(
    reg: ModelRegistry, make_artifact, listings: list[str]
) -> None:
    """A snapshot keeps no recent entry as valid (git's racy rule), but a version folder's key stays in it: the
    names of an unchanged ``models/`` folder are the snapshot's keys. Here m's 1.0.0 is recent at the snapshot of
    a write that does not read m (the promote of other), and the write after it, which reads m, still finds it."""
    project = reg.ctx.layout.root
    version = folder(reg, OLD, "m", "1.0.0")
    future = time.time_ns() + 60 * 10**9  # recent for certain, whenever the writes below run
    for path in (version / "metadata.json", version):
        os.utime(path, ns=(future, future))
    probe(reg, make_artifact, "sees the future mtime")()  # reads m: checks 1.0.0 with git (clean), keeps it
    reg.promote_model("other", "1.0.0", to_stage="production")  # reads other only: m's 1.0.0 recent in its snapshot
    listings.clear()
    reg.promote_model("m", "1.0.0", to_stage="staging")  # reads m: 1.0.0 must be there
    assert f"{OLD}/models" not in " ".join(listings)  # through the fast path
    assert reg.get_model("m", version="1.0.0", load=False).stage == "staging"
    assert git(project, "status", "--porcelain") == ""
