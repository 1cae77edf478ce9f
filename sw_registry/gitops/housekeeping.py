"""Git's automatic housekeeping after a registry commit, as ``git commit`` starts it after each commit.

``git commit`` runs ``git maintenance run --auto``; so do we, detached (``start_housekeeping``), but only when git
could do something: a process start costs a write ~3 ms, and almost always git finds nothing due. Without any
``maintenance.*`` or ``gc.*`` setting, git before 2.54 runs only its ``gc`` task under ``--auto``, and only when
``need_to_gc`` (builtin/gc.c) says so: more than ``ceil(gc.auto / 256)`` = 27 loose objects in ``objects/17/``
(gc.auto defaults to 6,700; names of the object format's length only), or more than ``gc.autoPackLimit`` = 50
local packs without a ``.keep`` file. ``due`` replicates exactly that; anything else (a ``maintenance.*`` or
``gc.*`` setting, git 2.54 or later, whose default "geometric" strategy has other tasks, or a git whose version or
settings we could not read) starts git as before and lets it decide. Git before 2.29 has no ``maintenance``.
"""

from __future__ import annotations

import os

from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)
from .run import git_env

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from pathlib import Path

    from .repo import Repo

VERSION_FILE = "sw-registry-git-version"  # in the git dir: the git binary's stat and its version
LOOSE_LIMIT = -(-6700 // 256)  # gc.auto's default over 256, rounded up: loose objects in objects/17 git tolerates
PACK_LIMIT = 50  # gc.autoPackLimit's default
_HOUSEKEEPING: list[subprocess.Popen[bytes]] = []


def start_housekeeping(cwd: Path) -> None:
    """Start git's automatic housekeeping, as ``git commit`` does after each commit, without waiting for it.

    ``git maintenance run --auto`` (git 2.29+; with an older git this does nothing) decides by the user's own
    gc.* and maintenance.* settings whether anything is due, and usually exits at once. It runs detached, in its own
    session, with nothing on the terminal; our -c settings are not passed on, so a repack keeps git's compression.
    """
    env = {k: v for k, v in git_env().items() if k not in ("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")}
    _HOUSEKEEPING[:] = [p for p in _HOUSEKEEPING if p.poll() is None]  # reap the ones that finished
    try:
        proc = subprocess.Popen(
            ["git", "maintenance", "run", "--auto", "--quiet"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return
    _HOUSEKEEPING.append(proc)  # it may outlive this process: then init reaps it


def after_commit(repo: Repo, config: dict[str, str | None] | None) -> None:
    """After a registry commit: start git's housekeeping when it may have something to do (``due``)."""
    if due(repo, config):
        start_housekeeping(repo.root)


def due(repo: Repo, config: dict[str, str | None] | None) -> bool:
    """Whether ``git maintenance run --auto`` could do anything here, given git's settings (``git var -l``'s, None
    when unknown): False only where git's own check is replicated and finds nothing (see the module)."""
    if config is None or any(k.startswith(("maintenance.", "gc.")) for k in config):
        return True
    version = git_version(repo)
    if version is None or version >= (2, 54):
        return True
    if version < (2, 29):
        return False  # no ``git maintenance``: the spawn would do nothing
    objects = repo.common_dir / "objects"
    name_len = 62 if (config.get("extensions.objectformat") or "sha1").lower() == "sha256" else 38
    hexdigits = frozenset("0123456789abcdef")
    loose = 0
    try:
        with os.scandir(objects / "17") as it:
            for entry in it:
                name = entry.name
                if len(name) == name_len and hexdigits.issuperset(name):
                    loose += 1
                    if loose > LOOSE_LIMIT:
                        return True
    except (FileNotFoundError, NotADirectoryError):
        pass
    try:
        names = set(os.listdir(objects / "pack"))
    except (FileNotFoundError, NotADirectoryError):
        return False
    packs = [n for n in names if n.endswith(".idx") and n[:-4] + ".pack" in names and n[:-4] + ".keep" not in names]
    return len(packs) > PACK_LIMIT


def git_version(repo: Repo) -> tuple[int, int] | None:
    """(major, minor) of the ``git`` on PATH: remembered in the git dir against the binary's stat (``git version``
    runs again when the binary changes); None when it cannot be told."""
    exe = _which_git()
    if exe is None:
        return None
    st = os.stat(exe)
    key = f"{exe}\t{st.st_mtime_ns}\t{st.st_size}\t{st.st_ino}"
    path = repo.git_dir / VERSION_FILE
    try:
        kept_key, _, kept = path.read_text(encoding="utf-8").partition("\n")
        if kept_key == key:
            return _parse_version(kept)
    except (OSError, UnicodeDecodeError):
        pass
    try:
        out = subprocess.run([exe, "version"], capture_output=True, env=git_env(), check=False).stdout
    except OSError:
        return None
    text = out.decode("utf-8", "replace").strip()
    tmp = path.with_name(f"{VERSION_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(f"{key}\n{text}\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return _parse_version(text)


def _which_git() -> str | None:
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", "git")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _parse_version(text: str) -> tuple[int, int] | None:
    """``git version 2.39.5`` (or ``2.45.1.windows.1``, ``2.50.0-rc1``...) -> (2, 39)."""
    parts = text.strip().split()
    if len(parts) < 3 or parts[:2] != ["git", "version"]:
        return None
    numbers = parts[2].split(".")
    try:
        return int(numbers[0]), int(numbers[1].split("-")[0])
    except (IndexError, ValueError):
        return None
