"""Every git call lives here: repository checks, the write lock, commits with trailers, reads at a rev.

Local work calls the ``git`` binary: importing GitPython costs 100-250 ms, more than a whole promote may
take, and history and audit need one ``git log`` with its trailers, which the binary gives directly.
Network work (clone, fetch, push: environments and ``--push``) goes through GitPython, imported lazily in
``net``, where its import is small beside the network round trip.

The package's modules: ``run`` (the git binary), ``repo`` (``Repo``: state, status, the write lock), ``commits``
(making a commit), ``housekeeping`` (git's automatic housekeeping after one), ``direct`` and ``loose`` (a commit
whose objects we write ourselves; ``index_file``, git's index for one with a big artifact), ``gitvars`` (git's
settings and identities, ``git var -l``), ``history`` (log, trailers, reads at a revision), ``messages`` and
``net`` (GitPython); ``spawn`` starts git for the others without importing subprocess.
``net`` and ``history`` load on first use: no write or plain read needs them (tests/unit/test_lean_imports.py).
"""

from __future__ import annotations

from .commits import COMMIT_HOOKS
from .housekeeping import start_housekeeping
from .lock import write_lock
from .messages import body_line, commit_message, one_line
from .repo import Repo, open_repo
from .run import BIG_FILE_THRESHOLD, FAST_OBJECTS, LOCK_NAME, git_env, run_git, settle

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .net import NetProgress, net_clone, net_fetch, net_push, redact_url
_LAZY = ("NetProgress", "net_clone", "net_fetch", "net_push", "redact_url")  # from net.py, on first use

__all__ = [
    "BIG_FILE_THRESHOLD",
    "COMMIT_HOOKS",
    "FAST_OBJECTS",
    "LOCK_NAME",
    "NetProgress",
    "Repo",
    "body_line",
    "commit_message",
    "git_env",
    "net_clone",
    "net_fetch",
    "net_push",
    "one_line",
    "open_repo",
    "redact_url",
    "run_git",
    "settle",
    "start_housekeeping",
    "write_lock",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import net

    value = getattr(net, name)
    globals()[name] = value
    return value
