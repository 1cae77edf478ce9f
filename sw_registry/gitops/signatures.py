"""The git calls of signed approvals (SPEC §6): commits' signatures as git verifies them (``%G?``, ``%GS``,
``%GK``) against an allowed-signers file, the signing settings, a file as HEAD has it, and a path's log."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from .repo import Repo

# git's %G? letters -> the status the registry reports
STATUS = {
    "G": "good",
    "B": "bad",
    "X": "bad",
    "Y": "bad",
    "R": "bad",
    "U": "unknown_key",
    "E": "unknown_key",
    "N": "unsigned",
}


@dataclass(frozen=True)
class Signature:
    commit: str
    status: str  # good, bad, unknown_key, unsigned
    signer: str | None  # the principal git matched in the signers file (%GS)
    key: str | None  # the key's fingerprint (%GK)
    trailers: dict[str, str]


_FMT = "%x1e%H%x1f%G?%x1f%GS%x1f%GK%x1f%(trailers:only=true,unfold=true,separator=%x1d)"


def _log_args(signers_path: str, args: Sequence[str]) -> list[str]:
    return [
        "-c",
        f"gpg.ssh.allowedSignersFile={signers_path}",
        "-c",
        "log.showSignature=false",
        "log",
        f"--format={_FMT}",
        *args,
    ]


def _parse(stdout: bytes) -> list[Signature]:
    out = []
    for chunk in stdout.decode("utf-8", "replace").split("\x1e")[1:]:
        commit, letter, signer, key, block = (chunk.strip("\n").split("\x1f") + [""] * 5)[:5]
        trailers: dict[str, str] = {}
        for item in block.split("\x1d"):
            k, sep, value = item.partition(": ")
            if sep and k.startswith("Registry-"):
                trailers.setdefault(k[len("Registry-") :].lower(), value.strip())
        out.append(Signature(commit, STATUS.get(letter, "bad"), signer or None, key or None, trailers))
    return out


def log_signatures(repo: Repo, signers_path: str, args: Sequence[str], stdin: bytes | None = None) -> list[Signature]:
    """One ``git log`` with ``args``: each commit's signature as git verifies it against ``signers_path``."""
    proc = repo.git(*_log_args(signers_path, args), input=stdin, check=False)
    return _parse(proc.stdout)


class PendingLog:
    """A verifying ``git log`` running in the background (``start_commit_signatures``).

    ``result()`` waits for it and returns what ``log_signatures`` would; ``close()`` ends it if it still runs,
    with the ``ssh-keygen`` processes it started (it runs in a process group of its own), and reaps it. Use it
    as a context manager, so that every way out (an error, Ctrl-C) closes it. Not shared between threads.
    """

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        self._out: list[Signature] | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def result(self) -> list[Signature]:
        if self._out is None:
            stdout, _ = self._proc.communicate()
            self._out = _parse(stdout)
        return self._out

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(OSError):
                if hasattr(os, "killpg"):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                else:  # pragma: no cover - no process groups (Windows)
                    self._proc.kill()
        self._proc.wait()  # reaps it
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> PendingLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_commit_signatures(repo: Repo, signers_path: str, commits: Sequence[str]) -> PendingLog:
    """Start the ``git log --no-walk`` that verifies ``commits`` (full ids) against ``signers_path`` and return at
    once; ``PendingLog.result()`` joins it. The ids are arguments (no input to feed while it runs)."""
    from .run import git_env

    argv = ["git", *_log_args(signers_path, ["--no-walk=unsorted", *dict.fromkeys(commits), "--"])]
    try:
        proc = subprocess.Popen(
            argv, cwd=repo.root, env=git_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
    except FileNotFoundError:
        from ..errors import NotAGitRepo

        raise NotAGitRepo("git is not installed", hint="install git and try again") from None
    return PendingLog(proc)


def config_regexp(repo: Repo, pattern: str) -> dict[str, str]:
    """``git config --get-regexp PATTERN``: lower-cased key -> value (the last one git lists wins)."""
    proc = repo.git("config", "-z", "--get-regexp", pattern, check=False)
    values: dict[str, str] = {}
    for item in proc.stdout.decode("utf-8", "replace").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            values[key.lower()] = value
    return values


def head_blob(repo: Repo, rel: str) -> tuple[str | None, bytes | None, bool]:
    """(blob id, bytes, sure) of project-relative ``rel`` in HEAD, in one ``git cat-file --batch``: (None, None,
    True) when HEAD lacks it, ``sure`` False when git failed otherwise."""
    proc = repo.git("cat-file", "--batch", input=f"HEAD:{repo.prefix}{rel}\n".encode(), check=False)
    header, _, body = proc.stdout.partition(b"\n")
    fields = header.split()
    if proc.returncode != 0 or len(fields) != 3 or fields[1] != b"blob" or not fields[2].isdigit():
        return None, None, proc.returncode == 0 and header.endswith(b" missing")
    return fields[0].decode("ascii"), body[: int(fields[2])], True


def path_log(repo: Repo, fmt: str, rel: str, *args: str) -> str:
    """``git log --format=FMT ARGS -- rel`` (project-relative ``rel``), as text."""
    proc = repo.git("log", f"--format={fmt}", *args, "--", f"{repo.prefix}{rel}", check=False)
    return proc.stdout.decode("utf-8", "replace")
