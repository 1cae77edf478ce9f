"""seq -> commit id of each model's events, kept in the cache so registry-history need not walk all of git log.

Two small files per model in ``.specweave/cache/sw-registry/seq-commits/``, valid for one HEAD commit:

- ``<name>.marshal``: a header line, the commit the map is valid for on a line of its own, then the marshalled map;
- ``<name>.delta``: what writes added since (issue 10): each record ``(parent, commit, {seq: commit})``,
  length-prefixed, appended by a write that committed ``commit`` on ``parent``. A record applies when ``parent`` is
  the commit the map is valid for so far, which then becomes ``commit``; a record that does not chain (left by a
  rebuild racing a write) is passed over, a record cut short (a killed write) ends the delta.

A write thus appends ~100 bytes instead of reading and rewriting the whole map (3,334 seqs at 10,002 versions); the
map is rewritten once the delta passes ``COMPACT_BYTES``, or when a read brings it up to date. The map found is used:

- HEAD is that commit (read from the ref file, no git process): as it is;
- HEAD descends from it (a pull, a merge, commits made by hand): only the new commits' trailers are read
  (``git log OLD..HEAD``), newest winning as in a full walk;
- anything else (a checkout of another branch, a rebase, a reset, an amended commit): rebuilt from ``git log``.
"""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path

from .files import atomic_write

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..gitops.history import PendingSeqs
    from ..layout import Layout

SEQ_FORMAT = 2  # 2: the map's commit on a line of its own, and the appended delta
HEADER = f"sw-registry seq-commits {SEQ_FORMAT} {sys.version_info[0]}.{sys.version_info[1]}\n".encode()
COMPACT_BYTES = 8 * 1024  # a delta larger than this is folded into the map by the next write


def _path(layout: Layout, name: str) -> Path:
    return layout.cache_dir / "seq-commits" / f"{name}.marshal"


def _delta_path(layout: Layout, name: str) -> Path:
    return layout.cache_dir / "seq-commits" / f"{name}.delta"


def _read_base(layout: Layout, name: str, *, whole: bool) -> tuple[str, dict[int, str] | None] | None:
    """The commit the saved map is valid for, and (``whole``) the map; None when there is none of this format."""
    try:
        with open(_path(layout, name), "rb") as fh:
            data = fh.read() if whole else fh.read(len(HEADER) + 80)
        if not data.startswith(HEADER):
            return None
        end = data.index(b"\n", len(HEADER))
        seqs = marshal.loads(memoryview(data)[end + 1 :]) if whole else None
        head = data[len(HEADER) : end].decode("ascii")
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if whole and not isinstance(seqs, dict):
        return None
    return head, seqs


def _chain(layout: Layout, name: str, head: str) -> tuple[str, list[dict[int, str]], int]:
    """The commit the map is valid for once the delta's records that chain from ``head`` are applied, those
    records' seqs in order, and the delta's size."""
    try:
        raw = _delta_path(layout, name).read_bytes()
    except OSError:
        return head, [], 0
    added: list[dict[int, str]] = []
    at = 0
    while at + 4 <= len(raw):
        size = int.from_bytes(raw[at : at + 4], "little")
        chunk = raw[at + 4 : at + 4 + size]
        if len(chunk) != size:
            break  # cut short by a killed write: what follows is not there
        try:
            parent, commit, seqs = marshal.loads(chunk)
        except (EOFError, ValueError, TypeError):
            break
        at += 4 + size
        if parent == head and isinstance(seqs, dict):
            head = commit
            added.append(seqs)
    return head, added, len(raw)


def _load(layout: Layout, name: str) -> dict[str, Any] | None:
    base = _read_base(layout, name, whole=True)
    if base is None:
        return None
    head, added, _size = _chain(layout, name, base[0])
    seqs = base[1] or {}
    for more in added:
        seqs.update(more)
    return {"head": head, "seqs": seqs}


def _save(layout: Layout, name: str, head: str, seqs: dict[int, str]) -> None:
    """Write the whole map, valid for ``head``, and drop the delta (its records are in the map, or stale)."""
    from .index import ensure_ignored

    path = _path(layout, name)
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            ensure_ignored(path.parent)
        atomic_write(path, HEADER + head.encode("ascii") + b"\n" + marshal.dumps(seqs), durable=False)
        try:
            os.unlink(_delta_path(layout, name))
        except FileNotFoundError:
            pass
    except OSError:
        pass  # a read-only checkout: history walks git log each time


def start(layout: Layout, repo: Repo, name: str) -> PendingSeqs | None:
    """When no map of ``name`` is saved (a fresh clone, a deleted cache), the full walk of git log it needs, started
    now: it runs while the caller reads the metadata (each ~0.8 s at 10,002 versions). None otherwise."""
    if _read_base(layout, name, whole=False) is not None:
        return None
    head = repo.head_commit()
    if head is None:
        return None
    from ..gitops.history import PendingSeqs

    return PendingSeqs(repo, name, head)


def seq_commits(layout: Layout, repo: Repo, name: str, pending: PendingSeqs | None = None) -> dict[int, str]:
    """seq -> commit id for model ``name`` as of HEAD (what ``Repo.seq_commits`` returns, from the cache).
    ``pending``: the walk ``start`` began, used if HEAD is still the commit it walked from."""
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
        walked = pending.result() if pending is not None and pending.head == head else None
        seqs = walked if walked is not None else repo.seq_commits(name)
    _save(layout, name, head, seqs)
    return seqs


def note_commit(layout: Layout, name: str, parent: str | None, commit: str, seq_trailer: str | None) -> None:
    """A write committed ``commit`` on ``parent`` with Registry-Seq ``seq_trailer``: extend a current map (append
    to its delta; the map itself is neither read nor rewritten, but for a delta grown past ``COMPACT_BYTES``)."""
    if not seq_trailer or seq_trailer.strip("0123456789, "):  # digits, commas and spaces only (no regex)
        return
    base = _read_base(layout, name, whole=False) if parent is not None else None
    if base is None:
        return
    head, _added, size = _chain(layout, name, base[0])
    if head != parent:
        return  # not current: the next history brings it up to date from git
    seqs = {int(seq): commit for seq in seq_trailer.replace(" ", "").split(",") if seq.isdigit()}
    if size >= COMPACT_BYTES:
        cached = _load(layout, name)
        if cached is not None and cached["head"] == parent:
            _save(layout, name, commit, {**cached["seqs"], **seqs})
        return
    record = marshal.dumps((parent, commit, seqs))
    try:
        with open(_delta_path(layout, name), "ab") as fh:
            fh.write(len(record).to_bytes(4, "little") + record)
    except OSError:
        pass  # a read-only cache folder: the next history reads the new commits from git
