"""gitops/spawn.py and threads.py: subprocess's and threading's calls of the write path, without those modules.

Real child processes throughout, each compared with what subprocess itself gives for the same call.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sw_registry import threads
from sw_registry.gitops import spawn
from tests.conftest import git, make_project


def test_run_captures_like_subprocess() -> None:
    code = "import sys; sys.stdout.write('out'); sys.stderr.write('err'); sys.exit(3)"
    ours = spawn.run([sys.executable, "-c", code], capture_output=True)
    theirs = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert (ours.returncode, ours.stdout, ours.stderr) == (3, b"out", b"err")
    assert ours.args == [sys.executable, "-c", code]


def test_large_input_and_output_at_once_do_not_deadlock() -> None:
    """More than a pipe holds in each direction: the child writes while we still feed it (both must flow)."""
    data = os.urandom(1 << 20)
    code = "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1]); sys.stderr.buffer.write(d)"
    proc = spawn.run([sys.executable, "-c", code], input=data, capture_output=True)
    assert proc.returncode == 0
    assert proc.stdout == data[::-1] and proc.stderr == data


def test_a_child_that_stops_reading_is_not_an_error() -> None:
    proc = spawn.run([sys.executable, "-c", "import os; os.close(0)"], input=os.urandom(1 << 20), capture_output=True)
    assert proc.returncode == 0


def test_cwd_is_git_minus_c(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    proc = spawn.run(["git", "rev-parse", "--show-toplevel"], cwd=project / ".specweave", capture_output=True)
    assert proc.returncode == 0 and Path(proc.stdout.decode().strip()) == project.resolve()
    missing = spawn.run(["git", "status"], cwd=tmp_path / "missing", capture_output=True)
    assert missing.returncode != 0 and b"missing" in missing.stderr
    with pytest.raises(TypeError, match="git"):
        spawn.run([sys.executable, "-c", "pass"], cwd=tmp_path)


def test_the_executable_is_found_on_the_childs_path(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "sw-spawn-probe"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho found\n")
    tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert spawn.run(["sw-spawn-probe"], env=env, capture_output=True).stdout == b"found\n"
    with pytest.raises(FileNotFoundError):
        spawn.run(["sw-spawn-probe"], capture_output=True)  # not on this process's own PATH


def test_popen_pipes_devnull_and_a_given_descriptor(tmp_path: Path) -> None:
    r, w = os.pipe()
    os.write(w, b"from a pipe of our own")
    os.close(w)
    try:
        proc = spawn.Popen(["cat"], stdin=r, stdout=spawn.PIPE, stderr=spawn.DEVNULL)
    finally:
        os.close(r)
    assert proc.communicate() == (b"from a pipe of our own", None)
    assert proc.returncode == 0 and proc.poll() == 0
    quiet = spawn.Popen(["cat"], stdin=spawn.DEVNULL, stdout=spawn.PIPE, stderr=spawn.PIPE)
    assert quiet.communicate() == (b"", b"") and quiet.wait() == 0
    with pytest.raises(TypeError):
        spawn.Popen(["cat"], stdin="nonsense")


def test_a_signal_is_a_negative_returncode() -> None:
    assert spawn.run(["sh", "-c", "kill -9 $$"]).returncode == -9


def test_no_inheritable_descriptor_reaches_the_child() -> None:
    r, w = os.pipe()
    os.set_inheritable(w, True)  # as a harness's pipe this process inherited itself would be
    try:
        listing = spawn.run(["sh", "-c", "ls /dev/fd"], capture_output=True).stdout.decode().split()
    finally:
        os.close(r)
        os.close(w)
    assert str(w) not in listing


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_sigpipe_is_back_to_its_default_and_sessions_are_new() -> None:
    status = spawn.run(["cat", "/proc/self/status"], capture_output=True).stdout.decode()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert not ignored & (1 << (13 - 1))  # SIGPIPE (13), which Python itself ignores
    code = "import os; print(os.getsid(0))"
    same = spawn.run([sys.executable, "-c", code], capture_output=True).stdout
    new = spawn.Popen([sys.executable, "-c", code], stdout=spawn.PIPE, start_new_session=True).communicate()[0]
    assert int(same) == os.getsid(0) and int(new) != os.getsid(0)


def test_git_through_spawn_sees_the_repository(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    git(project, "commit", "-q", "--allow-empty", "-m", "one")
    proc = spawn.run(["git", "log", "--format=%s"], cwd=project, capture_output=True, env=dict(os.environ))
    assert proc.returncode == 0 and proc.stdout.decode() == git(project, "log", "--format=%s")
    assert proc.stdout.decode().split("\n")[0] == "one"


def test_threads_run_and_join() -> None:
    lock = threads.Lock()
    seen: list[int] = []

    def work() -> None:
        with lock:
            seen.append(1)

    thread = threads.Thread(target=work, name="probe", daemon=True)
    thread.start()
    thread.join()
    assert seen == [1] and not lock.locked()
    with pytest.raises(TypeError):
        threads.Thread(target=work)


def test_a_parent_started_without_stdin_and_stderr_still_gets_both_streams() -> None:
    """pipe() and open() hand out 0 and 2 when they are closed: the child's stdio must still be set right."""
    code = (
        "import os; os.close(0); os.close(2)\n"
        "from sw_registry.gitops import spawn\n"
        "p = spawn.run(['sh', '-c', 'cat; echo out; echo err >&2'], input=b'in ', capture_output=True)\n"
        "q = spawn.run(['sh', '-c', 'echo quiet >&2; echo loud'], stdin=spawn.DEVNULL, stdout=spawn.PIPE,"
        " stderr=spawn.DEVNULL)\n"
        "os.write(1, repr((p.stdout, p.stderr, q.stdout)).encode())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert out == repr((b"in out\n", b"err\n", b"loud\n")).encode()
