"""What a registry write needs from git's settings and identities, read by one ``git var -l`` started early.

``git var -l`` prints git's whole configuration (files, includes, ``-c``) and the author and committer
identities. It is started in the background when a write begins (``start``) and read when first needed, so its
run overlaps our own work. From it come the identity the write is made by (``identity``: git's strict rule, see
``explicit``) and the author/committer lines of the commit we write ourselves (``ident_line``, gitops/direct.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path

from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)
from .run import git_env

_CRUD = frozenset(b" .,:;<>\"\\'") | frozenset(range(33))
_IDENT = r"^(.*?) <(.*)> (\d+ [+-]\d{4})$"  # compiled on first use (re's cache): only with GIT_*_DATE set


class Vars:
    """The parsed output of ``git var -l``: ``config`` (key -> last value, keys as git prints them: section and
    name in lower case; a key given without a value is ``None``) and the two identity lines (non-strict)."""

    __slots__ = ("author", "committer", "config")

    def __init__(self, text: str) -> None:
        self.config: dict[str, str | None] = {}
        self.author: str | None = None
        self.committer: str | None = None
        for line in text.split("\n"):
            key, eq, value = line.partition("=")
            if key == "GIT_AUTHOR_IDENT":  # printed after the configuration: the last such line is git's
                self.author = value
            elif key == "GIT_COMMITTER_IDENT":
                self.committer = value
            elif key and key == key.lower():
                self.config[key] = value if eq else None

    def flag(self, key: str) -> bool:
        """A boolean setting as git reads it (a key without a value is true)."""
        if key not in self.config:
            return False
        value = self.config[key]
        return value is None or value.strip().lower() in ("true", "yes", "on", "1")


class PendingVars:
    """``git var -l`` running in the background; ``result()`` waits for it (None when git failed)."""

    def __init__(self, root: Path) -> None:
        self._vars: Vars | None = None
        self._done = False
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["git", "var", "-l"], cwd=root, env=git_env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._proc = None

    def result(self) -> Vars | None:
        if not self._done:
            self._done = True
            if self._proc is not None:
                out, _ = self._proc.communicate()
                if self._proc.returncode == 0:
                    self._vars = Vars(out.decode("utf-8", "surrogateescape"))
        return self._vars


def start(root: Path) -> PendingVars:
    return PendingVars(root)


def without_crud(value: str) -> str:
    """What git keeps of a name or an email in an identity line (ident.c: crud trimmed at both ends, no <, >, \\n)."""
    raw = value.encode("utf-8", "surrogateescape")
    start, end = 0, len(raw)
    while start < end and raw[start] in _CRUD:
        start += 1
    while end > start and raw[end - 1] in _CRUD:
        end -= 1
    kept = bytes(c for c in raw[start:end] if c not in b"\n<>")
    return kept.decode("utf-8", "surrogateescape")


def explicit(vars: Vars, who: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(name, email) git gives ``who`` ("author" or "committer") under ``env``, when both are set explicitly
    (environment or configuration, in git's order) and not empty once cleaned; None where git would guess or
    refuse, which only git itself can say (then the caller asks git)."""
    upper, config = who.upper(), vars.config
    name = env.get(f"GIT_{upper}_NAME")
    if name is None:
        name = config.get(f"{who}.name") or config.get("user.name")
    email = env.get(f"GIT_{upper}_EMAIL")
    if email is None:
        email = config.get(f"{who}.email") or (config["user.email"] if "user.email" in config else env.get("EMAIL"))
    if name is None or email is None:
        return None
    name, email = without_crud(name), without_crud(email)
    return (name, email) if name and email else None


def identity(vars: Vars | None) -> tuple[str, str] | None:
    """The author identity git would commit with as the environment is now, when it is set explicitly; None
    when only git's strict check can tell (``Repo.identity``)."""
    return explicit(vars, "author", git_env()) if vars is not None else None


def ident_line(vars: Vars, who: str, env: Mapping[str, str], now: float) -> str | None:
    """The ``author``/``committer`` value git writes into a commit made under ``env`` at ``now``; None when git
    must make it (a guessed identity, or a date we cannot read from ``git var``)."""
    person = explicit(vars, who, env)
    if person is None:
        return None
    if env.get(f"GIT_{who.upper()}_DATE"):  # git parsed it for ``git var``: take its reading
        m = re.match(_IDENT, (vars.author if who == "author" else vars.committer) or "")
        if m is None:
            return None
        date = m.group(3)
    else:
        secs = int(now)
        offset = time.localtime(secs).tm_gmtoff // 60
        sign = "-" if offset < 0 else "+"
        date = f"{secs} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    return f"{person[0]} <{person[1]}> {date}"

