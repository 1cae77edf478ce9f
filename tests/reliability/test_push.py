"""--push (SPEC §7): commit, push; a rejected push re-runs the write on the new remote head; refusals are conflict."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import git, make_project, run_cli


def clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare remote holding a SpecWeave project, and two clones of it."""
    seed = make_project(tmp_path / "seed")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    a, b = tmp_path / "a", tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    git(tmp_path, "clone", "-q", str(remote), str(b))
    return remote, a, b


def artifact(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def remote_log(remote: Path) -> list[str]:
    return git(remote, "log", "--format=%s", "main").splitlines()


def test_push_publishes_the_commit(tmp_path: Path) -> None:
    remote, a, _ = clones(tmp_path)
    r = run_cli(a, "registry-register", "m", "--artifact", artifact(tmp_path, "x", b"x"), "--push", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    commit = json.loads(r.stdout)["data"]["commit"]
    assert git(remote, "rev-parse", "main").strip() == commit


def test_a_rejected_push_re_runs_the_write_on_the_remote_head(tmp_path: Path) -> None:
    remote, a, b = clones(tmp_path)
    assert run_cli(a, "registry-register", "m", "--artifact", artifact(tmp_path, "x", b"x"), "--version", "1.0.0",
                   "--push", "--json").returncode == 0
    (b / "notes.txt").write_text("unstaged work of the user\n")
    (b / "staged.txt").write_text("staged work of the user\n")
    git(b, "add", "staged.txt")
    r = run_cli(b, "registry-register", "m", "--artifact", artifact(tmp_path, "y", b"y"), "--version", "2.0.0",
                "--push", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""  # SPEC §9: git's (and GitPython's) words about the rejected push stay off the terminal
    assert remote_log(remote)[:2] == ["registry: register m v2.0.0", "registry: register m v1.0.0"]
    # b's branch is the remote's, and its seq was assigned on top of a's version
    assert git(b, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    meta = json.loads(r.stdout)["data"]
    assert meta["stage_history"][0]["seq"] == 2
    # the user's own work is exactly as it was
    assert (b / "notes.txt").read_text() == "unstaged work of the user\n"
    assert git(b, "diff", "--cached", "--name-only").split() == ["staged.txt"]
    assert run_cli(b, "registry-verify", "--json").returncode == 0


def test_a_re_run_that_now_refuses_is_conflict(tmp_path: Path) -> None:
    remote, a, b = clones(tmp_path)
    assert run_cli(a, "registry-register", "m", "--artifact", artifact(tmp_path, "x", b"x"), "--version", "1.0.0",
                   "--push", "--json").returncode == 0
    r = run_cli(b, "registry-register", "m", "--artifact", artifact(tmp_path, "y", b"other"), "--version", "1.0.0",
                "--push", "--json")
    assert r.returncode == 5, r.stdout
    assert r.stderr == ""
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "conflict"
    assert err["details"]["refusal"]["code"] == "already_exists"
    assert remote_log(remote)[0] == "registry: register m v1.0.0"
    assert len(remote_log(remote)) == 2  # the project commit and a's registration


def test_a_re_run_with_nothing_left_to_do_succeeds(tmp_path: Path) -> None:
    remote, a, b = clones(tmp_path)
    art = artifact(tmp_path, "x", b"same bytes")
    assert run_cli(a, "registry-register", "m", "--artifact", art, "--version", "1.0.0", "--push", "--json"
                   ).returncode == 0
    r = run_cli(b, "registry-register", "m", "--artifact", art, "--version", "1.0.0", "--push", "--json")
    assert r.returncode == 0, r.stdout
    # usually None (the re-run found it done); within the same second both clones can even make the very same
    # commit (same tree, parent, author and time), which then pushes as "up to date"
    commit = json.loads(r.stdout)["data"]["commit"]
    assert commit in (None, git(remote, "rev-parse", "main").strip())
    assert len(remote_log(remote)) == 2
    assert git(b, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


def test_push_without_a_remote_is_git_error(project: Path, tmp_path: Path) -> None:
    r = run_cli(project, "registry-register", "m", "--artifact", artifact(tmp_path, "x", b"x"), "--push", "--json")
    assert r.returncode == 6
    assert json.loads(r.stdout)["error"]["code"] == "git_error"


def test_push_without_a_remote_commits_nothing(project: Path, tmp_path: Path) -> None:
    head = git(project, "rev-parse", "HEAD")
    run_cli(project, "registry-register", "m", "--artifact", artifact(tmp_path, "x", b"x"), "--push", "--json")
    assert git(project, "rev-parse", "HEAD") == head


def test_two_clones_promoting_to_staging_both_land_in_order(tmp_path: Path) -> None:
    remote, a, b = clones(tmp_path)
    for version, data in (("1.0.0", b"one"), ("2.0.0", b"two")):
        assert run_cli(a, "registry-register", "m", "--artifact", artifact(tmp_path, version, data), "--version",
                       version, "--push", "--json").returncode == 0
    git(b, "pull", "-q", "--ff-only")
    assert run_cli(a, "registry-promote", "m", "1.0.0", "--to", "staging", "--push", "--json").returncode == 0
    r = run_cli(b, "registry-promote", "m", "2.0.0", "--to", "staging", "--push", "--json")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["data"]["replaced"] == "1.0.0"  # re-run on a's promotion: it displaced 1.0.0
    info = json.loads(run_cli(b, "registry-info", "m", "--json").stdout)["data"]
    assert info["stages"]["staging"] == "2.0.0"
    assert git(b, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


def test_monitor_and_experiments_push_their_commit_even_when_the_breach_has_no_target(tmp_path: Path) -> None:
    from sw_registry import ModelRegistry, track_experiment

    remote, a, _ = clones(tmp_path)
    reg = ModelRegistry(root=a, push=True)
    with track_experiment("first-run", registry=reg) as exp:
        exp.log_metrics({"accuracy": 0.9})
        exp.register_model(model=artifact(tmp_path, "x", b"x"), name="m", version="1.0.0")
    assert git(remote, "rev-parse", "main").strip() == exp.commit
    reg.promote_model("m", "1.0.0", to_stage="production", force=True, reason="first release")
    reg.set_auto_rollback_triggers(name="m", error_rate_threshold=0.05)
    r = run_cli(a, "registry-monitor", "m", "--metric", "error_rate=0.5", "--push", "--json")
    error = json.loads(r.stdout)["error"]
    assert r.returncode == 1 and error["code"] == "threshold_breached"
    assert git(remote, "rev-parse", "main").strip() == error["details"]["commit"]  # published, then refused


def test_verify_repair_push_publishes_the_repair_commit(tmp_path: Path) -> None:
    """SPEC §7: writes take --push; registry-verify --repair writes (it commits rebuilt derived files)."""
    remote, a, _ = clones(tmp_path)
    assert run_cli(a, "registry-register", "m", "--artifact", artifact(tmp_path, "x", b"x"), "--push", "--json"
                   ).returncode == 0
    catalog = next(a.glob(".specweave/increments/*/registry/model_catalog.yaml"))
    catalog.write_text(catalog.read_text() + "# damaged by hand\n")
    git(a, "commit", "-q", "-am", "a hand edit of a derived file")
    git(a, "push", "-q")
    r = run_cli(a, "registry-verify", "--repair", "--push", "--json")
    assert r.returncode == 0 and r.stderr == "", r.stdout + r.stderr
    commit = json.loads(r.stdout)["data"]["commit"]
    assert commit and git(remote, "rev-parse", "main").strip() == commit
    assert "damaged" not in git(remote, "show", f"main:{catalog.relative_to(a).as_posix()}")
    r = run_cli(a, "registry-verify", "--push", "--json")  # nothing to publish without --repair: said, not ignored
    assert r.returncode == 2 and json.loads(r.stdout)["error"]["code"] == "usage"
