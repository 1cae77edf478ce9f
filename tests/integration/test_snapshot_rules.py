"""The rules of the write's stat snapshot (store/worktree_state.py, issue 10): an entry is trusted by its stat alone
only when its mtime is before the file system's clock read (``fs_now``) ahead of the stat (the racy rule); a write
refused before it changed anything leaves the snapshot as it was. Correctness and which paths git is asked about,
never timing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.gitops import open_repo
from sw_registry.gitops.repo import Repo
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store import fs_clock, snapshot_file, write_check
from tests.conftest import INCREMENT, git

NAME = "m"
CATALOG = Path(".specweave/increments") / INCREMENT / "registry" / "model_catalog.yaml"


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[list[str] | None]:
    """The paths each ``git status`` of a write was given (None: the whole registry)."""
    seen: list[list[str] | None] = []
    real = Repo.changed_paths

    def spy(self: Repo, ignored: bool = False, paths: list[str] | None = None) -> list[tuple[str, str]]:
        seen.append(None if paths is None else list(paths))
        return real(self, ignored, paths)

    monkeypatch.setattr(Repo, "changed_paths", spy)
    return seen


def reading_after(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """``fs_now`` reads the clock ``seconds`` after it is called: every file written before then is in an earlier
    timestamp tick on any file system whose tick is shorter (the case a fast write meets on a fine-grained one)."""
    real = fs_clock.fs_now

    def later(layout: Layout) -> int:
        time.sleep(seconds)
        return real(layout)

    monkeypatch.setattr(fs_clock, "fs_now", later)


def test_files_a_write_wrote_before_its_snapshot_are_not_given_to_git_by_the_next_write(
    project: Path, make_artifact, asked: list[list[str] | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The derived files a write rewrites last, just before its commit and snapshot, have mtimes before the file
    system's clock read for the snapshot: the next write trusts their stat (with this machine's clock less a fixed
    20 ms window, they were racy whenever the commit took less, and each next write ran a git status for them)."""
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    reading_after(monkeypatch, 0.03)
    reg.register_model(NAME, str(make_artifact(b"b")), version="1.0.1")
    asked.clear()
    reg.promote_model(NAME, "1.0.1", to_stage="staging")
    reg.register_model(NAME, str(make_artifact(b"c")), version="1.0.2")
    assert asked == []
    assert git(project, "status", "--porcelain") == ""


def test_an_edit_in_the_same_tick_as_a_racy_entry_is_still_refused(
    project: Path, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system with a coarse clock (here: one whose readings lag 10 s, so every file a write touched is at
    or after its snapshot's reading, as in a 2 s tick): an edit in place that keeps the catalog's size and mtime is
    still found, since a racy entry is given to git whatever its stat says."""
    real = fs_clock.fs_now
    monkeypatch.setattr(fs_clock, "fs_now", lambda layout: real(layout) - 10 * 10**9)
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    reg.register_model(NAME, str(make_artifact(b"b")), version="1.0.1")
    catalog = project / CATALOG
    st = catalog.stat()
    data = catalog.read_bytes()
    catalog.write_bytes(data.replace(b"1.0.1", b"9.9.9", 1))
    os.utime(catalog, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same tick: the stat is the snapshot's
    assert catalog.stat().st_size == st.st_size and catalog.stat().st_ino == st.st_ino
    with pytest.raises(RegistryError) as exc:
        reg.promote_model(NAME, "1.0.1", to_stage="staging")
    assert exc.value.code == "dirty_registry"
    assert str(CATALOG) in exc.value.details["paths"]
    assert catalog.read_bytes() != data  # the user's edit is left as it is


def test_a_write_refused_before_it_changed_anything_keeps_the_snapshot(
    project: Path, make_artifact, asked: list[list[str] | None]
) -> None:
    """A refusal (here: nothing to roll back to) changed no file: the snapshot is still true, so the next write
    is checked by it, with no full ``git status`` (it used to be dropped, as after a write that failed half-way)."""
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    layout = Layout(project)
    kept = snapshot_file.load(layout)
    assert kept is not None
    with pytest.raises(RegistryError) as exc:
        reg.rollback(NAME, reason="nothing earlier")
    assert exc.value.code == "invalid_transition"
    assert snapshot_file.load(layout) == kept
    asked.clear()
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    assert None not in asked
    assert git(project, "status", "--porcelain") == ""


def test_a_file_system_clock_that_went_back_means_the_full_check(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    layout = Layout(project)
    before = snapshot_file.load(layout)
    assert before is not None
    repo = open_repo(project)
    assert write_check.start(layout, repo, None, before["taken"]) is not None
    assert write_check.start(layout, repo, None, before["taken"] - 1) is None


def test_the_clock_file_lives_in_the_ignored_cache_folder(project: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    layout = Layout(project)
    clock = layout.cache_dir / fs_clock.CLOCK_FILE
    assert clock.is_file() and clock.stat().st_size == 0
    first = fs_clock.fs_now(layout)
    assert clock.stat().st_mtime_ns == first
    assert fs_clock.fs_now(layout) >= first
    assert "fs-clock" not in git(project, "status", "--porcelain", "-uall")


def test_where_the_clock_file_cannot_be_set_this_machines_clock_less_the_window_is_used(project: Path) -> None:
    layout = Layout(project)
    layout.cache_dir.parent.mkdir(parents=True, exist_ok=True)
    layout.cache_dir.write_text("not a folder\n")  # the cache folder's place is taken: nothing can be set in it
    before = time.time_ns()
    got = fs_clock.fs_now(layout)
    assert before - fs_clock.RACY_NS <= got <= time.time_ns() - fs_clock.RACY_NS
    assert layout.cache_dir.read_text() == "not a folder\n"


def test_a_cache_folder_on_another_file_system_reads_this_machines_clock(project: Path, make_artifact) -> None:
    """``.specweave/cache`` linked to another file system (here /dev/shm, a tmpfs): its clock is not the registry
    files' clock, so the reading is this machine's clock less the window, and writes still work through it."""
    import shutil
    import tempfile

    layout = Layout(project)
    elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        assert os.stat(elsewhere).st_dev != os.stat(project).st_dev
        cache = layout.specweave / "cache"
        if cache.exists():
            shutil.rmtree(cache)
        cache.symlink_to(elsewhere, target_is_directory=True)
        before = time.time_ns()
        got = fs_clock.fs_now(layout)
        assert before - fs_clock.RACY_NS <= got <= time.time_ns() - fs_clock.RACY_NS
        reg = ModelRegistry(root=project)
        reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
        reg.promote_model(NAME, "1.0.0", to_stage="staging")
        assert reg.get_model(NAME, version="1.0.0", load=False).stage == "staging"
    finally:
        shutil.rmtree(elsewhere)


def test_a_link_in_place_of_the_clock_file_is_set_itself_and_what_it_names_is_left_alone(
    project: Path, make_artifact
) -> None:
    layout = Layout(project)
    ModelRegistry(root=project).register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    mine = project / "mine.txt"
    mine.write_text("keep my mtime\n")
    os.utime(mine, ns=(10**18, 10**18))
    clock = layout.cache_dir / fs_clock.CLOCK_FILE
    clock.unlink()
    clock.symlink_to(mine)
    got = fs_clock.fs_now(layout)
    assert mine.stat().st_mtime_ns == 10**18 and mine.read_text() == "keep my mtime\n"
    assert got == os.lstat(clock).st_mtime_ns and got > 10**18  # the link's own mtime: now
    ModelRegistry(root=project).promote_model(NAME, "1.0.0", to_stage="staging")
    assert mine.stat().st_mtime_ns == 10**18
