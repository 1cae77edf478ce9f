"""What moved in git since a commit the registry matched: the paths under .specweave/ that HEAD's move and git's
index changed (a write's dirty check after the user's own commit, checkout or ``git add``: store/worktree_state.py)."""

from __future__ import annotations

from . import spawn as subprocess  # subprocess's calls without importing subprocess.py (spawn.py)
from .run import git_env

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from .repo import Repo


def moved_paths(repo: Repo, old: str, new: str) -> list[str] | None:
    """The paths under .specweave/ that HEAD's move from ``old`` to ``new`` changed (``git diff-tree``) or that
    git's index has otherwise than HEAD (``git diff-index --cached``): what a stat snapshot taken when the
    registry matched ``old`` cannot see by itself (a commit, checkout, merge or reset since; ``git add`` or
    ``git rm --cached``). Neither looks at the work tree. None when git cannot say (``old`` is gone, no HEAD)."""
    env = git_env()
    spec = ["--", ".specweave"]
    procs = [
        subprocess.Popen(
            ["git", "diff-index", "--cached", "-z", "--name-only", "--no-renames", new, *spec],
            cwd=repo.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
    ]
    if old != new:
        procs.append(
            subprocess.Popen(
                ["git", "diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new, *spec],
                cwd=repo.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        )
    found: set[str] = set()
    ok = True
    for proc in procs:
        out, _ = proc.communicate()
        ok = ok and proc.returncode == 0
        for path in out.decode("utf-8", "surrogateescape").split("\0"):
            if path:
                found.add(path[len(repo.prefix) :] if repo.prefix and path.startswith(repo.prefix) else path)
    return sorted(found) if ok else None
