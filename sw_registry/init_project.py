"""Project set-up: ``init`` (SPEC §7.16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import NotFound
from .gitops import run_git
from .layout import INCREMENTS, SPECWEAVE

CACHE_IGNORE = f"{SPECWEAVE}/cache/"  # the line init adds to .gitignore (SPEC §7.16)


def init_project(path: str | Path, *, git: bool = False) -> dict[str, Any]:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise NotFound(f"folder {str(root)!r} does not exist", hint="create it first")
    root = root.resolve()
    created: list[str] = []
    if git and run_git(root, "rev-parse", "--git-dir", check=False).returncode != 0:
        run_git(root, "init", "-q")
        created.append(".git/")
    for rel in (SPECWEAVE, f"{SPECWEAVE}/{INCREMENTS}"):
        folder = root / rel
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(rel + "/")
    gitignore = root / ".gitignore"
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if CACHE_IGNORE not in text.splitlines() and CACHE_IGNORE.rstrip("/") not in text.splitlines():
        if text and not text.endswith("\n"):
            text += "\n"
        gitignore.write_text(text + CACHE_IGNORE + "\n", encoding="utf-8")
        created.append(".gitignore entry " + CACHE_IGNORE)
    return {"root": str(root), "created": created}
