"""The git calls of signed approvals (SPEC §6): commits' signatures as git verifies them (``%G?``, ``%GS``,
``%GK``) against an allowed-signers file, the signing settings, a file as HEAD has it, and a path's log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def log_signatures(repo: Repo, signers_path: str, args: Sequence[str], stdin: bytes | None = None) -> list[Signature]:
    """One ``git log`` with ``args``: each commit's signature as git verifies it against ``signers_path``."""
    proc = repo.git(
        "-c",
        f"gpg.ssh.allowedSignersFile={signers_path}",
        "-c",
        "log.showSignature=false",
        "log",
        f"--format={_FMT}",
        *args,
        input=stdin,
        check=False,
    )
    out = []
    for chunk in proc.stdout.decode("utf-8", "replace").split("\x1e")[1:]:
        commit, letter, signer, key, block = (chunk.strip("\n").split("\x1f") + [""] * 5)[:5]
        trailers: dict[str, str] = {}
        for item in block.split("\x1d"):
            k, sep, value = item.partition(": ")
            if sep and k.startswith("Registry-"):
                trailers.setdefault(k[len("Registry-") :].lower(), value.strip())
        out.append(Signature(commit, STATUS.get(letter, "bad"), signer or None, key or None, trailers))
    return out


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
