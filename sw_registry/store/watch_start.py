"""A watcher started by a read of a big registry, without being asked (issue 10), the way Gradle and Nx start
their daemons.

A memoised read (store/readcache.py) that had to stat ``AUTO_MIN_FILES`` or more metadata.json files because no
watcher answered starts one in the background (``python -m sw_registry.watcher run --auto``, its output appended to
``.specweave/cache/sw-registry/watcher.log``) and goes on without waiting: the next reads ask it instead of
statting every file. ``SW_REGISTRY_WATCHER`` says when:

    auto   (the default)  start one for a registry of AUTO_MIN_FILES version folders or more
    on                    start one for a registry of any size
    off    (the default in a CI job, CI_VARIABLES: a job's processes should end with it)   never start one

A watcher started by hand (``python -m sw_registry.watcher start``) is used whatever the setting. Another value
is a ``usage`` error. The mtime of ``NOT_BEFORE`` is the earliest time of the next automatic start: a read that
starts one sets it ``RETRY`` seconds ahead (so concurrent reads do not start several, and one that cannot run is
not started again at every read), and a watcher started this way that cannot vouch for the registry's files (a
network file system, a linked metadata.json: watcher/tree.py) sets it ``DECLINED`` seconds ahead as it stops.

Imported only when a read is about to stat AUTO_MIN_FILES files or SW_REGISTRY_WATCHER is set (to check it):
os, sys and time only.
"""

from __future__ import annotations

import os
import sys
import time

from .watch_client import AUTO_MIN_FILES, MARKER, ask

RETRY = 600.0
DECLINED = 86400.0
NOT_BEFORE = ".specweave/cache/sw-registry/watcher.auto"
VALUES = {"auto": "auto", "on": "on", "off": "off", "1": "on", "true": "on", "yes": "on", "0": "off",
          "false": "off", "no": "off"}


# set by CI services in their jobs (CI by most; Azure Pipelines, Jenkins, TeamCity and CodeBuild set their own)
CI_VARIABLES = ("CI", "TF_BUILD", "JENKINS_URL", "TEAMCITY_VERSION", "CODEBUILD_BUILD_ID")


def mode() -> str:
    """``auto``, ``on`` or ``off``: ``SW_REGISTRY_WATCHER``, else ``off`` in a CI job (``CI_VARIABLES``), else
    ``auto``. ValueError for another value."""
    raw = os.environ.get("SW_REGISTRY_WATCHER", "").strip()
    if not raw:
        return "off" if any(in_ci(os.environ.get(name, "")) for name in CI_VARIABLES) else "auto"
    try:
        return VALUES[raw.lower()]
    except KeyError:
        raise ValueError(f"SW_REGISTRY_WATCHER={raw!r}: expected auto, on or off") from None


def in_ci(value: str) -> bool:
    value = value.strip().lower()
    return bool(value) and value not in ("0", "false", "no")


def wanted(n_files: int) -> bool:
    """Whether a read that stats ``n_files`` version files with no watcher answering should start one (ValueError
    for a bad SW_REGISTRY_WATCHER)."""
    setting = mode()
    return setting == "on" or (setting == "auto" and n_files >= AUTO_MIN_FILES)


def start(root: str) -> bool:
    """Start a watcher of ``root`` in the background unless one runs or ``NOT_BEFORE`` says not yet; whether one was
    started. Never raises: a read goes on as it would without one."""
    if not sys.platform.startswith("linux") or not sys.executable:
        return False
    cache = f"{root}/.specweave/cache/sw-registry"
    now = time.time()
    try:
        if os.stat(f"{root}/{NOT_BEFORE}").st_mtime > now:
            return False
    except FileNotFoundError:
        pass
    except OSError:
        return False
    if os.path.exists(f"{root}/{MARKER}") and ask(root, b"status\n", limit=1 << 20) is not None:
        return False  # one runs that cannot vouch for the files now (its status says why): leave it be
    if not os.path.isdir(cache):
        return False  # made (and ignored by git) when the memo keeps its first answer: the next read starts it
    try:
        hold_off(root, RETRY)
        log = os.open(f"{cache}/watcher.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.posix_spawn(
                    sys.executable, [sys.executable, "-m", "sw_registry.watcher", "run", "--root", root, "--auto",
                                     "--json"], os.environ,
                    file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, log, 1),
                                  (os.POSIX_SPAWN_DUP2, log, 2)],
                    setsid=True,
                )
            finally:
                os.close(null)
        finally:
            os.close(log)
    except OSError:
        return False
    return True


def hold_off(root: str, seconds: float) -> None:
    """No automatic start of a watcher of ``root`` for ``seconds`` (OSError when the cache cannot be written)."""
    path = f"{root}/{NOT_BEFORE}"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    now = time.time()
    os.utime(path, (now, now + seconds))
