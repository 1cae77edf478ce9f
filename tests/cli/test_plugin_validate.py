"""The generated plugin passes Claude Code's own validator (SPEC §7.16), plugin-directory checks included.

`claude` comes from the npm package @anthropic-ai/claude-code, which .ci/run installs into .npm-tools/. The test
finds it through $CLAUDE_CLI, then PATH, then .npm-tools/. Without it the test is skipped on a developer machine
and FAILS in CI (CI=true), so a broken install can never turn the check off silently. Validation runs offline and
needs no login.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
# read at import: the isolated_env fixture empties the environment of the test itself
CLAUDE = (
    os.environ.get("CLAUDE_CLI")
    or shutil.which("claude")
    or next((str(p) for p in [REPO / ".npm-tools/node_modules/.bin/claude"] if p.exists()), None)
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def test_claude_plugin_validate_strict_passes_with_the_directory_checks(project: Path, tmp_path: Path) -> None:
    if CLAUDE is None:
        message = "the claude CLI is not installed (npm install --prefix .npm-tools @anthropic-ai/claude-code)"
        if IN_CI:
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)
    dest = tmp_path / "plugin"
    assert run_cli(project, "install-commands", "--dest", str(dest), "--json").returncode == 0
    env = {
        **os.environ,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
    }
    proc = subprocess.run(
        [CLAUDE, "plugin", "validate", "--strict", "--profile", "directory", "--json", str(dest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["success"] is True, proc.stdout + proc.stderr
    assert report["manifest"]["errors"] == [] and report["manifest"]["warnings"] == []
    assert report["directory"]["findings"] == []  # README.md, license, icon
    assert "ml:sync-docs" in report["provides"]["commands"] and "ml:registry-monitor" in report["provides"]["commands"]
    assert report["provides"]["skills"] == ["ml:model-registry"]
