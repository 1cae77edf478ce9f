""".pre-commit-hooks.yaml, tested with pre-commit itself: `pre-commit try-repo` and an installed hook.

pre-commit installs a hook repository at a commit, so a module fixture commits this package's source (the
hooks file, pyproject.toml, README.md, sw_registry/) into a temp git repository; pre-commit then builds its own
environment from it once (pip, from the package index: typer, rich, pyyaml, packaging, gitpython, hatchling),
shared by every test here through one PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import IDENTITY, git, make_project, run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a git repo holding this package and its hooks file at HEAD, the shared PRE_COMMIT_HOME)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "sw_registry", repo / "sw_registry", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, **IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "sw-registry")):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo, tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def flat(text: str) -> str:
    """Human output wrapped at the terminal width, as one line."""
    return " ".join(text.split())


def registered_project(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "proj")
    art = tmp_path / "model.pkl"
    art.write_bytes(b"weights")
    ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")
    assert run_cli(project, "sync-docs", "update", "--json").returncode == 0
    return project


def test_try_repo_runs_both_hooks(hook_repo: tuple[Path, Path], tmp_path: Path) -> None:
    repo, home = hook_repo
    project = registered_project(tmp_path)
    ok = pre_commit(project, home, "try-repo", str(repo), "registry-verify", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "sw-registry registry-verify" in ok.stdout and "Passed" in ok.stdout
    docs = pre_commit(project, home, "try-repo", str(repo), "sync-docs-check", "--all-files", "--hook-stage", "manual")
    assert docs.returncode == 0, docs.stdout + docs.stderr

    # a damaged artifact fails registry-verify; a registry change the doc does not show yet fails the doc check
    artifact = next((project / ".specweave").rglob("model.pkl"))
    artifact.write_bytes(b"tampered")
    bad = pre_commit(project, home, "try-repo", str(repo), "registry-verify", "--all-files")
    assert bad.returncode == 1 and "does not match its recorded sha256" in flat(bad.stdout), bad.stdout
    git(project, "checkout", "--", ".")
    art = tmp_path / "model2.pkl"
    art.write_bytes(b"weights 2")
    ModelRegistry(root=project).register_model("m", str(art), version="1.1.0")
    stale = pre_commit(project, home, "try-repo", str(repo), "sync-docs-check", "--all-files", "--hook-stage", "manual")
    assert stale.returncode == 1 and "stale" in flat(stale.stdout), stale.stdout


def test_installed_hook_lets_registry_writes_through_and_stops_a_damaged_artifact(
    hook_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, home = hook_repo
    project = registered_project(tmp_path)
    rev = git(repo, "rev-parse", "HEAD").strip()
    # relative, as try-repo records it: pre-commit keys its installed environments by (repo, rev), so this
    # reuses the environment the try-repo test built instead of installing a second one
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {os.path.relpath(repo, project)}\n    rev: {rev}\n    hooks:\n      - id: registry-verify\n"
    )
    git(project, "add", ".pre-commit-config.yaml")
    git(project, "commit", "-q", "-m", "pre-commit config")
    installed = pre_commit(project, home, "install")
    assert installed.returncode == 0, installed.stderr
    # sw-registry's own commit runs the hook, which counts the staged registry files as that commit's own
    art = tmp_path / "model2.pkl"
    art.write_bytes(b"weights 2")
    r = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(project, "log", "-1", "--format=%s").strip() == "registry: promote m v1.0.0 dev -> staging"
    # a hand-made commit of a damaged artifact is refused by the hook
    artifact = next((project / ".specweave").rglob("model.pkl"))
    artifact.write_bytes(b"tampered")
    git(project, "add", "-A")
    refused = subprocess.run(["git", "commit", "-q", "-m", "oops"], cwd=project, capture_output=True, text=True,
                             env={**os.environ, "PRE_COMMIT_HOME": str(home)})
    assert refused.returncode != 0
    assert "does not match its recorded sha256" in flat(refused.stdout + refused.stderr)
    assert git(project, "log", "-1", "--format=%s").strip() == "registry: promote m v1.0.0 dev -> staging"
