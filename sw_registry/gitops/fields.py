"""The fields every part of ``Repo`` uses (repo.py puts the parts together)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .run import run_git


class RepoFields:
    """The fields of ``Repo`` (declared for the mixins below it, which use them; ``Repo`` sets them)."""

    toplevel: Path
    git_dir: Path
    common_dir: Path
    prefix: str  # root relative to toplevel, posix, '' or ending with '/'
    root: Path
    hooks_dir: Path  # where git looks for hooks (core.hooksPath or .git/hooks)

    def git(self, *args: str, **kw: object) -> subprocess.CompletedProcess[bytes]:
        return run_git(self.root, *args, **kw)  # type: ignore[arg-type]

    def head_commit(self) -> str | None:  # Repo's (repo.py)
        raise NotImplementedError
