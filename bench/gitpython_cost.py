"""What GitPython costs, measured: its import, and a push or clone through it beside the git binary.

Each row is a new Python process (as a CLI run is), 1 warm-up run then --runs timed runs; the push rows
push one new small commit to a bare repository on the local disk (the cheapest remote there is: a real one
adds a network round trip of 50 ms to seconds), the clone rows clone a small repository from it.

    python bench/gitpython_cost.py --runs 15

The decision it informs is in the README ("GitPython: network operations only").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

PUSH_BINARY = "import subprocess; subprocess.run(['git', 'push', '-q', 'origin', 'HEAD:refs/heads/main'], check=True)"
PUSH_GITPYTHON = (
    "import git; infos = git.Repo('.').remote('origin').push('HEAD:refs/heads/main'); "
    "assert not infos.error, infos.error"
)
CLONE_BINARY = "import subprocess, sys; subprocess.run(['git', 'clone', '-q', sys.argv[1], sys.argv[2]], check=True)"
CLONE_GITPYTHON = "import git, sys; git.Repo.clone_from(sys.argv[1], sys.argv[2])"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)


def timed(cmd: list[str], cwd: Path, before: object = None) -> float:
    if callable(before):
        before()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def series(label: str, runs: int, make: object) -> tuple[str, list[float]]:
    assert callable(make)
    make()  # warm-up
    return label, [make() for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="gitpython-bench-") as scratch:
        base = Path(scratch)
        work = base / "work"
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        (work / "f.txt").write_text("0\n")
        git(work, "add", "f.txt")
        git(work, "commit", "-q", "-m", "0")
        remote = base / "remote.git"
        git(base, "clone", "-q", "--bare", str(work), str(remote))
        git(work, "remote", "add", "origin", str(remote))
        counter = iter(range(1, 10**6))

        def new_commit() -> None:
            (work / "f.txt").write_text(f"{next(counter)}\n")
            git(work, "commit", "-q", "-am", "change")

        def clone_with(code: str) -> float:
            dest = base / f"clone-{next(counter)}"
            return timed([py, "-c", code, remote.as_uri(), str(dest)], base)

        rows = [
            series("python -c pass (baseline)", args.runs, lambda: timed([py, "-c", "pass"], base)),
            series("python -c 'import git' (GitPython)", args.runs, lambda: timed([py, "-c", "import git"], base)),
            series(
                "python: import sw_registry.gitops (local git work)",
                args.runs,
                lambda: timed([py, "-c", "import sw_registry.gitops"], base),
            ),
            series("push 1 commit, git binary", args.runs, lambda: timed([py, "-c", PUSH_BINARY], work, new_commit)),
            series("push 1 commit, GitPython", args.runs, lambda: timed([py, "-c", PUSH_GITPYTHON], work, new_commit)),
            series("clone (file://), git binary", args.runs, lambda: clone_with(CLONE_BINARY)),
            series("clone (file://), GitPython", args.runs, lambda: clone_with(CLONE_GITPYTHON)),
        ]
    import git as gitpython

    print(f"GitPython {gitpython.__version__}, {args.runs} runs each, ms (new process per run)\n")
    print("| what | median | min | max |")
    print("| --- | ---: | ---: | ---: |")
    for label, values in rows:
        print(f"| {label} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |")


if __name__ == "__main__":
    main()
