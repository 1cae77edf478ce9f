"""The console script ends the process without Python's teardown (cli/entry.py ``script``), yet as a normal exit
would end it: exit code kept, output flushed, atexit functions run, non-daemon threads waited for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli

PRELUDE = "import atexit, sys, threading, time\nfrom sw_registry.cli import entry\n"


def _script(body: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = PRELUDE + body + f"\nsys.argv = ['sw-registry', *{list(args)!r}]\nentry.script()\n"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


def test_teardown_is_skipped_but_atexit_functions_run_and_output_is_whole(project: Path) -> None:
    # an object whose __del__ speaks: Python's teardown would run it, the fast exit does not
    body = ("class Noisy:\n    def __del__(self):\n        sys.stderr.write('torn down\\n')\n"
            "keep = Noisy()\n"
            "atexit.register(lambda: sys.stderr.write('atexit ran\\n'))\n")
    proc = _script(body, "registry-list", "--json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True  # the whole envelope, flushed
    assert "atexit ran" in proc.stderr
    assert "torn down" not in proc.stderr


def test_the_exit_code_is_the_commands(project: Path) -> None:
    proc = _script("", "registry-info", "no-such-model", "--json", cwd=project)
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["error"]["code"] == "not_found"
    r = run_cli(project, "registry-info", "no-such-model", "--json")  # python -m sw_registry: the same exit
    assert r.returncode == 3 and json.loads(r.stdout)["error"]["code"] == "not_found"


def test_a_live_non_daemon_thread_gets_the_normal_exit(project: Path, tmp_path: Path) -> None:
    """A thread that is not a daemon (an extension's) is waited for, as Python's own exit waits for it."""
    done = tmp_path / "done.txt"
    body = ("def late():\n    time.sleep(0.3)\n"
            f"    open({str(done)!r}, 'w').write('finished')\n"
            "threading.Thread(target=late).start()\n")
    proc = _script(body, "registry-list", "--json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "finished"


def test_output_to_a_file_is_whole(project: Path, tmp_path: Path) -> None:
    """Buffered output to a file (no terminal, no pipe reader) is all written before the process ends: the same
    bytes the entry point prints in-process."""
    from tests.cli.inprocess import run_main

    out = tmp_path / "help.txt"
    with open(out, "w") as fh:
        proc = subprocess.run([sys.executable, "-m", "sw_registry", "registry-register", "--help"], cwd=project,
                              stdout=fh, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.rstrip().endswith("Show this message and exit.")
    assert text == run_main(project, "registry-register", "--help").stdout
