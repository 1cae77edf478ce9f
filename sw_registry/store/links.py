"""Symbolic links that would take a registry write outside the repository (SPEC §8): refused before it writes."""

from __future__ import annotations

import os

from ..errors import IntegrityError
from ..layout import HIDDEN_GROUPS, INCREMENTS, SPECWEAVE

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from ..gitops import Repo
    from ..layout import Layout


def refuse_escaping_links(layout: Layout, repo: Repo) -> None:
    """Before anything is written: ``.specweave``, the increments folder and the increments themselves must not
    be symlinks that lead outside the repository (SPEC §8). This costs one scandir (the entries' types come with
    it); the folders inside an increment (``models/``, ``registry/``, a version folder) are checked by
    ``Transaction.check_contained`` before the first file is written into them."""
    for sub in (SPECWEAVE, f"{SPECWEAVE}/{INCREMENTS}"):
        refuse_escaping_link(layout, repo, sub)
    base = layout.increments_dir
    for group in ("", *HIDDEN_GROUPS):
        folder = base / group if group else base
        try:
            with os.scandir(folder) as it:
                links = [e.name for e in it if e.is_symlink()]
        except (FileNotFoundError, NotADirectoryError):
            continue
        prefix = f"{SPECWEAVE}/{INCREMENTS}/{group + '/' if group else ''}"
        for name in links:
            refuse_escaping_link(layout, repo, prefix + name)


def refuse_escaping_link(layout: Layout, repo: Repo, rel: str) -> None:
    """``integrity`` if root-relative ``rel`` is a symlink whose target is outside the repository's work tree."""
    path = layout.abs(rel)
    if not os.path.islink(path):
        return
    target = path.resolve()
    top = repo.toplevel.resolve()
    if (target != top and top not in target.parents) or (top / ".git") in (target, *target.parents):
        raise IntegrityError(
            f"{rel} is a symbolic link to {target}, outside the repository's work tree; a write there would "
            "leave the project",
            hint=f"replace the link {rel} with a real folder inside the repository",
            details={"path": rel, "target": str(target)},
        )
