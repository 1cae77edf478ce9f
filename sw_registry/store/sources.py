"""Where the registry is read from: the work tree, or a commit's tree (``--rev``), behind one interface."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..layout import Layout

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, Protocol

    from ..gitops import Repo
else:
    Protocol = object  # the interface is for mypy; at run time a plain base (no typing import)


class Source(Protocol):
    """Where registry files are read from: the work tree, or a commit's tree."""

    layout: Layout
    cache_key: str

    def metadata_files(self) -> dict[str, Any]:
        """root-relative path of every version's metadata.json -> a fingerprint that changes with it."""

    def read(self, rel: str) -> bytes | None:
        """A file's bytes, or None if it does not exist."""

    def fingerprint(self, rel: str) -> Any:
        """A fingerprint of one file (None if missing)."""


class WorkTreeSource:
    cache_key = "worktree"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def metadata_files(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        root = str(self.layout.root)
        stat = os.stat
        for inc in self.layout.increments():
            models = f"{root}/{inc.rel}/models"
            try:
                fd = os.open(models, os.O_RDONLY | os.O_DIRECTORY)
            except (FileNotFoundError, NotADirectoryError):
                continue
            try:
                with os.scandir(fd) as it:
                    names = [e.name for e in it if not e.name.startswith(".")]
                prefix = f"{inc.rel}/models/"
                for name in names:
                    try:  # relative to the open folder: the kernel resolves two path parts, not ten
                        st = stat(f"{name}/metadata.json", dir_fd=fd)
                    except (FileNotFoundError, NotADirectoryError):
                        continue
                    out[f"{prefix}{name}/metadata.json"] = (st.st_mtime_ns, st.st_size, st.st_ino)
            finally:
                os.close(fd)
        return out

    def read(self, rel: str) -> bytes | None:
        try:
            with open(f"{self.layout.root}/{rel}", "rb") as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def fingerprint(self, rel: str) -> Any:
        try:
            st = os.stat(f"{self.layout.root}/{rel}")
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)


class GitRevSource:
    """The registry as of a commit, read from git objects without a checkout (``--rev``)."""

    def __init__(self, layout: Layout, repo: Repo, rev: str) -> None:
        self.layout = layout
        self.repo = repo
        self.commit = repo.resolve_rev(rev)
        self.cache_key = self.commit
        self._tree = repo.ls_tree(self.commit, ".specweave")
        self._blobs: dict[str, bytes] = {}

    def metadata_files(self) -> dict[str, Any]:
        out = {}
        for rel, (kind, oid, _size) in self._tree.items():
            parts = rel.split("/")
            if (
                kind == "blob"
                and len(parts) >= 6
                and parts[-1] == "metadata.json"
                and parts[-3] == "models"
                and self.layout.increment_of(rel) == parts[-4]
            ):
                out[rel] = oid
        return out

    def read(self, rel: str) -> bytes | None:
        entry = self._tree.get(rel)
        if entry is None:
            return None
        oid = entry[1]
        if oid not in self._blobs:
            self._blobs.update(self.repo.read_blobs([oid]))
        return self._blobs[oid]

    def prefetch(self, rels: Iterable[str]) -> None:
        oids = [self._tree[r][1] for r in rels if r in self._tree and self._tree[r][1] not in self._blobs]
        self._blobs.update(self.repo.read_blobs(oids))

    def fingerprint(self, rel: str) -> Any:
        entry = self._tree.get(rel)
        return entry[1] if entry else None

    def entry(self, rel: str) -> tuple[str, str, int] | None:
        return self._tree.get(rel)

    def under(self, rel_dir: str) -> dict[str, tuple[str, str, int]]:
        prefix = rel_dir.rstrip("/") + "/"
        return {r: e for r, e in self._tree.items() if r.startswith(prefix)}
