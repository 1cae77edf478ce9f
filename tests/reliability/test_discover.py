"""A write finds a plain repository without ``git rev-parse`` (gitops/discover.py) and gets what rev-parse would
say; everything that is not plain goes to rev-parse, which answers as before."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sw_registry.errors import GitError, NotAGitRepo
from sw_registry.gitops import gitvars, open_repo
from sw_registry.gitops.discover import plain_repo
from tests.conftest import git, make_project, run_cli
from tests.reliability.test_direct_commit import traced


def both(root: Path) -> tuple[object, object]:
    """open_repo with git's settings (the write's way) and with rev-parse alone."""
    return open_repo(root, gitvars.start(root)), open_repo(root)


def test_a_plain_repository_is_found_as_rev_parse_finds_it(project: Path) -> None:
    assert plain_repo(project, gitvars.start(project)) is not None
    ours, gits = both(project)
    assert ours == gits


def test_a_project_in_a_subfolder_reached_through_a_symlink(tmp_path: Path) -> None:
    top = tmp_path / "top"
    make_project(top / "sub" / "proj")
    link = tmp_path / "link"
    link.symlink_to(top / "sub")
    via = link / "proj"
    assert plain_repo(via, gitvars.start(via)) is not None
    ours, gits = both(via)
    assert ours == gits and ours.root == via  # type: ignore[attr-defined]


def test_a_project_below_the_top_of_its_repository(tmp_path: Path) -> None:
    top = tmp_path / "top"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    root = top / "ml" / "proj"
    root.mkdir(parents=True)
    assert plain_repo(root, gitvars.start(root)) is not None
    ours, gits = both(root)
    assert ours == gits and ours.prefix == "ml/proj/"  # type: ignore[attr-defined]


def test_a_linked_worktree_goes_to_rev_parse(project: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(project, "worktree", "add", "-q", "-b", "other", str(wt))
    assert plain_repo(wt, gitvars.start(wt)) is None
    ours, gits = both(wt)
    assert ours == gits and ours.common_dir == (project / ".git").resolve()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("key", "value"), [("core.hooksPath", "myhooks"), ("core.worktree", "."),
                                            ("extensions.worktreeConfig", "true")])
def test_settings_that_move_things_go_to_rev_parse(project: Path, key: str, value: str) -> None:
    if key.startswith("extensions."):
        git(project, "config", "core.repositoryformatversion", "1")
    git(project, "config", key, value)
    assert plain_repo(project, gitvars.start(project)) is None
    ours, gits = both(project)
    assert ours == gits
    if key == "core.hooksPath":
        assert ours.hooks_dir == (project / "myhooks").resolve()  # type: ignore[attr-defined]


def test_core_bare_true_goes_to_rev_parse(project: Path) -> None:
    git(project, "config", "core.bare", "true")
    assert plain_repo(project, gitvars.start(project)) is None
    with pytest.raises(GitError, match="bare"):
        open_repo(project, gitvars.start(project))


@pytest.mark.parametrize("variable", ["GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
                                      "GIT_COMMON_DIR", "GIT_CONFIG_PARAMETERS"])
def test_variables_that_steer_git_go_to_rev_parse(project: Path, variable: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"GIT_CEILING_DIRECTORIES": str(project.parent), "GIT_DISCOVERY_ACROSS_FILESYSTEM": "1",
             "GIT_COMMON_DIR": str(project / ".git"), "GIT_CONFIG_PARAMETERS": "'user.name'='Someone'"}[variable]
    monkeypatch.setenv(variable, value)
    assert plain_repo(project, gitvars.start(project)) is None
    ours, gits = both(project)
    assert ours == gits


def test_a_bare_repository_and_the_inside_of_a_git_dir_are_refused_as_before(project: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert plain_repo(bare, gitvars.start(bare)) is None
    with pytest.raises(GitError, match="bare"):
        open_repo(bare, gitvars.start(bare))
    inside = project / ".git" / "refs"
    assert plain_repo(inside, gitvars.start(inside)) is None
    with pytest.raises((GitError, NotAGitRepo)):
        open_repo(inside, gitvars.start(inside))


def test_a_folder_outside_git_is_refused_as_before(tmp_path: Path) -> None:
    folder = tmp_path / "nogit"
    folder.mkdir()
    assert plain_repo(folder, gitvars.start(folder)) is None
    with pytest.raises(NotAGitRepo):
        open_repo(folder, gitvars.start(folder))


def test_a_dot_git_file_goes_to_rev_parse(project: Path, tmp_path: Path) -> None:
    """A submodule's checkout has a ``.git`` file pointing at its git dir elsewhere."""
    moved = tmp_path / "elsewhere.git"
    (project / ".git").rename(moved)
    (project / ".git").write_text(f"gitdir: {moved}\n")
    assert plain_repo(project, gitvars.start(project)) is None
    ours, gits = both(project)
    assert ours == gits and ours.git_dir == moved.resolve()  # type: ignore[attr-defined]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_repository_owned_by_someone_else_goes_to_rev_parse(project: Path) -> None:
    os.chown(project, 12345, 12345)
    assert plain_repo(project, gitvars.start(project)) is None


def test_a_write_in_a_plain_repository_runs_no_rev_parse(project: Path, make_artifact, tmp_path: Path) -> None:
    env, log = traced(tmp_path)
    r = run_cli(project, "registry-register", "m", "--artifact", str(make_artifact()), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rev-parse" not in log.read_text()
    assert git(project, "status", "--porcelain") == ""
    subprocess.run(["git", "fsck", "--strict", "--no-progress"], cwd=project, check=True, capture_output=True)
