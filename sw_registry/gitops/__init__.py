"""Every git call lives here: repository checks, the write lock, commits with trailers, reads at a rev.

Local work calls the ``git`` binary: importing GitPython costs 100-250 ms, more than a whole promote may
take, and history and audit need one ``git log`` with its trailers, which the binary gives directly.
Network work (clone, fetch, push: environments and ``--push``) goes through GitPython, imported lazily in
``net``, where its import is small beside the network round trip.

The package's modules: ``run`` (the git binary), ``repo`` (``Repo``: state, status, the write lock), ``commits``
(making a commit), ``housekeeping`` (git's automatic housekeeping after one), ``direct`` and ``loose`` (a commit
whose objects we write ourselves), ``gitvars`` (git's settings and identities, ``git var -l``), ``history`` (log,
trailers, reads at a revision), ``messages`` and ``net`` (GitPython).
"""

from __future__ import annotations

from .commits import COMMIT_HOOKS
from .housekeeping import start_housekeeping
from .messages import body_line, commit_message, one_line
from .net import NetProgress, net_clone, net_fetch, net_push, redact_url
from .repo import LOCK_NAME, Repo, open_repo, write_lock
from .run import BIG_FILE_THRESHOLD, FAST_OBJECTS, git_env, run_git, settle

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
