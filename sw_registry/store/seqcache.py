"""seq -> commit id of each model's events, kept in the cache so registry-history need not walk all of git log.

One small file per model in ``.specweave/cache/sw-registry/seq-commits/``, valid for one HEAD commit:

- HEAD is that commit (read from the ref file, no git process): the map is used as it is;
- HEAD descends from it (a pull, a merge, commits made by hand): only the new commits' trailers are read
  (``git log OLD..HEAD``), newest winning as in a full walk;
- anything else (a checkout of another branch, a rebase, a reset, an amended commit): rebuilt from ``git log``.

A registry write that commits adds its own seqs when the map was current for the commit it built on.
"""

from __future__ import annotations

import marshal
import sys
from pathlib import Path

from .files import atomic_write

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout

SEQ_FORMAT = 1


def _path(layout: Layout, name: str) -> Path:
    return layout.cache_dir / "seq-commits" / f"{name}.marshal"


def _load(layout: Layout, name: str) -> dict[str, Any] | None:
    try:
        data = marshal.loads(_path(layout, name).read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != (SEQ_FORMAT, sys.version_info[:2]):
        return None
    return data


def _save(layout: Layout, name: str, head: str, seqs: dict[int, str]) -> None:
    from .index import ensure_ignored

    path = _path(layout, name)
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            ensure_ignored(path.parent)
        data = {"format": (SEQ_FORMAT, sys.version_info[:2]), "head": head, "seqs": seqs}
        atomic_write(path, marshal.dumps(data), durable=False)
    except OSError:
        pass  # a read-only checkout: history walks git log each time


def seq_commits(layout: Layout, repo: Repo, name: str) -> dict[int, str]:
    """seq -> commit id for model ``name`` as of HEAD (what ``Repo.seq_commits`` returns, from the cache)."""
    head = repo.head_commit()
    if head is None:
        return {}
    cached = _load(layout, name)
    if cached is not None and cached["head"] == head:
        return dict(cached["seqs"])
    if cached is not None and repo.is_ancestor(cached["head"], head):
        seqs = dict(cached["seqs"])
        seqs.update(repo.seq_commits(name, since=cached["head"]))
    else:
        seqs = repo.seq_commits(name)
    _save(layout, name, head, seqs)
    return seqs


def note_commit(layout: Layout, name: str, parent: str | None, commit: str, seq_trailer: str | None) -> None:
    """A write committed ``commit`` on ``parent`` with Registry-Seq ``seq_trailer``: extend a current map."""
    if not seq_trailer or seq_trailer.strip("0123456789, "):  # digits, commas and spaces only (no regex)
        return
    cached = _load(layout, name)
    if cached is None or parent is None or cached["head"] != parent:
        return  # not current: the next history brings it up to date from git
    seqs = dict(cached["seqs"])
    for seq in seq_trailer.replace(" ", "").split(","):
        if seq.isdigit():
            seqs[int(seq)] = commit
    _save(layout, name, commit, seqs)
