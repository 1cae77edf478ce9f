"""Git's automatic housekeeping after a registry commit (gitops/housekeeping.py): started when git's own check
(builtin/gc.c need_to_gc, the only ``--auto`` task of git before 2.54 without settings) could find work, or when the
user has any ``maintenance.*``/``gc.*`` setting or a git whose choice we do not replicate; not started otherwise."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sw_registry.gitops import gitvars, open_repo
from sw_registry.gitops.housekeeping import VERSION_FILE, _parse_version, due, git_version
from tests.conftest import git, register_and_see_git_pack


def fill_objects_17(project: Path, count: int) -> None:
    """Write ``count`` loose blobs whose ids start with 17 (the folder git estimates its loose objects from)."""
    folder = project.parent / "fillers"
    folder.mkdir(exist_ok=True)
    paths = []
    i = 0
    while len(paths) < count:
        data = f"filler {i}\n".encode()
        i += 1
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest().startswith("17"):
            path = folder / f"f{i}"
            path.write_bytes(data)
            paths.append(str(path))
    git(project, "hash-object", "-w", *paths)


def config_of(project: Path) -> dict[str, str | None]:
    found = gitvars.start(project).result()
    assert found is not None
    return found.config


def test_nothing_due_in_a_small_repository_without_settings(project: Path) -> None:
    assert due(open_repo(project), config_of(project)) is False


def test_loose_objects_over_gits_estimate_make_it_due(project: Path) -> None:
    fill_objects_17(project, 27)  # git's limit: more than ceil(6700 / 256) = 27
    assert due(open_repo(project), config_of(project)) is False
    fill_objects_17(project, 28)
    assert due(open_repo(project), config_of(project)) is True


def test_more_than_fifty_packs_make_it_due_kept_packs_do_not_count(project: Path) -> None:
    packs = project / ".git" / "objects" / "pack"
    for i in range(51):
        data = f"pack {i}\n".encode()
        blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=project, input=data, capture_output=True,
                              check=True).stdout
        subprocess.run(["git", "pack-objects", "-q", str(packs / "pack")], cwd=project, input=blob,
                       capture_output=True, check=True)
    repo = open_repo(project)
    assert len(list(packs.glob("*.pack"))) == 51
    assert due(repo, config_of(project)) is True
    next(packs.glob("*.pack")).with_suffix(".keep").write_text("")
    assert due(repo, config_of(project)) is False


@pytest.mark.parametrize("setting", [("gc.auto", "1"), ("gc.auto", "0"), ("maintenance.auto", "false"),
                                     ("maintenance.strategy", "incremental"), ("gc.autoPackLimit", "3")])
def test_any_gc_or_maintenance_setting_leaves_the_choice_to_git(project: Path, setting: tuple[str, str]) -> None:
    git(project, "config", *setting)
    assert due(open_repo(project), config_of(project)) is True


def test_unknown_settings_leave_the_choice_to_git(project: Path) -> None:
    assert due(open_repo(project), None) is True


def fake_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """``git`` on PATH that says it is ``version`` and otherwise runs the real git."""
    folder = tmp_path / f"git-{version}"
    folder.mkdir()
    real = shutil.which("git")
    script = folder / "git"
    script.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then echo "git version {version}"; exit 0; fi\n'
                      f'exec "{real}" "$@"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize(("version", "expected"), [("2.54.0", True), ("3.1.0", True), ("2.53.2", False),
                                                   ("2.28.0", False)])
def test_a_git_with_another_default_strategy_decides_itself(project: Path, tmp_path: Path, version: str,
                                                            expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """git 2.54 runs its "geometric" tasks under --auto (other checks than gc's): started whatever we count;
    before 2.29 there is no ``git maintenance`` at all."""
    fake_git(tmp_path, monkeypatch, version)
    repo = open_repo(project)
    assert git_version(repo) == tuple(int(x) for x in version.split(".")[:2])
    assert due(repo, config_of(project)) is expected
    assert (repo.git_dir / VERSION_FILE).read_text().splitlines()[1] == f"git version {version}"


def test_the_version_is_asked_again_when_the_git_binary_changes(project: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fake_git(tmp_path, monkeypatch, "2.40.1")
    repo = open_repo(project)
    assert git_version(repo) == (2, 40)
    script = Path(shutil.which("git") or "")
    script.write_text(script.read_text().replace("2.40.1", "2.55.0") + "\n")
    assert git_version(repo) == (2, 55)


@pytest.mark.parametrize(("text", "expected"), [("git version 2.39.5", (2, 39)),
                                                ("git version 2.45.1.windows.1", (2, 45)),
                                                ("git version 2.50-rc1", (2, 50)), ("nonsense", None), ("", None)])
def test_version_strings(text: str, expected: tuple[int, int] | None) -> None:
    assert _parse_version(text) == expected


def test_a_write_in_a_repository_due_for_housekeeping_gets_it(project: Path, make_artifact) -> None:
    """No setting at all: loose objects over git's estimate, and git packs them after the write, detached."""
    fill_objects_17(project, 40)
    register_and_see_git_pack(project, make_artifact)
