"""The dirty check of a write, narrowed to what the write reads and rewrites (issue 10).

The full check (``dirty.dirty_paths_for_write``) stats every file of the registry: ~20,900 stats at 10,000 versions.
When the last write left a stat snapshot (``worktree_state.py``) and HEAD and git's index are as it found them, a write
checks instead, each part before it reads or changes it:

- at the start: registry.yaml, the living doc, the journal (a left journal means the full check);
- when it first reads a model's versions (``Index.records_of``): every increment's ``models/`` folder, the
  metadata.json of each version folder of that model in every increment (one stat; the folder itself is not stat'ed),
  and, where a ``models/`` folder's stat is not the snapshot's (or is recent), its listing: each version folder the
  snapshot does not know (a new folder of any model: the folder and its metadata.json) and the folders the snapshot
  had for the model that are gone. A ``models/`` folder whose stat is the snapshot's holds the names it held then (a
  name created, removed or renamed in a folder changes its mtime): it is not listed (store/stat_pass.py);
- before it writes into an increment outside those folders (a derived file, deployment_history.md, another model's
  folder): that whole increment as the full check does, but for its version folders the snapshot knows, which are
  checked as above (by their metadata.json: the derived files are made from those alone); a folder's own stat is
  taken before the write changes a file in it (``covers``).

Each entry that differs from the snapshot (or is recent: git's racy rule) is given to a path-limited ``git status``;
the dirty ones refuse the write with ``dirty_registry``, as before. What is not checked: other models' folders in
increments the write does not change, and a file beside metadata.json created in or removed from a known version
folder the write does not change (their changes stay uncommitted and untouched; ``registry-verify`` and the full
check find them). Every version of the model a write reads is still stat'ed: any of them may hold the stage, the
highest seq or the production event the write's answer depends on, and an edit in place shows in that file's own
stat alone. Anything else (``Index.names()``, a write outside the increments) falls back to the
full check, once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from ..layout import POLICY_REL
from . import fs_clock
from . import worktree_state as W
from .snapshot_file import load as load_snapshot
from .stat_pass import Listing, entry_at, metadata_stats, open_folder
from .worktree_state import Fp3

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout
    from .index import Index


class ScopedCheck:
    """What one write has checked so far, and the fresh stat entries it took (merged into the next snapshot)."""

    def __init__(
        self, layout: Layout, repo: Repo, before: W.Snapshot, docs_path: str | None, incs: list[str], started: int
    ) -> None:
        self.layout, self.repo, self.before, self.docs_path = layout, repo, before, docs_path
        self.root = str(layout.root)
        self.incs = incs
        self.limit = before["taken"]  # an entry of the snapshot with an mtime at or after it is racy
        self.started = started  # the file system's clock before this write's first stat: the same for its entries
        self.top: dict[str, Any] = {}
        self.entries: dict[str, dict[str, Any]] = {}  # increment -> key -> entry stat'ed and checked by this write
        self.fps: dict[str, dict[str, Fp3]] = {}  # increment -> metadata.json path -> fingerprint, of those entries
        self.differs: set[str] = set()  # increments where an entry checked is not the snapshot's
        self.gone: set[tuple[str, str]] = set()  # (increment, key) the snapshot had and the work tree has not
        self.models: set[str] = set()
        self.unstated: dict[str, set[str]] = {}  # increment -> keys of version folders whose own stat is not taken
        self.whole: dict[str, dict[str, Fp3]] = {}  # increment checked whole -> its metadata.json fingerprints
        self.owned: Callable[[str], bool] = lambda rel: False  # paths the write itself created or changed
        self.full = False
        self.listed: dict[str, Any] = {}  # increment -> the models/ stat at which the snapshot's keys are its names
        self.models_now: dict[str, Any] = {}  # increment -> its models/ folder's stat when last taken

    # -- the three parts -----------------------------------------------------------------------------------
    def check_top(self) -> None:
        rels = (POLICY_REL, self.layout.docs_rel(self.docs_path))
        self.top = {rel: W._fp(f"{self.root}/{rel}") for rel in rels}
        old = self.before["top"]
        self.verify([rel for rel, fp in self.top.items() if old.get(rel, False) != fp or self._recent(fp)])

    def check_model(self, name: str, extra: set[str]) -> dict[str, Fp3]:
        """Check ``name``'s version folders everywhere (and the metadata files ``extra`` the index says are its);
        returns metadata.json path -> fingerprint of every folder named like one of its versions."""
        mp = f"models/{name}-v"
        todo: list[str] = []
        fps: dict[str, Fp3] = {}
        odd: dict[str, set[str]] = {}  # increment -> keys of the model's folders not named like its versions
        for rel in extra:
            inc, _, rest = rel.rpartition("/models/")
            if not rest.startswith(mp[7:]):
                odd.setdefault(inc, set()).add("models/" + rest.split("/", 1)[0])
        for inc in self.incs:
            mine = odd.get(inc, set())
            if self._same_names(inc, todo):  # the model's folders are the snapshot's: no listing
                old = self.before["increments"][inc]["entries"]
                keys = [k for k in old if k.startswith(mp)]
                self._known_in(inc, keys + [k for k in mine if k in old and not k.startswith(mp)], todo, fps)
            else:
                self._listed(inc, mp, mine, todo, fps)
        self.models.add(name)
        self.verify(todo)
        return fps

    def check_increment(self, inc: str) -> dict[str, Fp3]:
        """Check every entry of increment ``inc`` not checked yet; returns its metadata.json fingerprints."""
        if inc in self.whole:
            return self.whole[inc]
        old = self.before["increments"][inc]["entries"]
        todo: list[str] = []
        if self._same_names(inc, todo):
            self._known_in(inc, [k for k in old if k.startswith("models/")], todo, None)
        else:
            self._listed(inc, "models/", set(), todo, None)
        side: dict[str, Any] = {}
        W._side_entries(self.root, inc, side)
        todo += [f"{inc}/{key}" for key, entry in side.items() if self._put(inc, key, entry)]
        for key in [k for k in old if not k.startswith("models") and k not in side]:
            self._gone(inc, key, todo)
        self.whole[inc] = fps = self.fps.setdefault(inc, {})
        self.verify(todo)
        return fps

    # -- the version folders of one increment ----------------------------------------------------------------
    def _same_names(self, inc: str, todo: list[str]) -> bool:
        """Check ``inc``'s ``models/`` folder itself: whether it holds the names the snapshot has as keys, i.e. its
        stat is the one at which a check listed it (``listed``, kept in the snapshot by ``merged``) and not recent (a
        name created, removed or renamed in it changes its mtime). The snapshot's keys of a folder some other code
        re-stat'ed without listing it (a write's ``worktree_state.refresh``, a full scan) are not trusted so."""
        fp = W._fp(f"{self.root}/{inc}/models")  # now: a folder this write created in it since is listed
        if "models" not in self.entries.setdefault(inc, {}) and self._put(inc, "models", fp):
            todo.append(f"{inc}/models")
        part = self.before["increments"][inc]
        old = part["entries"].get("models", False)
        same = fp is not None and fp[0] < self.limit and fp == old == part.get("listed")
        self.models_now[inc] = fp
        if same:
            self.listed[inc] = fp
        return same

    def _known_in(self, inc: str, keys: list[str], todo: list[str], fps: dict[str, Fp3] | None) -> None:
        fd = open_folder(f"{self.root}/{inc}/models")
        try:
            self._known(inc, fd, keys, todo, fps)
        finally:
            if fd is not None:
                os.close(fd)

    def _known(self, inc: str, fd: int | None, keys: list[str], todo: list[str], fps: dict[str, Fp3] | None) -> None:
        """The version folders ``keys`` of ``inc`` the snapshot knows (in the open ``models/`` folder ``fd``):
        each one's metadata.json stat'ed once, the folder's own stat taken from the snapshot (``covers`` takes it
        before the write changes the folder), all compared with the snapshot as whole lists. A folder already
        checked by this write is passed over; one without a metadata.json, in the snapshot or now, gets its full
        entry (``_full``). ``fps`` (None: only the increment's, ``self.fps``) receives their fingerprints."""
        old, fresh = self.before["increments"][inc]["entries"], self.entries[inc]
        base = inc + "/"
        if done := fresh.keys() & keys:
            keys = [k for k in keys if k not in done]
            if fps is not None:
                fps.update({f"{base}{k}/metadata.json": fresh[k][1][:3] for k in done if fresh[k][1]})
        olds = [old[k] for k in keys]
        sts = metadata_stats(fd, keys)
        if None in sts or None in [o[1] for o in olds]:
            self._full(inc, fd, [k for k, o, s in zip(keys, olds, sts) if s is None or o[1] is None], todo, fps)
            kept = [(k, o, s) for k, o, s in zip(keys, olds, sts) if s is not None and o[1] is not None]
            keys, olds, sts = [t[0] for t in kept], [t[1] for t in kept], [t[2] for t in kept]
        metas = [(s.st_mtime_ns, s.st_size, s.st_ino) for s in sts]
        news = [(o[0], (*m, 0)) for o, m in zip(olds, metas)]
        if news != olds:
            self.differs.add(inc)
        if news != olds or self.before["increments"][inc]["newest"] >= self.limit:
            limit = self.limit
            todo += [base + k for k, o, n in zip(keys, olds, news) if o != n or max(o[0][0], n[1][0]) >= limit]
        fresh.update(zip(keys, news))
        self.unstated.setdefault(inc, set()).update(keys)
        rels = [f"{base}{k}/metadata.json" for k in keys]
        self.fps.setdefault(inc, {}).update(zip(rels, metas))
        if fps is not None:
            fps.update(zip(rels, metas))

    def _listed(self, inc: str, mp: str, odd: set[str], todo: list[str], fps: dict[str, Fp3] | None) -> None:
        """``inc``'s ``models/`` changed since the snapshot: listed once. Its folders named with ``mp`` (or in
        ``odd``) that the snapshot knows are checked as ``_known`` does; every folder the snapshot does not know
        (any model's: a stray folder too) gets its full entry; the snapshot's folders named so that are gone are
        given to git."""
        old, fresh = self.before["increments"][inc]["entries"], self.entries[inc]
        listing, skipped = Listing(f"{self.root}/{inc}/models"), []
        try:
            keys = ["models/" + folder for folder in listing.names]
            self._known(inc, listing.fd, [k for k in keys if k in old and (k.startswith(mp) or k in odd)], todo, fps)
            new = [k for k in keys if k not in old]  # those this write took already: their fingerprints only
            if mp == "models/":  # the whole increment: the checked models' new folders are this write's own
                skipped = [k for k in new if k not in fresh and self._covered(k)]
                new = [k for k in new if k in fresh or not self._covered(k)]
            self._full(inc, listing.fd, [k for k in new if k.startswith(mp) or k in odd], todo, fps)
            self._full(inc, listing.fd, [k for k in new if not (k.startswith(mp) or k in odd)], todo, None)
        finally:
            listing.close()
        # the snapshot's keys now hold every name listed, at the stat taken before the listing (unless that is
        # racy: a name could still come within the same mtime tick)
        fp = self.models_now[inc]
        self.listed[inc] = None if skipped or fp is None or fp[0] >= self.started else fp
        for key in old:
            if (key.startswith(mp) or key in odd) and key[7:] not in listing.names:
                self._gone(inc, key, todo)

    def _full(self, inc: str, fd: int | None, keys: list[str], todo: list[str], fps: dict[str, Fp3] | None) -> None:
        """Full entries (a folder's own stat and its metadata.json's), checked against the snapshot's."""
        fresh, mine = self.entries[inc], self.fps.setdefault(inc, {})
        for key in keys:
            entry = fresh.get(key) or entry_at(fd, key[7:])
            if entry is None:
                self._gone(inc, key, todo)
                continue
            if key not in fresh and self._put(inc, key, entry):
                todo.append(f"{inc}/{key}")
            if entry[1] is not None:
                rel = f"{inc}/{key}/metadata.json"
                mine[rel] = entry[1][:3]
                if fps is not None:
                    fps[rel] = entry[1][:3]

    def covers(self, rel: str) -> bool:
        """Whether a write to ``rel`` lies in what this write has checked (else: check its increment first)."""
        if self.full or rel in self.top:
            return True
        inc = self.increment_of(rel)
        if inc is None:
            return False
        part, _, rest = rel[len(inc) + 1 :].partition("/")
        key = f"models/{rest.split('/', 1)[0]}" if part == "models" and rest else None
        if key is not None and key in self.unstated.get(inc, ()):
            self._folder_now(inc, key)
        if inc in self.whole:
            return True
        return key is not None and self._covered(key)

    def _folder_now(self, inc: str, key: str) -> None:
        """Before the write changes a file in a version folder checked by its metadata.json alone: the folder's own
        stat too (a file created in or removed from it), checked as a folder's full entry is."""
        self.unstated[inc].discard(key)
        if self._put(inc, key, (W._fp(f"{self.root}/{inc}/{key}"), self.entries[inc][key][1])):
            self.verify([f"{inc}/{key}"])

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
    def _put(self, inc: str, key: str, entry: Any) -> bool:
        """Record a fresh entry; whether git must look at it (not the snapshot's, or recent)."""
        self.entries.setdefault(inc, {})[key] = entry
        if self.before["increments"][inc]["entries"].get(key, False) != entry:
            self.differs.add(inc)
            return True
        return self._recent(entry)

    def _gone(self, inc: str, key: str, todo: list[str]) -> None:
        if (inc, key) not in self.gone:
            self.gone.add((inc, key))
            todo.append(f"{inc}/{key}")

    def _covered(self, key: str) -> bool:
        folder = key[7:] if key.startswith("models/") else None
        return folder is not None and any(folder.startswith(f"{m}-v") for m in self.models)

    def _recent(self, entry: Any) -> bool:
        return bool(W._newest(entry) >= self.limit)

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
        gone_in = {g[0] for g in self.gone}
        for inc, part in self.before["increments"].items():
            fresh = self.entries.get(inc)
            if inc not in gone_in and inc not in self.differs and part["newest"] < self.limit:
                # nothing this write stat'ed differs from the snapshot: kept as it is
                same = part.get("listed") == self.listed.get(inc, part.get("listed"))
                increments[inc] = part if same else {**part, "listed": self.listed[inc]}
                continue
            entries = {**W.settled(part, self.limit)["entries"], **(fresh or {})}  # racy ones: the next write's
            for g_inc, key in self.gone:
                if g_inc == inc:
                    entries.pop(key, None)
            newest = max([part["newest"], *(W._newest(v) for v in (fresh or {}).values())])
            increments[inc] = {"entries": entries, "newest": newest, "listed": self.listed.get(inc, part.get("listed"))}
        # this write's own entries are racy at the moment it began (``worktree_state.refresh`` settles them)
        top = {**self.before["top"], **self.top}
        return {**self.before, "taken": self.started, "top": top, "increments": increments}


def start(layout: Layout, repo: Repo, docs_path: str | None, started: int | None = None) -> ScopedCheck | None:
    """The narrowed check, when the last snapshot can be trusted (else None: the caller makes the full check).
    ``started``: ``fs_clock.fs_now`` at the write's start, before any of its stats (else read now)."""
    if repo.journal().exists():
        return None
    before = load_snapshot(layout)
    if not before or before.get("format") != (W.STATE_FORMAT, sys.version_info[:2]):
        return None
    if before.get("docs") != layout.docs_rel(docs_path):
        return None
    # a commit, checkout, ``git add``... of the user's since: the full check, which stats every file again (the
    # snapshot's entries may all be stale: a checkout rewrote them) but asks git only what moved (dirty.py)
    if W.git_moved(before, repo.head_commit(), W.index_fp(repo)):
        return None
    incs = [inc.rel for inc in layout.increments()]
    started = fs_clock.fs_now(layout) if started is None else started
    if set(incs) != before["increments"].keys() or started < before["taken"]:  # the file system's clock went back
        return None
    check = ScopedCheck(layout, repo, before, docs_path, incs, started)
    check.check_top()
    return check
