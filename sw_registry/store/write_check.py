"""The dirty check of a write, narrowed to what the write reads and rewrites (issue 10).

The full check (``dirty.dirty_paths_for_write``) stats every file of the registry: ~20,900 stats at 10,000 versions.
When the last write left a stat snapshot (``worktree_state.py``) and HEAD and git's index are as it found them, a write
checks instead, each part before it reads or changes it:

- at the start: registry.yaml, the living doc, the journal (a left journal means the full check);
- when it first reads a model's versions (``Index.records_of``): every increment's ``models/`` folder, the
  metadata.json of each version folder of that model in every increment (one stat; the folder itself is not stat'ed),
  each version folder the snapshot does not know (a new folder of any model: the folder and its metadata.json), and
  the folders the snapshot had for the model that are gone;
- before it writes into an increment outside those folders (a derived file, deployment_history.md, another model's
  folder): that whole increment, as the full check does.

Each entry that differs from the snapshot (or is recent: git's racy rule) is given to a path-limited ``git status``;
the dirty ones refuse the write with ``dirty_registry``, as before. What is not checked: other models' folders in
increments the write does not change, and a file beside metadata.json created in or removed from one of the written
model's known version folders (their changes stay uncommitted and untouched; ``registry-verify`` and the full check
find them). Anything else (``Index.names()``, a write outside the increments) falls back to the
full check, once.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from ..layout import POLICY_REL
from . import worktree_state as W

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout
    from .index import Index

Fp3 = tuple[int, int, int]


class ScopedCheck:
    """What one write has checked so far, and the fresh stat entries it took (merged into the next snapshot)."""

    def __init__(self, layout: Layout, repo: Repo, before: W.Snapshot, docs_path: str | None, incs: list[str]) -> None:
        self.layout, self.repo, self.before, self.docs_path = layout, repo, before, docs_path
        self.root = str(layout.root)
        self.incs = incs
        self.limit = before["taken"] - W.RACY_NS
        self.top: dict[str, Any] = {}
        self.entries: dict[str, dict[str, Any]] = {}  # increment -> key -> entry stat'ed and checked by this write
        self.gone: set[tuple[str, str]] = set()  # (increment, key) the snapshot had and the work tree has not
        self.models: set[str] = set()
        self.unstated: set[tuple[str, str]] = set()  # (increment, key) of version folders whose own stat is not taken
        self.whole: dict[str, dict[str, Fp3]] = {}  # increment checked whole -> its metadata.json fingerprints
        self.owned: Callable[[str], bool] = lambda rel: False  # paths the write itself created or changed
        self.full = False

    # -- the three parts -----------------------------------------------------------------------------------
    def check_top(self) -> None:
        rels = (POLICY_REL, self.layout.docs_rel(self.docs_path))
        self.top = {rel: W._fp(f"{self.root}/{rel}") for rel in rels}
        old = self.before["top"]
        self.verify([rel for rel, fp in self.top.items() if old.get(rel, False) != fp or self._recent(fp)])

    def check_model(self, name: str, extra: set[str]) -> dict[str, Fp3]:
        """Check ``name``'s version folders everywhere (and the metadata files ``extra`` the index says are its);
        returns metadata.json path -> fingerprint of every folder named like one of its versions."""
        prefix = f"{name}-v"
        todo: list[str] = []
        fps: dict[str, Fp3] = {}
        odd: dict[str, set[str]] = {}  # increment -> folders of the model not named like its versions
        for rel in extra:
            inc, _, rest = rel.rpartition("/models/")
            if not rest.startswith(prefix):
                odd.setdefault(inc, set()).add(rest.split("/", 1)[0])
        for inc in self.incs:
            old = self.before["increments"][inc]["entries"]
            fresh = self.entries.setdefault(inc, {})
            if "models" not in fresh:
                fresh["models"] = W._fp(f"{self.root}/{inc}/models")
                todo += self._differs(inc, "models", fresh["models"], old)
            self._check_folders(inc, prefix, odd.get(inc, set()), (old, fresh), todo, fps)
        self.models.add(name)
        self.verify(todo)
        return fps

    def _check_folders(
        self, inc: str, prefix: str, mine: set[str], entries: tuple[dict[str, Any], dict[str, Any]], todo: list[str],
        fps: dict[str, Fp3],
    ) -> None:
        """One increment's part of ``check_model``: the model's version folders (named ``prefix``..., or in
        ``mine``), each folder the snapshot does not know, and the model's folders it knew that are gone. A version
        folder the snapshot knows is checked by its metadata.json's stat alone (``_stat_known``)."""
        old, fresh = entries
        path, mp = f"{self.root}/{inc}/models", "models/" + prefix
        listing = _Listing(path)
        names, known_ours = listing.names, []
        for folder, dirent in names.items():
            key = "models/" + folder
            ours = folder.startswith(prefix)
            if not ours and key in old and folder not in mine:
                continue  # another model's folder the snapshot knows: not this write's business
            known = old.get(key) if ours and key not in fresh else None
            if known is not None and known[1] is not None and dirent.is_dir():
                known_ours.append(folder)
                continue
            self._full_entry(inc, listing, folder, ours or folder in mine, old, (todo, fps))
        for folder in self._stat_known(inc, listing.fd, known_ours, old, (todo, fps)):
            self._full_entry(inc, listing, folder, True, old, (todo, fps))
        listing.close()
        gone = [k for k in old if k.startswith(mp) and k[7:] not in names]
        gone += [f"models/{f}" for f in mine if f"models/{f}" in old and f not in names]
        for key in gone:
            self.gone.add((inc, key))
            todo.append(f"{inc}/{key}")

    def _stat_known(
        self, inc: str, fd: int | None, folders: list[str], old: dict[str, Any], out: tuple[list[str], dict[str, Fp3]]
    ) -> list[str]:
        """The model's version folders ``folders`` (in the open ``models/`` folder ``fd``) that the snapshot knows
        with a metadata.json: that file's stat each, the folder's own from the snapshot (``covers`` takes it before
        the write changes the folder). Returns the folders without a metadata.json now (their full entry is taken
        by the caller). At 3,334 versions of one model this loop is the check's own cost, besides the stats."""
        todo, fps = out
        fresh, limit, stat, base = self.entries[inc], self.limit, os.stat, f"{inc}/models/"
        left: list[str] = []
        for folder in folders:
            key = "models/" + folder
            known = old[key]
            try:
                m = stat(f"{folder}/metadata.json", dir_fd=fd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                left.append(folder)
                continue
            meta = (m.st_mtime_ns, m.st_size, m.st_ino, 0)
            entry = fresh[key] = (known[0], meta)
            if known != entry or m.st_mtime_ns >= limit or known[0][0] >= limit:
                todo.append(base + folder)
            fps[f"{base}{folder}/metadata.json"] = meta[:3]
        self.unstated.update((inc, "models/" + f) for f in folders if f not in left)
        return left

    def _full_entry(
        self, inc: str, listing: _Listing, folder: str, mine: bool, old: dict[str, Any],
        out: tuple[list[str], dict[str, Fp3]],
    ) -> None:
        """A folder's full entry (its own stat and its metadata.json's), checked against the snapshot's."""
        todo, fps = out
        fresh, key = self.entries[inc], "models/" + folder
        entry = fresh.get(key) or listing.entry(folder)
        if entry is None:
            return
        if key not in fresh:
            fresh[key] = entry
            if old.get(key, False) != entry or max(entry[0][0], entry[1][0] if entry[1] else 0) >= self.limit:
                todo.append(f"{inc}/{key}")
        if entry[1] is not None and mine:
            fps[f"{inc}/{key}/metadata.json"] = entry[1][:3]

    def check_increment(self, inc: str) -> dict[str, Fp3]:
        """Check every entry of increment ``inc`` not checked yet; returns its metadata.json fingerprints."""
        if inc in self.whole:
            return self.whole[inc]
        old = self.before["increments"][inc]["entries"]
        fresh = self.entries.setdefault(inc, {})
        now = self._increment_now(inc, fresh)
        todo: list[str] = []
        for key, entry in now.items():
            if key not in fresh and not self._covered(key):
                fresh[key] = entry
                todo += self._differs(inc, key, entry, old)
        for key in old.keys() - now.keys():
            if key not in fresh and not self._covered(key):
                self.gone.add((inc, key))
                todo.append(f"{inc}/{key}")
        fps = {f"{inc}/{k}/metadata.json": v[1][:3] for k, v in now.items() if k.startswith("models/") and v[1]}
        self.whole[inc] = fps
        self.verify(todo)
        return fps

    def _increment_now(self, inc: str, fresh: dict[str, Any]) -> dict[str, Any]:
        """Increment ``inc``'s entries as ``worktree_state._increment`` takes them, the version folders already
        checked (this write's models') from ``fresh`` rather than stat'ed again."""
        now: dict[str, Any] = {"models": fresh["models"] if "models" in fresh else W._fp(f"{self.root}/{inc}/models")}
        listing = _Listing(f"{self.root}/{inc}/models")
        for folder in listing.names:
            key = f"models/{folder}"
            entry = fresh.get(key)
            if entry is None and not self._covered(key):
                entry = listing.entry(folder)
            if entry is not None:
                now[key] = entry
        listing.close()
        W._side_entries(self.root, inc, now)
        return now

    def covers(self, rel: str) -> bool:
        """Whether a write to ``rel`` lies in what this write has checked (else: check its increment first)."""
        if self.full or rel in self.top:
            return True
        inc = self.increment_of(rel)
        if inc is None:
            return False
        part, _, rest = rel[len(inc) + 1 :].partition("/")
        key = f"models/{rest.split('/', 1)[0]}" if part == "models" and rest else None
        if key is not None and (inc, key) in self.unstated:
            self._folder_now(inc, key)
        if inc in self.whole:
            return True
        return key is not None and self._covered(key)

    def _folder_now(self, inc: str, key: str) -> None:
        """Before the write changes a file in one of its model's version folders: the folder's own stat too (a file
        created in or removed from it), checked as ``check_model`` checks a folder."""
        self.unstated.discard((inc, key))
        entry = self.entries[inc][key] = (W._fp(f"{self.root}/{inc}/{key}"), self.entries[inc][key][1])
        self.verify(self._differs(inc, key, entry, self.before["increments"][inc]["entries"]))

    def increment_of(self, rel: str) -> str | None:
        return next((inc for inc in self.incs if rel.startswith(inc + "/")), None)

    def check_all(self) -> Index:
        """The full check (what the write needs reaches past its scope): every registry path, then the full index."""
        from .dirty import dirty_paths
        from .index import WorkTreeSource, load_index

        self.full = True
        self._refuse(dirty_paths(self.repo, self.layout, self.docs_path))
        return load_index(WorkTreeSource(self.layout))

    # -- helpers -------------------------------------------------------------------------------------------
    def _covered(self, key: str) -> bool:
        folder = key[7:] if key.startswith("models/") else None
        return folder is not None and any(folder.startswith(f"{m}-v") for m in self.models)

    def _recent(self, entry: Any) -> bool:
        return bool(W._newest(entry) >= self.limit)

    def _differs(self, inc: str, key: str, entry: Any, old: dict[str, Any]) -> list[str]:
        return [f"{inc}/{key}"] if old.get(key, False) != entry or self._recent(entry) else []

    def verify(self, todo: list[str]) -> None:
        """Refuse what git sees changed at ``todo``. Not ``dirty_paths``: it widens to a full status when a journal
        exists, meant for a killed write's (which sends a write to the full check at ``start``); in the middle of
        this write the journal is this write's own, and a status that found nothing would then refuse the user's
        unrelated files, depending only on whether the files checked were written within the racy window."""
        if todo:
            status = self.repo.changed_paths(paths=sorted(set(todo)))
            self._refuse(sorted({p for _status, p in status if self.layout.is_registry_path(p, self.docs_path)}))

    def _refuse(self, dirty: list[str]) -> None:
        dirty = [p for p in dirty if not self.owned(p)]
        if dirty:
            from .dirty import dirty_refusal

            raise dirty_refusal(self.repo, dirty)

    def merged(self) -> W.Snapshot | None:
        """The snapshot for the next write: the entries this write checked, the rest as the last snapshot had them
        (except recent ones, which the next write then checks); None after the full check."""
        if self.full:
            return None
        increments = {}
        for inc, part in self.before["increments"].items():
            fresh = self.entries.get(inc)
            gone = any(g[0] == inc for g in self.gone)
            same = all(part["entries"].get(k, False) == v for k, v in (fresh or {}).items())
            if not gone and same and part["newest"] < self.limit:
                increments[inc] = part  # nothing this write stat'ed differs from the snapshot: kept as it is
                continue
            entries = part["entries"]
            if part["newest"] >= self.limit:
                entries = {k: v for k, v in entries.items() if not self._recent(v)}
            entries = {**entries, **(fresh or {})}
            for g_inc, key in self.gone:
                if g_inc == inc:
                    entries.pop(key, None)
            newest = max([part["newest"], *(W._newest(v) for v in (fresh or {}).values())])
            increments[inc] = {"entries": entries, "newest": newest}
        return {**self.before, "top": {**self.before["top"], **self.top}, "increments": increments}


def start(layout: Layout, repo: Repo, docs_path: str | None) -> ScopedCheck | None:
    """The narrowed check, when the last snapshot can be trusted (else None: the caller makes the full check)."""
    if repo.journal().exists():
        return None
    before = W.load(layout)
    if not before or before.get("format") != (W.STATE_FORMAT, sys.version_info[:2]):
        return None
    if before.get("docs") != layout.docs_rel(docs_path):
        return None
    if before["head"] != repo.head_commit() or W.index_moved(before, W.index_fp(repo)):
        return None
    incs = [inc.rel for inc in layout.increments()]
    if set(incs) != before["increments"].keys() or time.time_ns() < before["taken"]:
        return None
    check = ScopedCheck(layout, repo, before, docs_path, incs)
    check.check_top()
    return check


class _Listing:
    """One ``models/`` folder: its names (one scandir), and a version folder's snapshot entry as
    ``worktree_state._version_entries`` takes it (the stats made relative to the open folder)."""

    def __init__(self, path: str) -> None:
        self.names: dict[str, os.DirEntry[str]] = {}
        try:
            self.fd: int | None = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            self.fd = None
            return
        with os.scandir(self.fd) as it:
            self.names = {e.name: e for e in it}

    def entry(self, name: str) -> tuple[Any, Any] | None:
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        meta = None
        if self.names[name].is_dir():
            try:
                m = os.stat(f"{name}/metadata.json", dir_fd=self.fd, follow_symlinks=False)
                meta = (m.st_mtime_ns, m.st_size, m.st_ino, 0)
            except (FileNotFoundError, NotADirectoryError):
                pass
        return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode), meta

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
