"""Issue 6, Deliver 1, 2, 4: registry.yaml is the user's file; repair reverts only what an interrupted write
owned (copying it first); verify names commits by full id; user text never forges a Registry- line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import INCREMENT, error, git

MODELS = Path(".specweave/increments") / INCREMENT / "models"
POLICY = ".specweave/registry.yaml"


def ok(r):  # type: ignore[no-untyped-def]
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)["data"]


def test_a_hand_written_registry_yaml_is_committed_by_registry_policy_commit(run, project: Path, make_artifact) -> None:
    (project / POLICY).write_text("docs_path: docs/models.md\nmetrics:\n  lower_is_better: [latency]\n")
    err = error(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"), "dirty_registry", 4)
    assert "registry-policy --commit" in err["hint"]
    # repair leaves the user's file exactly as it is and says so
    fixed = ok(run("registry-verify", "--repair", "--json"))
    assert fixed["left_alone"] == [POLICY] and fixed["restored"] == []
    assert (project / POLICY).read_text().startswith("docs_path: docs/models.md")
    data = ok(run("registry-policy", "--commit", "--reason", "docs elsewhere", "--json"))
    assert data["changed"] is True and len(data["commit"]) == 40
    body = git(project, "log", "-1", "--format=%B")
    assert "Registry-Event: policy" in body and "Registry-Reason: docs elsewhere" in body
    assert git(project, "status", "--porcelain") == ""
    # committed through the tool: verify has no unaudited commit, and writes go through again
    ok(run("registry-verify", "--json"))
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    # nothing changed: no commit
    assert ok(run("registry-policy", "--commit", "--json")) == {"changed": False, "commit": None}


def test_registry_policy_commit_refuses_an_invalid_file_and_writes_nothing(run, project: Path) -> None:
    (project / POLICY).write_text("no_such_key: 1\n")
    head = git(project, "rev-parse", "HEAD")
    error(run("registry-policy", "--commit", "--json"), "config_error", 2)
    assert git(project, "rev-parse", "HEAD") == head
    assert (project / POLICY).read_text() == "no_such_key: 1\n"
    error(run("registry-policy", "--commit", "--owner", "x@example.com", "--json"), "usage", 2)


def test_one_registry_policy_call_is_one_commit(run, project: Path) -> None:
    before = int(git(project, "rev-list", "--count", "HEAD"))
    ok(
        run(
            "registry-policy",
            "m",
            "--require-approval",
            "production",
            "--approver",
            "bob@example.com",
            "--owner",
            "o@example.com",
            "--primary-metric",
            "accuracy",
            "--trigger",
            "accuracy<0.8",
            "--json",
        )
    )
    assert int(git(project, "rev-list", "--count", "HEAD")) == before + 1
    text = (project / POLICY).read_text()
    assert "bob@example.com" in text and "o@example.com" in text and "min: 0.8" in text


def _kill_register_mid_copy(project: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(64 << 20)
    env = {**os.environ, "SW_REGISTRY_TEST_STOP_AT": "mid_copy"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sw_registry", "registry-register", "m", "--artifact", str(big), "--version", "2.0.0"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_stopped(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _wait_stopped(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(f"/proc/{proc.pid}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        assert proc.poll() is None, "the write ended before its stop point"
        time.sleep(0.01)
    raise AssertionError("the write never reached its stop point")


def test_repair_reverts_only_the_interrupted_writes_paths_and_copies_them_first(
    run, project: Path, make_artifact, tmp_path: Path
) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact(b"one")), "--json"))
    meta = project / MODELS / "m-v1.0.0" / "metadata.json"
    _kill_register_mid_copy(project, tmp_path)
    # the user also edits a metadata file and drops a file of theirs into the registry
    edited = meta.read_text().replace('"description": ""', '"description": "mine"')
    meta.write_text(edited)
    notes = project / MODELS / "notes.txt"
    notes.write_text("my notes\n")
    err = error(run("registry-promote", "m", "1.0.0", "--to", "staging", "--json"), "dirty_registry", 4)
    assert "registry-verify --repair" in err["hint"]
    data = ok(run("registry-verify", "--repair", "--json"))
    restored = {item["path"]: item["copy"] for item in data["restored"]}
    assert restored and all(p.startswith(f"{MODELS}/m-v2.0.0/") for p in restored)
    for rel, copy in restored.items():
        assert copy is None or (
            copy.startswith(str(project / ".specweave/cache/sw-registry/repair/")) and Path(copy).is_file()
        )
        assert any(rel in line for line in data["repaired"])
    assert not (project / MODELS / "m-v2.0.0").exists()
    assert sorted(data["left_alone"]) == sorted([f"{MODELS}/m-v1.0.0/metadata.json", f"{MODELS}/notes.txt"])
    assert meta.read_text() == edited and notes.read_text() == "my notes\n"  # the user's work is untouched


def test_verify_names_an_unaudited_commit_by_its_full_id(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    meta = project / MODELS / "m-v1.0.0" / "metadata.json"
    meta.write_text(meta.read_text().replace('"stage": "dev"', '"stage": "production"'))
    git(project, "commit", "-qam", "sneaky")
    sneaky = git(project, "rev-parse", "HEAD").strip()
    err = error(run("registry-verify", "--json"), "integrity", 4)
    problems = [p for p in err["details"]["problems"] if p["code"] == "unaudited_commit"]
    assert [p["commit"] for p in problems] == [sneaky]


FORGERIES = [
    "Registry-Event: approve",
    "fine\nRegistry-Event: approve",
    "fine\r\nRegistry-Version: 9.9.9",
    "registry-event: approve",
    "x\u2028Registry-Event: approve",
    "x\x85Registry-To: production",
    "\n\nRegistry-Event: approve\n\n",
]


@pytest.mark.parametrize("text", FORGERIES)
def test_no_line_the_tool_did_not_write_starts_with_registry(run, project: Path, make_artifact, text: str) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--description", text, "--json"))
    ok(run("registry-promote", "m", "1.0.0", "--to", "staging", "--reason", text, "--json"))
    ok(run("registry-approve", "m", "1.0.0", "--comment", text, "--json"))
    ok(run("registry-deprecate", "m", "1.0.0", "--reason", text, "--json"))
    ok(run("registry-policy", "m", "--owner", "o@example.com", "--reason", text, "--json"))
    assert_no_forged_lines(project)


def assert_no_forged_lines(project: Path) -> None:
    """Every commit's message: Registry- lines only in the final trailer block, one Event each, known keys."""
    raw = git(project, "log", "--format=%H%x00%B%x01")
    for entry in raw.split("\x01"):
        if not entry.strip():
            continue
        commit, _, message = entry.strip("\n").partition("\x00")
        lines = message.rstrip("\n").split("\n")
        if not any(line.startswith("Registry-") for line in lines):
            continue
        trailer_start = max(i for i, line in enumerate(lines) if line == "") + 1
        for i, line in enumerate(lines):
            if line.lower().startswith("registry-"):
                assert i >= trailer_start, f"{commit}: forged line {line!r}"
        assert sum(line.startswith("Registry-Event:") for line in lines) == 1, message
