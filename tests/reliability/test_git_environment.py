"""Refusing clearly in a git environment that cannot take a write (SPEC §8): no crash, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, Result, git

MODELS = f".specweave/increments/{INCREMENT}/models"



def error(r: Result, code: str, exit_code: int) -> dict[str, Any]:
    assert r.stdout, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["error"]["code"] == code, doc
    assert r.returncode == exit_code
    assert r.stderr == ""
    return doc["error"]


def files(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "cache")]
        for f in filenames:
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


def test_a_folder_outside_git_is_not_a_git_repo(cli, tmp_path: Path, make_artifact) -> None:
    root = tmp_path / "nogit"
    inc = root / ".specweave" / "increments" / INCREMENT
    inc.mkdir(parents=True)
    (inc / "metadata.json").write_text('{"status": "active"}')
    before = files(root)
    r = cli("registry-register", "m", "--artifact", str(make_artifact()), "--json", cwd=root,
            env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    err = error(r, "not_a_git_repo", 6)
    assert "git init" in (err["hint"] or "")
    assert files(root) == before and not (root / MODELS).exists()
    # reads still work from the files alone
    listed = cli("registry-list", "--json", cwd=root, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert listed.returncode == 0 and json.loads(listed.stdout)["data"] == {"models": []}


def test_a_bare_repository_is_git_error(run, tmp_path: Path, make_artifact) -> None:
    bare = tmp_path / "registry.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    (bare / ".specweave" / "increments" / INCREMENT).mkdir(parents=True)
    r = run("registry-register", "m", "--artifact", str(make_artifact()), "--increment", INCREMENT,
            "--root", str(bare), "--json", cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    err = error(r, "git_error", 6)
    assert "bare" in err["message"]
    assert not (bare / MODELS).exists()


def test_detached_head_is_git_error_unless_allowed(run, project: Path, make_artifact) -> None:
    git(project, "checkout", "-q", "--detach")
    head = git(project, "rev-parse", "HEAD").strip()
    art = str(make_artifact())
    err = error(run("registry-register", "m", "--artifact", art, "--json"), "git_error", 6)
    assert "--allow-detached" in (err["hint"] or "")
    assert not (project / MODELS).exists()
    r = run("registry-register", "m", "--artifact", art, "--allow-detached", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(project, "rev-parse", "HEAD~1").strip() == head
    assert git(project, "symbolic-ref", "-q", "HEAD", check=False) == ""  # still detached, no branch moved
    assert git(project, "rev-parse", "main").strip() == head


def conflict(project: Path) -> None:
    """Two branches that change the same line of README.md."""
    (project / "README.md").write_text("base\n")
    git(project, "add", "README.md")
    git(project, "commit", "-q", "-m", "readme")
    git(project, "checkout", "-q", "-b", "other")
    (project / "README.md").write_text("theirs\n")
    git(project, "commit", "-q", "-am", "theirs")
    git(project, "checkout", "-q", "main")
    (project / "README.md").write_text("ours\n")
    git(project, "commit", "-q", "-am", "ours")


@pytest.mark.parametrize(
    ("start", "marker", "word"),
    [
        (("merge", "other"), "MERGE_HEAD", "merge"),
        (("rebase", "other"), "rebase-merge", "rebase"),
        (("cherry-pick", "other"), "CHERRY_PICK_HEAD", "cherry-pick"),
    ],
)
def test_an_operation_in_progress_is_git_error(run, project: Path, make_artifact, start: tuple[str, str],
                                               marker: str, word: str) -> None:
    conflict(project)
    proc = subprocess.run(["git", *start], cwd=project, capture_output=True, text=True)
    assert proc.returncode != 0 and (project / ".git" / marker).exists(), proc.stdout + proc.stderr
    status = git(project, "status", "--porcelain")
    err = error(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"), "git_error", 6)
    assert word in err["message"]
    assert err["hint"]
    assert not (project / MODELS).exists()
    assert git(project, "status", "--porcelain") == status
    assert (project / ".git" / marker).exists()


def no_identity_env() -> dict[str, str]:
    """The environment without any git identity: no GIT_AUTHOR_*/GIT_COMMITTER_*, EMAIL or SW_REGISTRY_ACTOR."""
    drop = ("GIT_AUTHOR_", "GIT_COMMITTER_", "SW_REGISTRY_ACTOR")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "EMAIL"}


def run_cli_exact_env(cwd: Path, env: dict[str, str], *args: str) -> Result:
    proc = subprocess.run([sys.executable, "-m", "sw_registry", *args], cwd=cwd, capture_output=True, text=True,
                          env=env)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def anonymous(project: Path) -> Path:
    # the global config is the conftest's empty file; refuse git's guess from user name and host name too
    git(project, "config", "user.useConfigOnly", "true")
    return project


def test_missing_identity_is_git_error_with_a_hint_to_pass_actor(anonymous: Path, make_artifact) -> None:
    env = no_identity_env()
    head = git(anonymous, "rev-parse", "HEAD")
    r = run_cli_exact_env(anonymous, env, "registry-register", "m", "--artifact", str(make_artifact()), "--json")
    err = error(r, "git_error", 6)
    assert "--actor" in (err["hint"] or "")
    assert git(anonymous, "rev-parse", "HEAD") == head
    assert not (anonymous / MODELS).exists()
    human = run_cli_exact_env(anonymous, env, "registry-register", "m", "--artifact", str(make_artifact()))
    assert human.returncode == 6 and "--actor" in human.stderr and "Traceback" not in human.stderr


def test_missing_identity_with_actor_succeeds(anonymous: Path, make_artifact) -> None:
    r = run_cli_exact_env(anonymous, no_identity_env(), "registry-register", "m", "--artifact", str(make_artifact()),
                          "--actor", "bob@example.com", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)["data"]
    assert data["created_by"] == "bob@example.com"
    assert git(anonymous, "log", "-1", "--format=%ae").strip() == "bob@example.com"
    assert git(anonymous, "log", "-1", "--format=%(trailers:key=Registry-Actor,valueonly)").strip() == "bob@example.com"


def test_missing_identity_with_env_actor_succeeds(anonymous: Path, make_artifact) -> None:
    env = {**no_identity_env(), "SW_REGISTRY_ACTOR": "carol@example.com"}
    r = run_cli_exact_env(anonymous, env, "registry-register", "m", "--artifact", str(make_artifact()), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["data"]["created_by"] == "carol@example.com"


def test_actor_defaults_to_gits_author_email(project: Path, make_artifact, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dave@example.com")
    mv = ModelRegistry(root=project).register_model("m", str(make_artifact()))
    assert mv.metadata["created_by"] == "dave@example.com"


def test_the_first_write_in_a_repo_without_specweave_creates_it_at_the_top_level(cli, tmp_path: Path,
                                                                                 make_artifact) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "train").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")  # unborn branch: not a single commit yet
    (repo / "user.txt").write_text("staged by the user\n")
    git(repo, "add", "user.txt")
    r = cli("registry-register", "m", "--artifact", str(make_artifact()), "--increment", "0001-first-model",
            "--json", cwd=repo / "src" / "train", env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)["data"]
    assert (repo / ".specweave/increments/0001-first-model/models/m-v1.0.0/metadata.json").is_file()
    assert not (repo / "src" / ".specweave").exists()
    committed = git(repo, "show", "--name-only", "--format=", data["commit"]).split()
    assert committed and all(p.startswith(".specweave/increments/0001-first-model/") for p in committed)
    assert git(repo, "diff", "--cached", "--name-only").split() == ["user.txt"]


def test_a_branch_policy_refuses_writes_on_other_branches(run, project: Path, make_artifact) -> None:
    (project / ".specweave" / "registry.yaml").write_text("branch: main\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "registry policy")
    git(project, "checkout", "-q", "-b", "feature/faster")
    art = str(make_artifact())
    err = error(run("registry-register", "m", "--artifact", art, "--json"), "git_error", 6)
    assert "main" in err["message"] and err["hint"]
    assert not (project / MODELS).exists()
    git(project, "checkout", "-q", "main")
    assert run("registry-register", "m", "--artifact", art, "--json").returncode == 0
