"""Shared fixtures: an isolated HOME and git identity, and temp SpecWeave projects in real git repos.

Nothing here reads the developer's global git config or touches the network: HOME, XDG dirs and
GIT_CONFIG_GLOBAL point into the test's temp folder and identity comes from environment variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sw_registry.registry import ModelRegistry

INCREMENT = "0042-fraud-detection"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Alice",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("")
    for key in list(os.environ):
        if key.startswith(("SW_REGISTRY_", "GIT_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("SW_REGISTRY_LOCK_TIMEOUT", "30")
    # no watcher started by a big read (store/watch_start.py) outlives a test: the tests of it set their own value
    monkeypatch.setenv("SW_REGISTRY_WATCHER", "off")
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    return home


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def make_project(path: Path, increments: tuple[str, ...] = (INCREMENT,), active: str | None = INCREMENT) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for inc in increments:
        folder = path / ".specweave" / "increments" / inc
        folder.mkdir(parents=True)
        (folder / "spec.md").write_text(f"# {inc}\n")
        status = "active" if inc == active else "completed"
        (folder / "metadata.json").write_text(json.dumps({"id": inc, "status": status}) + "\n")
    (path / ".gitignore").write_text(".specweave/cache/\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "project")
    return path


OLD_INCREMENT, NEW_INCREMENT = "0001-old", "0002-new"


def two_increment_registry(tmp_path: Path, make_artifact: Callable[..., Path]) -> ModelRegistry:
    """Model m: 1.0.0 in increment 0001-old, 1.0.1 in 0002-new (the active one), through the API."""
    from sw_registry.registry import ModelRegistry

    project = make_project(tmp_path / "p", increments=(OLD_INCREMENT, NEW_INCREMENT), active=NEW_INCREMENT)
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"a")), version="1.0.0", increment=OLD_INCREMENT)
    reg.register_model("m", str(make_artifact(b"b")), version="1.0.1", increment=NEW_INCREMENT)
    return reg


def promoted_registry(tmp_path: Path, make_artifact: Callable[..., Path]) -> ModelRegistry:
    """two_increment_registry, plus model other 1.0.0 in the new increment, and m's 1.0.0 then 1.0.1 promoted to
    production (1.0.0 archived, 1.0.1 in production: rollback has a target)."""
    reg = two_increment_registry(tmp_path, make_artifact)
    reg.register_model("other", str(make_artifact(b"o")), version="1.0.0", increment=NEW_INCREMENT)
    for version in ("1.0.0", "1.0.1"):
        reg.promote_model("m", version, to_stage="staging")
        reg.promote_model("m", version, to_stage="production")
    return reg


def register_and_see_git_pack(project: Path, make_artifact: Callable[..., Path]) -> None:
    """A register in ``project``, which has no pack yet; git's detached housekeeping packs its objects within a
    minute, and the work tree stays clean."""
    import time

    from sw_registry.registry import ModelRegistry

    assert "packs: 0" in git(project, "count-objects", "-v")
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    deadline = time.monotonic() + 60
    while "packs: 0" in git(project, "count-objects", "-v") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "packs: 0" not in git(project, "count-objects", "-v")
    assert git(project, "status", "--porcelain") == ""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repo with one active SpecWeave increment, 0042-fraud-detection, committed."""
    return make_project(tmp_path / "proj")


@pytest.fixture
def make_artifact(tmp_path: Path) -> Callable[..., Path]:
    """make_artifact(content=b"...", name="model.pkl") -> a file outside the project."""
    counter = iter(range(10**6))

    def make(content: bytes | str | None = None, name: str = "model.pkl") -> Path:
        folder = tmp_path / "artifacts" / str(next(counter))
        folder.mkdir(parents=True)
        path = folder / name
        data = content if content is not None else os.urandom(64)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return make


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """Run the real CLI in a subprocess (python -m sw_registry), like a user or a CI script would."""
    proc = subprocess.run(
        [sys.executable, "-m", "sw_registry", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=input,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(project: Path) -> Callable[..., Result]:
    """cli("registry-list", "--json") runs the CLI in the project folder."""

    def call(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        return run_cli(cwd or project, *args, env=env, input=input)

    return call


@pytest.fixture
def run(project: Path) -> Callable[..., Result]:
    """Like ``cli``, through the console script's entry point in this process (no new interpreter)."""
    from tests.cli.inprocess import run_main

    def call(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        return run_main(cwd or project, *args, env=env)

    return call


def error(r: Result, code: str, exit_code: int) -> dict[str, Any]:
    """The error of a ``--json`` run that must fail with ``code`` and ``exit_code`` and print nothing on stderr."""
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["error"]["code"] == code, doc
    assert r.returncode == exit_code
    assert r.stderr == ""
    return dict(doc["error"])
