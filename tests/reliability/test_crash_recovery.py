"""A killed write never leaves a half-written registry behind: the next write refuses, repair restores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import INCREMENT, git, run_cli

MODELS = Path(".specweave/increments") / INCREMENT / "models"


def _status(project: Path) -> str:
    return git(project, "status", "--porcelain", "--untracked-files=all", "--", ".specweave")


def test_kill_9_mid_copy_then_dirty_registry_then_repair(project: Path, make_artifact, tmp_path: Path) -> None:
    run_cli(project, "registry-register", "m", "--artifact", str(make_artifact(b"first")), "--json")
    head = git(project, "rev-parse", "HEAD").strip()
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:  # sparse: cheap to make, slow enough to copy and hash that we can kill mid-way
        fh.truncate(1 << 30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sw_registry", "registry-register", "m", "--artifact", str(big), "--version", "2.0.0"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = project / MODELS / "m-v2.0.0" / "big.bin"
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "the write finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert git(project, "rev-parse", "HEAD").strip() == head  # no commit landed
    assert "m-v2.0.0" in _status(project)  # the half-written folder is visible to git

    refused = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert refused.returncode == 4
    assert refused.json["error"]["code"] == "dirty_registry"
    assert "registry-verify --repair" in refused.json["error"]["hint"]

    bad = run_cli(project, "registry-verify", "--json")
    assert bad.returncode == 4 and bad.json["error"]["code"] == "integrity"
    assert any(p["code"] == "uncommitted" for p in bad.json["error"]["details"]["problems"])

    fixed = run_cli(project, "registry-verify", "--repair", "--json")
    assert fixed.returncode == 0, fixed.stdout
    assert fixed.json["data"]["repaired"]
    assert _status(project) == ""
    assert not (project / MODELS / "m-v2.0.0").exists()
    assert run_cli(project, "registry-verify", "--json").json["data"]["ok"] is True
    again = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert again.returncode == 0, again.stdout


def test_stale_index_lock_is_reported_then_cleared(project: Path, make_artifact) -> None:
    run_cli(project, "registry-register", "m", "--artifact", str(make_artifact(b"x")), "--json")
    lock = project / ".git" / "index.lock"
    lock.write_text("")
    old = time.time() - 60
    os.utime(lock, (old, old))
    refused = run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert refused.returncode == 6 and refused.json["error"]["code"] == "git_error"
    assert "--repair" in refused.json["error"]["hint"]
    fixed = run_cli(project, "registry-verify", "--repair", "--json")
    assert fixed.returncode == 0
    assert any("index.lock" in item for item in fixed.json["data"]["repaired"])
    assert not lock.exists()
    assert run_cli(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json").returncode == 0


def test_hand_edit_of_metadata_is_unaudited_commit(project: Path, make_artifact) -> None:
    run_cli(project, "registry-register", "m", "--artifact", str(make_artifact(b"x")), "--json")
    meta_path = project / MODELS / "m-v1.0.0" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["stage"] = "production"
    meta_path.write_text(json.dumps(meta, indent=2))
    git(project, "commit", "-qam", "sneaky edit")
    r = run_cli(project, "registry-verify", "--json")
    assert r.returncode == 4
    problems = r.json["error"]["details"]["problems"]
    assert [p["code"] for p in problems if p["code"] == "unaudited_commit"] == ["unaudited_commit"]


def test_archiving_an_increment_is_a_pure_rename_not_a_problem(project: Path, make_artifact) -> None:
    run_cli(project, "registry-register", "m", "--artifact", str(make_artifact(b"x")), "--json")
    archive = project / ".specweave/increments/_archive"
    archive.mkdir()
    git(project, "mv", f".specweave/increments/{INCREMENT}", f".specweave/increments/_archive/{INCREMENT}")
    git(project, "commit", "-qm", "archive increment")
    assert run_cli(project, "registry-verify", "--json").returncode == 0
    got = run_cli(project, "registry-get", "m", "--version", "1.0.0", "--json")
    assert got.returncode == 0 and "/_archive/" in got.json["data"]["path"]


def test_reindex_after_a_merge_conflict_in_the_catalog(project: Path, make_artifact) -> None:
    run_cli(project, "registry-register", "m", "--artifact", str(make_artifact(b"base")), "--json")
    git(project, "checkout", "-qb", "feature")
    assert (
        run_cli(
            project, "registry-register", "m", "--artifact", str(make_artifact(b"f")), "--version", "2.0.0", "--json"
        ).returncode
        == 0
    )
    git(project, "checkout", "-q", "main")
    assert (
        run_cli(
            project, "registry-register", "m", "--artifact", str(make_artifact(b"g")), "--version", "1.1.0", "--json"
        ).returncode
        == 0
    )
    merge = subprocess.run(["git", "merge", "-q", "feature"], cwd=project, capture_output=True, text=True)
    assert merge.returncode != 0  # the derived catalog conflicts
    r = run_cli(project, "registry-reindex", "--json")
    assert r.returncode == 0, r.stdout
    assert r.json["data"] == {"changed": True, "commit": None}
    git(project, "commit", "-q", "--no-edit")
    assert run_cli(project, "registry-verify", "--json").returncode == 0
    versions = [v["version"] for v in run_cli(project, "registry-info", "m", "--json").json["data"]["versions"]]
    assert versions == ["1.0.0", "1.1.0", "2.0.0"]
