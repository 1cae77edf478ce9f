"""Finding the repository without a ``git rev-parse`` process, in the plain case only (issue 10).

A write asks git where its repository is (``repo.open_repo``: work tree top, git dir, common dir, hooks folder):
one process, ~4 ms. In the plain case the answer is on disk: walking up from the project root, the first folder
with a ``.git`` *folder* holding ``HEAD``, ``objects/`` and ``refs/``. ``plain_repo`` answers only then, with git's
settings from ``git var -l`` (the write starts it anyway; gitvars.py), and returns None for everything else, where
``git rev-parse`` answers as before:

- any ``GIT_*`` variable other than identities, dates, tracing, transport and the config-file switches (``GIT_CEILING_
  DIRECTORIES``, ``GIT_DISCOVERY_ACROSS_FILESYSTEM``, ``GIT_COMMON_DIR``, ``GIT_CONFIG_PARAMETERS``...);
- a ``.git`` file (a linked worktree, a submodule), a folder on the way up that is itself a git dir (a bare
  repository, or the inside of ``.git``), a ``commondir`` file, a file system boundary crossed on the way up;
- a folder on the way not owned by us (git's ``safe.directory`` check decides);
- ``core.bare`` true, ``core.worktree``, ``core.hooksPath``, a repository format other than 0/1 or any extension but
  ``objectFormat`` in git's settings; or settings git could not give.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from .gitvars import PendingVars

_HARMLESS_ENV = frozenset({
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE", "GIT_TERMINAL_PROMPT", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM",
    "GIT_TRACE", "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF", "GIT_TRACE_PERFORMANCE", "GIT_PAGER",
    "GIT_EDITOR", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS",
    # what run.git_env strips before git runs, so rev-parse never sees them either
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE", "GIT_PREFIX",
})
_HARMLESS_PREFIXES = ("GIT_TRACE", "GIT_SSL_", "GIT_HTTP_", "GIT_CURL_", "GIT_LFS_")  # transport and tracing
_SETTINGS_FOR_GIT = ("core.worktree", "core.hookspath")


def plain_repo(root: Path, pending: PendingVars | None) -> tuple[Path, Path, Path, Path] | None:
    """(work tree top, git dir, common dir, hooks folder) of the repository holding ``root`` in the plain case (see
    the module), else None: then ``git rev-parse`` must tell."""
    if pending is None or any(_questioned(k) for k in os.environ):
        return None
    found = _walk_up(root)
    if found is None:
        return None
    vars = pending.result()
    if vars is None:
        return None
    config = vars.config
    if any(k in config for k in _SETTINGS_FOR_GIT) or vars.flag("core.bare"):
        return None
    if (config.get("core.repositoryformatversion") or "0").strip() not in ("0", "1"):
        return None
    if any(k.startswith("extensions.") and k != "extensions.objectformat" for k in config):
        return None
    top = found
    git_dir = top / ".git"
    return top, git_dir, git_dir, git_dir / "hooks"


def _questioned(name: str) -> bool:
    """Whether the environment variable ``name`` could change where git finds the repository or what it reads."""
    return name.startswith("GIT_") and name not in _HARMLESS_ENV and not name.startswith(_HARMLESS_PREFIXES)


def _walk_up(root: Path) -> Path | None:
    """The real path of the folder holding ``.git`` (a folder, a plain git dir) above or at ``root``, else None."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    here = os.path.realpath(root)
    try:
        device = os.stat(here).st_dev
    except OSError:
        return None
    while True:
        try:
            st = os.lstat(f"{here}/.git")
        except FileNotFoundError:
            st = None
        except OSError:
            return None
        if st is not None:
            if not stat.S_ISDIR(st.st_mode) or _is_git_dir(f"{here}/.git") is not True:
                return None  # a .git file (worktree, submodule), a link, or a folder git would question
            if os.path.exists(f"{here}/.git/commondir"):
                return None
            if uid is None or any(os.stat(p).st_uid != uid for p in (here, f"{here}/.git")):
                return None  # git's safe.directory check decides
            return Path(here)
        if _is_git_dir(here) is not False:
            return None  # a bare repository, or inside a git dir
        parent = os.path.dirname(here)
        if parent == here:
            return None
        try:
            if os.stat(parent).st_dev != device:
                return None  # git stops at a file system boundary
        except OSError:
            return None
        here = parent


def _is_git_dir(path: str) -> bool | None:
    """Whether ``path`` looks like a git dir (HEAD, objects/, refs/): True, False, or None when only partly."""
    marks = [os.path.isfile(f"{path}/HEAD"), os.path.isdir(f"{path}/objects"), os.path.isdir(f"{path}/refs")]
    if all(marks):
        return True
    return None if any(marks) and marks[0] else False
