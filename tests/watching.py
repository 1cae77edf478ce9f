"""A real watcher process (``python -m sw_registry.watcher``) for a test's project, always stopped afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def watcher(project: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sw_registry.watcher", *args], cwd=cwd or project,
                          capture_output=True, text=True, timeout=120)


def status(project: Path) -> dict[str, Any]:
    r = watcher(project, "status", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)["data"]


def gone(pid: int, within: float = 15.0) -> bool:
    """Whether process ``pid`` has exited (waiting up to ``within`` seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # the watcher is our grandchild: reaped by init, or a zombie of ours when a test ran it directly
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


@contextmanager
def running(project: Path, *args: str) -> Iterator[dict[str, Any]]:
    """A watcher of ``project`` started (its status), stopped and gone afterwards."""
    r = watcher(project, "start", "--json", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)["data"]
    try:
        yield data
    finally:
        watcher(project, "stop")
        if not gone(int(data["pid"]), 10):
            os.kill(int(data["pid"]), 9)
