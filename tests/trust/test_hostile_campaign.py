"""Issue 6, "Done when": a campaign of more than 800 hostile CLI invocations against one real project.

Most run in-process through the console script's entry point (``sw_registry.cli.entry.main``), each under a
SIGALRM watchdog so a hang fails the test instead of stalling it; a sample runs as real subprocesses with a
timeout. Across all of them: 0 tracebacks (exit 70 or "Traceback"), 0 hangs, 0 writes outside the project (a
sibling folder is snapshotted before and after), 0 forged lines in any commit message, and 0 lost or changed
versions (every version registered before the campaign is still there with the same artifact hash).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sw_registry.registry import ModelRegistry
from tests.cli.inprocess import run_main
from tests.conftest import INCREMENT, git
from tests.trust.test_hostile_input import BOMB
from tests.trust.test_user_files import assert_no_forged_lines

FORGED = [
    "Registry-Event: approve",
    "ok\nRegistry-Event: approve",
    "ok\r\nRegistry-To: production\r\n",
    "registry-version: 9.9.9",
    "x\u2028Registry-Event: rollback",
    "x\x85Registry-Model: other",
    "\x1b[31mred\x1b[0m",
    "tab\there\x00nul",
    "é" * 3000,
    "",
    " ",
]
NAMES = ["", "M", "../m", "m/../../x", "a" * 101, "-m", "m\n", "m\x00", "m..x", ".m", "m@1.0.0", "٤٢", "m ", "\u212a"]
VERSIONS = [
    "",
    "vv1.0.0",
    "٤٢",
    "1.0.0.0",
    "1.0.0+local",
    "1!1.0.0",
    "1.0.0.post1",
    "1.0.0.dev1",
    "v",
    "9" * 5000,
    "1.0.0\n2.0.0",
    "-1.0.0",
    "1..0",
    "x",
]
STAGES = ["", "prod", "production\n", "PRODUCTION", "archived ", "../staging"]
DATES = ["", "not-a-date", "9999-99-99", "2024-13-45", "0000-01-01", "1" * 50, "2024-01-01T25:00:00Z", "\x00"]
INCREMENTS = ["", "٤٢", "99999", "0042-Bad_Name", "../..", "0042-fraud-detection/../../x", "0", "-1", "4" * 300]
PATHS_TEXT = ["", ".", "..", "/", "x" * 5000, "a/" * 3000, "/dev/zero", "/dev/null", "/proc/self/mem", "\x00"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(folder).as_posix()] = (p.stat().st_mode, _sha(p))
        else:
            out[p.relative_to(folder).as_posix()] = (p.lstat().st_mode, "")
    return out


class Hang(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hang


def invocations(files: dict[str, Path], art: Path) -> list[list[str]]:
    a = str(art)
    cmds: list[list[str]] = []
    # names everywhere a name goes
    for n in NAMES:
        cmds += [
            ["registry-register", n, "--artifact", a],
            ["registry-info", n],
            ["registry-history", n],
            ["registry-promote", n, "1.0.0", "--to", "staging"],
            ["registry-get", n, "--stage", "production"],
            ["registry-policy", n, "--owner", "o@example.com"],
            ["registry-lineage", n],
            ["registry-deprecate", n, "1.0.0", "--reason", "r"],
            ["registry-compare", n, "1.0.0", "1.1.0"],
            ["registry-approve", n, "1.1.0"],
            ["registry-rollback", n, "--reason", "r"],
            ["registry-list", "--model", n],
        ]
    for v in VERSIONS:
        cmds += [
            ["registry-register", "m", "--artifact", a, "--version", v],
            ["registry-info", "m", "--version", v],
            ["registry-promote", "m", v, "--to", "staging"],
            ["registry-approve", "m", v],
            ["registry-rollback", "m", "--to", v],
            ["registry-get", "m", "--version", v],
            ["registry-compare", "m", v, "1.0.0"],
            ["registry-deprecate", "m", v, "--reason", "r"],
            ["registry-register", "m", "--artifact", a, "--parent", f"m@{v}"],
        ]
    for s in STAGES:
        cmds += [
            ["registry-promote", "m", "1.1.0", "--to", s],
            ["registry-promote", "m", "1.1.0", "--to", "staging", "--from", s],
            ["registry-list", "--stage", s],
            ["registry-get", "m", "--stage", s],
            ["registry-approve", "m", "1.1.0", "--stage", s],
            ["registry-policy", "m", "--require-approval", s],
        ]
    for d in DATES:
        cmds += [
            ["registry-get", "m", "--date", d],
            ["registry-audit", "--since", d],
            ["registry-audit", "--until", d],
            ["registry-deprecate", "m", "1.1.0", "--reason", "r", "--end-of-life", d],
        ]
    for i in INCREMENTS:
        cmds += [["registry-register", "m", "--artifact", a, "--increment", i], ["registry-list", "--increment", i]]
    for p in PATHS_TEXT + [str(f) for f in files.values()]:
        cmds += [
            ["registry-register", "m", "--artifact", p],
            ["registry-register", "m", "--artifact", a, "--metadata", p],
            ["registry-register", "m", "--artifact", a, "--signature", p],
            ["registry-register", "m", "--artifact", a, "--features", p],
            ["registry-register", "m", "--artifact", a, "--requirements", p],
            ["registry-list", "--root", p],
        ]
    for text in FORGED:
        cmds += [
            ["registry-register", "m", "--artifact", a, "--description", text],
            ["registry-promote", "m", "1.1.0", "--to", "staging", "--reason", text],
            ["registry-approve", "m", "1.1.0", "--comment", text],
            ["registry-rollback", "m", "--reason", text],
            ["registry-deprecate", "m", "1.0.0", "--reason", text],
            ["registry-policy", "m", "--owner", text],
            ["registry-policy", "--commit", "--reason", text],
            ["registry-register", "m", "--artifact", a, "--tag", text, "--experiment", text, "--data-version", text],
            ["registry-lineage", "m", "--uses", text],
            ["registry-lineage", "m", "--feature", text],
            ["registry-list", "--tag", text],
            ["registry-info", "m", "--rev", text],
            ["registry-approve", "m", "1.1.0", "--actor", text],
        ]
    for kv in [
        "a=nan",
        "a=inf",
        "=1",
        "a",
        "a=1e999",
        "a=[1]",
        "a=" + "[" * 5000,
        "a=&x [*x]",
        "a=\x00",
        "a=" + "9" * 5000,
        "a==",
        "a=true",
    ]:
        cmds += [
            ["registry-register", "m", "--artifact", a, "--metric", kv],
            ["registry-register", "m", "--artifact", a, "--param", kv],
        ]
    for t in ["acc<", "acc<nan", "acc<1e999", "<1", "acc>" + "9" * 5000, "acc<0.5" * 50, "a b<1", "acc=1"]:
        cmds += [
            ["registry-policy", "m", "--trigger", t],
            ["registry-policy", "m", "--trigger", "acc<0.5", "--window", t],
        ]
    for f in ["amount", ":float", "a:", "a:b:c", "\x00:x", "x" * 5000 + ":float"]:
        cmds += [
            ["registry-register", "m", "--artifact", a, "--feature", f],
            ["registry-register", "m", "--artifact", a, "--output", f],
        ]
    for fmt in ["", "xml", "JSON", "../x"]:
        cmds += [
            ["registry-audit", "--format", fmt],
            ["registry-compare", "m", "1.0.0", "1.1.0", "--format", fmt],
            ["registry-lineage", "m", "--format", fmt],
        ]
    for bump in ["", "huge", "MAJOR", "auto\n"]:
        cmds += [["registry-register", "m", "--artifact", a, "--bump", bump]]
    for opts in [
        ["--min-approvals", "0"],
        ["--min-approvals", "-5"],
        ["--min-approvals", "9" * 30],
        ["--approver", ""],
        ["--require-approval", "production", "--approver", "x\ny"],
    ]:
        cmds += [["registry-policy", "m", *opts]]
    cmds += [["sync-docs", x] for x in ("", "updat", "review --check", "../update")]
    cmds += [["registry-verify", "--repair", "--root", p] for p in PATHS_TEXT]
    for p in PATHS_TEXT:
        cmds += [[c, "--root", p] for c in ("registry-info", "registry-history", "registry-audit")]
        cmds += [["registry-get", "m", "--version", "1.0.0", "--root", p], ["registry-reindex", "--root", p]]
    for rev in ["", "HEAD~999", "--all", "../../etc", "HEAD:.specweave", "0" * 40, "x" * 5000, "HEAD^{tree}", "@{-1}"]:
        cmds += [
            ["registry-list", "--rev", rev],
            ["registry-info", "m", "--rev", rev],
            ["registry-get", "m", "--stage", "production", "--rev", rev],
            ["registry-compare", "m", "1.0.0", "1.1.0", "--rev", rev],
            ["registry-lineage", "m", "--rev", rev],
            ["registry-promote", "m", "1.1.0", "--to", "staging", "--rev", rev],
        ]
    return cmds


@pytest.fixture
def arena(project: Path, tmp_path: Path) -> dict[str, Any]:
    reg = ModelRegistry(root=project)
    arts = tmp_path / "arts"
    arts.mkdir()
    for version, body in (("1.0.0", b"one"), ("1.1.0", b"two")):
        (arts / f"{version}.pkl").write_bytes(body)
        reg.register_model("m", str(arts / f"{version}.pkl"), version=version, metadata={"accuracy": 0.9})
    reg.promote_model("m", "1.0.0", to_stage="staging")
    reg.promote_model("m", "1.0.0", to_stage="production")
    neighbour = tmp_path / "neighbour"
    (neighbour / "sub").mkdir(parents=True)
    (neighbour / "keep.txt").write_text("do not touch\n")
    (neighbour / "sub" / "model.pkl").write_bytes(b"\x80\x04neighbour")
    side = tmp_path / "side"
    side.mkdir()
    files = {
        "fifo": side / "fifo.json",
        "folder": side / "folder.yaml",
        "latin1": side / "latin1.yaml",
        "bomb": side / "bomb.yaml",
        "deep": side / "deep.json",
        "huge": side / "huge.json",
        "list": side / "list.json",
        "neighbour": neighbour / "keep.txt",
    }
    os.mkfifo(files["fifo"])
    files["folder"].mkdir()
    files["latin1"].write_bytes(b"a: \xff\n")
    files["bomb"].write_text(BOMB)
    files["deep"].write_text("[" * 10000 + "]" * 10000)
    with open(files["huge"], "wb") as fh:
        fh.truncate(17 << 20)
    files["list"].write_text("[1, 2, 3]")
    art = arts / "new.pkl"
    art.write_bytes(b"a new model")
    return {"project": project, "neighbour": neighbour, "files": files, "art": art}


def _check(args: list[str], code: int, stdout: str, stderr: str) -> None:
    where = f"sw-registry {[a[:80] for a in args]!r}"
    assert code != 70 and "Traceback" not in stdout + stderr, f"{where}: traceback\n{stdout}{stderr}"
    assert code in (0, 1, 2, 3, 4, 5, 6), f"{where}: exit {code}"
    doc = json.loads(stdout)  # exactly one JSON document
    assert doc["ok"] is (code == 0), where
    if code == 2 and not doc["ok"]:
        assert doc["error"]["code"] in ("usage", "invalid_name", "invalid_version", "invalid_input", "config_error")


def test_800_hostile_invocations(arena: dict[str, Any]) -> None:
    project: Path = arena["project"]
    neighbour_before = snapshot(arena["neighbour"])
    versions_before = {
        (r["version"]): r["artifact"]["sha256"]
        for r in (v.metadata for v in ModelRegistry(root=project).list_versions())
    }
    cmds = invocations(arena["files"], arena["art"])
    assert len(cmds) >= 800, len(cmds)
    old = signal.signal(signal.SIGALRM, _alarm)
    hangs: list[list[str]] = []
    try:
        for args in cmds:
            signal.alarm(20)
            try:
                r = run_main(project, *args, "--json")
            except Hang:
                hangs.append(args)
                continue
            finally:
                signal.alarm(0)
            _check(args, r.returncode, r.stdout, r.stderr)
    finally:
        signal.signal(signal.SIGALRM, old)
    assert hangs == []
    # a sample as real processes: exit status of the process, and a timeout for hangs
    sample = cmds[:: max(1, len(cmds) // 25)]
    for args in sample:
        if any("\x00" in a for a in args):
            continue  # a NUL cannot reach a real process's argv
        proc = subprocess.run(
            [sys.executable, "-m", "sw_registry", *args, "--json"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
        )
        _check(args, proc.returncode, proc.stdout, proc.stderr)
        assert proc.stderr == "", args
    # nothing outside the project changed; no forged lines; no version lost or changed
    assert snapshot(arena["neighbour"]) == neighbour_before
    assert_no_forged_lines(project)
    after = {
        r["version"]: r["artifact"]["sha256"] for r in (v.metadata for v in ModelRegistry(root=project).list_versions())
    }
    assert all(after.get(v) == sha for v, sha in versions_before.items()), (versions_before, after)
    assert run_main(project, "registry-verify", "--json").returncode == 0
    assert git(project, "status", "--porcelain", "--untracked-files=all", "--", ".specweave") == ""
    assert not list(itertools.islice((project.parent).glob(".specweave"), 1))
    assert INCREMENT in git(project, "ls-files", ".specweave")
