"""A registry commit's index update runs while the write finishes its own work (gitops/direct.py ``IndexUpdate``,
gitops/run.py ``settle``): it is waited for before the journal is cleared and the lock released, so success is
never reported with git's index behind HEAD; an index update that fails, or a write killed while it runs, leaves
the journal, and ``registry-verify --repair`` puts the index in line with HEAD."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import INCREMENT, error, git, run_cli

MODELS = f".specweave/increments/{INCREMENT}/models"


def wrapped_git(tmp_path: Path, on_update_index: str) -> dict[str, str]:
    """An environment whose ``git`` runs ``on_update_index`` (shell) before ``git update-index``, else the real git."""
    folder = tmp_path / "wrapbin"
    folder.mkdir(exist_ok=True)
    real = shutil.which("git")
    script = folder / "git"
    script.write_text(
        # the subcommand follows ``-C DIR`` (how gitops/spawn.py passes a working directory)
        f'#!/bin/sh\nsub="$1"; [ "$1" = -C ] && sub="$3"\nif [ "$sub" = update-index ]; then\n{on_update_index}\nfi\n'
        f'exec "{real}" "$@"\n'
    )
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def journal(project: Path) -> Path:
    return project / ".git" / "sw-registry.journal"


def test_success_is_reported_only_once_gits_index_has_the_commit(project: Path, make_artifact,
                                                                 tmp_path: Path) -> None:
    """A slow ``git update-index`` still ends before the write reports success and releases the lock."""
    env = wrapped_git(tmp_path, "sleep 1")
    r = run_cli(project, "registry-register", "m", "--artifact", str(make_artifact()), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    # at once, with no wait: the index has our paths as HEAD has them, and nothing is left of the write
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(project, "diff", "--cached", "--name-only", "HEAD") == ""
    assert not journal(project).exists()
    assert not (project / ".git" / "index.lock").exists()
    r = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_an_index_update_that_fails_is_git_error_and_repair_puts_the_index_in_line(project: Path, make_artifact,
                                                                                  tmp_path: Path) -> None:
    head = git(project, "rev-parse", "HEAD").strip()
    (project / "mine.txt").write_text("the user's own staged work\n")
    git(project, "add", "mine.txt")
    env = wrapped_git(tmp_path, 'echo "simulated index failure" >&2; exit 1')
    r = run_cli(project, "registry-register", "m", "--artifact", str(make_artifact()), "--version", "1.0.0", "--json",
                env=env)
    err = error(r, "git_error", 6)
    assert "index could not be updated" in err["message"] and "simulated index failure" in err["message"]
    assert "registry-verify --repair" in err["hint"]
    # the commit landed; the index does not have it yet; the journal says so
    new = git(project, "rev-parse", "HEAD").strip()
    assert new != head and git(project, "rev-parse", "HEAD~1").strip() == head
    assert journal(project).exists()
    assert git(project, "diff", "--cached", "--name-only", "HEAD", "--", MODELS) != ""
    nxt = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert error(nxt, "dirty_registry", 4)
    fixed = run_cli(project, "registry-verify", "--repair", "--json")
    assert fixed.returncode == 0, fixed.stdout
    assert git(project, "diff", "--cached", "--name-only", "HEAD", "--", ".specweave") == ""
    assert git(project, "diff", "--cached", "--name-only", "HEAD") == "mine.txt\n"  # the user's work stays staged
    assert not journal(project).exists()
    assert run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json").returncode == 0


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "T"


def test_a_write_killed_while_git_updates_its_index_is_repaired(project: Path, make_artifact,
                                                                tmp_path: Path) -> None:
    """kill -9 right after HEAD moved, while ``git update-index`` still runs: the journal stays; once git is done
    the registry is as the commit left it, and the next write goes through."""
    started, go, done = tmp_path / "started", tmp_path / "go", tmp_path / "done"
    env = wrapped_git(tmp_path, f'touch "{started}"; while [ ! -f "{go}" ]; do sleep 0.02; done; '
                                f'"{shutil.which("git")}" "$@"; rc=$?; touch "{done}"; exit $rc')
    head = git(project, "rev-parse", "HEAD").strip()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sw_registry", "registry-register", "m", "--artifact", str(make_artifact()),
         "--version", "1.0.0", "--json"],
        cwd=project, env={**os.environ, **env, "SW_REGISTRY_TEST_STOP_AT": "after_commit"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (_stopped(proc.pid) and started.exists()):  # stopped after HEAD moved, git's index update waiting
        assert proc.poll() is None, "the write ended before its commit"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    go.touch()
    while not done.exists():  # the orphaned git finishes on its own
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert git(project, "rev-parse", "HEAD~1").strip() == head
    assert journal(project).exists()  # the write never said it was done
    # git's index did get our paths (the orphaned git finished): the next write finds the registry clean and
    # proceeds, as after any write killed once its commit landed
    assert run_cli(project, "registry-verify", "--json").returncode == 0
    nxt = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert nxt.returncode == 0, nxt.stdout
    assert not journal(project).exists()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(project, "rev-parse", "HEAD~2").strip() == head


def test_a_path_list_longer_than_the_prefilled_pipe_is_fed_while_git_reads_it(tmp_path: Path) -> None:
    """``IndexUpdate`` writes a short list into the pipe before git starts, and feeds a longer one (over
    ``PIPE_BYTES``) while git reads: every path reaches git's index either way."""
    from sw_registry.gitops.direct import PIPE_BYTES, IndexUpdate
    from sw_registry.gitops.run import git_env

    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    for count in (3, PIPE_BYTES // 40 + 50):  # names of ~45 bytes: the second list is over PIPE_BYTES
        names = [f"f{count}-{i:05d}-{'x' * 30}.txt" for i in range(count)]
        for name in names:
            (repo / name).write_bytes(name.encode())
        assert not set(names) & set(git(repo, "ls-files").split())
        listed = b"".join(n.encode() + b"\0" for n in names)
        assert (len(listed) > PIPE_BYTES) == (count > 3)
        proc = IndexUpdate(repo, listed, git_env()).wait()
        assert proc.returncode == 0, proc.stderr
        assert set(names) <= set(git(repo, "ls-files").split())
