"""Issue 6, Deliver 9: kill -9 a write at every step of its transaction, for every kind of write.

The test hook ``SW_REGISTRY_TEST_STOP_AT=<step>`` (sw_registry/stop_points.py) makes the write SIGSTOP itself at
that step; the test then SIGKILLs it: a crash exactly there. Afterwards: reads still work; the next write either
proceeds or refuses cleanly (``dirty_registry`` pointing to repair, or a lifecycle refusal when the crashed write
had in fact landed); ``registry-verify --repair`` leaves a registry that verifies clean with nothing uncommitted;
and no committed version lost a file or changed an artifact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.inprocess import run_main
from tests.conftest import IDENTITY, INCREMENT, git, make_project

MODELS = f".specweave/increments/{INCREMENT}/models"
OPS: dict[str, list[str]] = {
    "register": ["registry-register", "m", "--artifact", "{artifact}", "--version", "2.0.0"],
    "promote": ["registry-promote", "m", "1.2.0", "--to", "staging"],
    "rollback": ["registry-rollback", "m", "--reason", "crash test"],
    "approve": ["registry-approve", "m", "1.2.0", "--stage", "production", "--comment", "ok"],
    "deprecate": ["registry-deprecate", "m", "1.2.0", "--reason", "superseded"],
    "sync-docs": ["sync-docs", "update"],
}
STEPS = {
    "register": ["after_lock", "mid_copy", "after_metadata", "inside_commit", "after_commit"],
    "sync-docs": ["after_lock", "inside_commit", "after_commit"],
}
CASES = [
    (op, step)
    for op in OPS
    for step in STEPS.get(op, ["after_lock", "after_metadata", "inside_commit", "after_commit"])
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """m 1.0.0 (archived, was production), 1.1.0 (production), 1.2.0 (dev): built once, copied per case."""
    home = tmp_path_factory.mktemp("harness-home")
    (home / ".gitconfig").write_text("")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            **IDENTITY,
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }.items():
            mp.setenv(key, value)
        from sw_registry.registry import ModelRegistry

        root = make_project(tmp_path_factory.mktemp("harness") / "proj")
        reg = ModelRegistry(root=root)
        for version, content in (("1.0.0", b"v1"), ("1.1.0", b"v11"), ("1.2.0", b"v12")):
            art = root.parent / f"model-{version}.pkl"
            art.write_bytes(content * 1000)
            reg.register_model("m", str(art), version=version)
        for version in ("1.0.0", "1.1.0"):
            reg.promote_model("m", version, to_stage="staging")
            reg.promote_model("m", version, to_stage="production")
        (root.parent / "new.pkl").write_bytes(os.urandom(1 << 20))
    return root


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "T"


def _tree(project: Path, rev: str) -> dict[str, str]:
    out = git(project, "ls-tree", "-r", rev, "--", MODELS)
    return {line.split("\t", 1)[1]: line.split()[2] for line in out.splitlines()}


@pytest.mark.parametrize(("op", "step"), CASES)
def test_kill_at_each_step(base: Path, tmp_path: Path, op: str, step: str) -> None:
    project = tmp_path / "proj"
    shutil.copytree(base, project, symlinks=True)
    args = [a.replace("{artifact}", str(base.parent / "new.pkl")) for a in OPS[op]]
    head = git(project, "rev-parse", "HEAD").strip()
    before = _tree(project, head)

    proc = subprocess.Popen(
        [sys.executable, "-m", "sw_registry", *args, "--json"],
        cwd=project,
        env={**os.environ, "SW_REGISTRY_TEST_STOP_AT": step},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not _stopped(proc.pid):
        assert proc.poll() is None, f"{op} ended before reaching {step}"
        assert time.monotonic() < deadline, f"{op} never reached {step}"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    # reads still answer (a clean registry, or integrity naming what is uncommitted)
    assert run_main(project, "registry-list", "--json").returncode == 0
    checked = run_main(project, "registry-verify", "--json")
    assert checked.returncode in (0, 4) and "Traceback" not in checked.stdout
    # the next write proceeds or refuses cleanly
    nxt = run_main(project, *args, "--json")
    doc = json.loads(nxt.stdout)
    assert nxt.returncode in (0, 1, 4), doc
    if nxt.returncode == 4:
        assert doc["error"]["code"] == "dirty_registry" and "registry-verify --repair" in doc["error"]["hint"]
    # repair restores a clean registry
    fixed = run_main(project, "registry-verify", "--repair", "--json")
    assert fixed.returncode == 0, fixed.stdout
    assert json.loads(fixed.stdout)["data"]["left_alone"] == []
    assert run_main(project, "registry-verify", "--json").returncode == 0
    assert git(project, "status", "--porcelain", "--untracked-files=all", "--", ".specweave") == ""
    # no committed version lost a file; artifacts never change; only this op's files changed
    after = _tree(project, "HEAD")
    assert set(before) <= set(after)
    for path, blob in before.items():
        if not path.endswith(("/metadata.json", "/features.yaml")):
            assert after[path] == blob, path
    events = git(project, "log", "--format=%(trailers:key=Registry-Event,valueonly)", f"{head}..HEAD").split()
    assert set(events) <= {op.replace("sync-docs", "docs"), "repair"}, events
    # and a write after the repair goes through
    assert run_main(project, "registry-promote", "m", "1.1.0", "--to", "production", "--json").returncode in (0, 1)
