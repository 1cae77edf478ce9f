"""gitops/run.py ``defer``/``settle``: background git work is waited for exactly once, by whichever caller comes
first, every caller waits until it is done, and a failure is raised to the callers waiting then, not later."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sw_registry.errors import GitError
from sw_registry.gitops import run


def test_two_threads_wait_for_the_same_work_once() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    finished: list[bool] = []

    def wait() -> None:
        calls.append(1)
        started.set()
        release.wait()

    run.defer(wait)
    first = threading.Thread(target=lambda: (run.settle(), finished.append(True)))
    first.start()
    started.wait()
    second = threading.Thread(target=lambda: (run.settle(), finished.append(True)))
    second.start()
    assert finished == []  # both wait while the work runs
    release.set()
    first.join()
    second.join()
    assert calls == [1] and finished == [True, True]
    run.settle()  # nothing left


def test_a_failure_is_raised_to_the_waiting_caller_and_then_forgotten() -> None:
    def wait() -> None:
        raise GitError("the index could not be updated", hint="repair")

    run.defer(wait)
    with pytest.raises(GitError, match="could not be updated"):
        run.settle()
    run.settle()  # taken off the list: a later git call does not raise it again
    assert run.run_git(Path("."), "--version").returncode == 0
