"""Running the git binary: the environment every git call gets, and the options of the registry's objects."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import GitError, NotAGitRepo
from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)

# variables that would redirect git to another repository or index (identity variables stay)
_STRIP_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE", "GIT_PREFIX")
# SPEC §7.1: big files (artifacts above core.bigFileThreshold) are streamed straight into a pack, and that pack is
# written without zlib (pack.compression=0): they rarely compress and deflate made a 1 GiB commit ~16x slower.
# Every other object (metadata, derived files, trees, commits) keeps git's normal compression, so the repository
# stays about as small as plain git keeps it (issue 10: 518 MB of loose objects after 1,500 versions otherwise).
BIG_FILE_THRESHOLD = "64m"
FAST_OBJECTS = ("-c", "pack.compression=0", "-c", f"core.bigFileThreshold={BIG_FILE_THRESHOLD}")
LOCK_NAME = "sw-registry.lock"
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-rewrite")


# git work a write left running, waited for before git runs again and before the write ends (``settle``): the index
# update of a commit that landed (gitops/direct.py), so that the write's own Python work overlaps it
_UNSETTLED: list[_Once] = []


class _Once:
    """A wait that runs once, whichever thread asks first; every caller gets its error."""

    __slots__ = ("error", "lock", "ran", "wait")

    def __init__(self, wait: Callable[[], None]) -> None:
        from .. import threads as threading  # threading.Lock without threading.py

        self.wait, self.lock, self.ran = wait, threading.Lock(), False
        self.error: BaseException | None = None

    def __call__(self) -> None:
        with self.lock:
            if not self.ran:
                self.ran = True
                try:
                    self.wait()
                except BaseException as exc:
                    self.error = exc
        if self.error is not None:
            raise self.error


def defer(wait: Callable[[], None]) -> None:
    """Note git work running in the background; ``wait`` waits for it and raises ``GitError`` if it failed."""
    _UNSETTLED.append(_Once(wait))


def settle() -> None:
    """Wait for every piece of git work ``defer`` noted, in order; the first that failed raises (once taken off the
    list: a later git call does not raise it again)."""
    while _UNSETTLED:
        try:
            once = _UNSETTLED[0]
        except IndexError:  # another thread took the last one meanwhile
            return
        try:
            once()
        finally:
            with contextlib.suppress(ValueError):
                _UNSETTLED.remove(once)


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV}
    env.setdefault("LC_ALL", "C")
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def run_git(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    hint: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    # a NUL can come only from the API (argv cannot hold one), and git could not take it either
    if any("\0" in a for a in args) or (env and any("\0" in v for v in env.values())):
        from ..errors import InvalidInput

        raise InvalidInput("a value passed to git contains a NUL byte", hint="remove the NUL character")
    if _UNSETTLED:  # never two gits at the index at once (index.lock)
        settle()
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, env=env or git_env(), check=False
        )
    except FileNotFoundError:
        raise NotAGitRepo("git is not installed", hint="install git and try again") from None
    if check and proc.returncode != 0:
        out = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        raise GitError(f"git {args[0] if args else ''} failed: {out}", hint=hint or "see git's message above")
    return proc
