"""SPEC §7.16 / issue 6: the README's tour is a script that runs, exactly as written, in a fresh folder.

Every line of the tour's ```bash block (continuation lines joined) runs in order through bash in a new empty
folder, with ``sw-registry`` and ``python3`` resolving to the code under test; each must exit 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("## A tour")
    block_start = text.index("```bash\n", start) + len("```bash\n")
    block = text[block_start : text.index("```", block_start)]
    commands: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        commands.append(pending + line)
        pending = ""
    assert not pending, "the tour ends in a continuation line"
    return [c for c in commands if c.strip() and not c.lstrip().startswith("#")]


def test_the_tour_has_no_placeholders() -> None:
    for command in tour_commands():
        code = command.split(" #", 1)[0]
        assert "[" not in code.replace("[0.", "") and "…" not in code and "..." not in code, command


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, target in (("sw-registry", f'"{sys.executable}" -m sw_registry'), ("python3", f'"{sys.executable}"')):
        shim = shims / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    work = tmp_path / "fresh-project"
    work.mkdir()
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ.get('PATH', '')}"}
    commands = tour_commands()
    assert len(commands) >= 20
    for command in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{command}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
    log = subprocess.run(["git", "log", "--format=%s"], cwd=work, capture_output=True, text=True, check=True)
    subjects = log.stdout.splitlines()
    assert "registry: commit a hand edit of registry.yaml" in subjects
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", ".specweave"], cwd=work, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
