"""The read side: a stat-validated cache of every version's record over a Source (sources.py).

list and info must not re-read every metadata.json on every call. The index keeps a small summary
of each version (records.py) in ``.specweave/cache/sw-registry/``, keyed by each file's fingerprint (stat for
the work tree, blob id for a revision); only files whose fingerprint changed are parsed again. The CLI's
``--json`` reads are answered before this by the read memo (readcache.py) while nothing changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import NotFound
from ..layout import Layout
from ..policy import Policy, validate
from .record_cache import (
    _load_marshal,
    _model_records,
    _parse,
    _records_dir,
    _shard,
    _store_marshal,
    ensure_ignored,
)
from .records import EVENT_FIELDS, Record, aggregate, summarize
from .records import _sorted as _sorted
from .sources import GitRevSource, Source, WorkTreeSource

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

# the names other modules import from here
__all__ = [
    "EVENT_FIELDS",
    "GitRevSource",
    "Index",
    "Record",
    "Source",
    "WorkTreeSource",
    "aggregate",
    "empty_index",
    "ensure_ignored",
    "load_index",
    "parse_policy",
    "read_policy_file",
    "summarize",
]

POLICY_CACHE = "policy-worktree.marshal"  # the work tree's policy alone: all a write's index loads at first


def empty_index(layout: Layout) -> Index:
    """An index with nothing in it (registry-verify --repair starts from one, before it restores files)."""
    return Index(WorkTreeSource(layout), Policy({}), {}, {}, {}, None, {})


class Index:
    """All models of a registry: list aggregates always, each model's version records on demand.

    The cache keeps, per source (the work tree, or one commit), every metadata.json's fingerprint, which
    model it belongs to and each model's aggregate in one small file, and each model's version records in
    a file of their own; a read stats the metadata files, re-parses only changed ones, and loads only the
    models it needs.
    """

    def __init__(
        self,
        source: Source,
        policy: Policy,
        owners: dict[str, str],
        aggregates: dict[str, Any],
        records: dict[str, list[Record]],
        cache_dir: Path | None,
        files: dict[str, Any],
    ) -> None:
        self.source = source
        self.policy = policy
        self._owners = owners  # metadata rel -> model name
        self._aggregates = aggregates
        self._records = records  # model -> sorted records (loaded lazily)
        self._cache_dir = cache_dir
        self._files = files  # metadata rel -> fingerprint, as scanned by this read
        # a write's index (issue 10): ``guard(name, rels)`` checks a model's folders (store/write_check.py) and returns
        # their metadata fingerprints before its records are trusted; ``full()`` checks everything, for the rest
        self.guard: Callable[[str, set[str]], dict[str, Any]] | None = None
        self.full: Callable[[], Index] | None = None
        self._checked: set[str] = set()
        self._views: dict[str, Any] = {}  # a write's checked models: name -> ModelView (light records, full on demand)
        self._light: dict[str, list[Any]] = {}  # name -> light records in version order (record_summary.py)
        self._written: dict[str, dict[str, bytes]] = {}  # a write's: name -> metadata rel -> the bytes it wrote
        self.lazy = False
        self._stale: set[str] = set()  # models whose aggregate is computed again when read
        self.warnings = [
            f"{rel} has a schema_version newer than this sw-registry knows; read only"
            for agg in aggregates.values()
            for rel in agg["newer_schema"]
        ]

    # -- models --------------------------------------------------------------------------
    def names(self) -> list[str]:
        self.load_all()
        return sorted(self._aggregates)

    def aggregate(self, name: str) -> dict[str, Any]:
        self.load_all()
        return self._agg(name)

    def records_of(self, name: str) -> list[Record]:
        """A model's version records in version order ([] for an unknown model)."""
        if self.guard is not None and name not in self._checked:
            self._check_model(name)
        if name not in self._aggregates:
            return []
        recs = self._records.get(name)
        if recs is None and name in self._light:
            view = self._views[name]
            recs = self._records[name] = [view.full(f"{r['dir']}/metadata.json") for r in self._light[name]]
        if recs is None:
            rels = [rel for rel, owner in self._owners.items() if owner == name]
            recs = _model_records(self.source, name, rels, self._cache_dir, self._files, {})
            self._records[name] = recs
        return recs

    def versions_of(self, name: str) -> list[Record]:
        recs = self.records_of(name)
        if not recs:
            raise NotFound(
                f"no model named {name!r}",
                hint="known models: " + (", ".join(self.names()) or "none yet; register one with registry-register"),
            )
        return recs

    def light_of(self, name: str) -> list[Any]:
        """A model's records in version order, as a write's decisions need them: for a write, light ones
        (version, key, stage, increment, dir, max_seq, deprecated, and the production events only; record_summary.py),
        else the full ones."""
        if self.guard is not None and name not in self._checked:
            self._check_model(name)
        if name in self._light and name not in self._records:
            return self._light[name]
        return self.records_of(name)

    def _full_of(self, name: str, rec: Any) -> Record:
        if name in self._light and name not in self._records:
            full: Record = self._views[name].full(f"{rec['dir']}/metadata.json")
            return full
        return rec  # type: ignore[no-any-return]

    def find(self, name: str, version: str) -> Record | None:
        if self.guard is not None or name in self._light:
            light = next((rec for rec in self.light_of(name) if rec["version"] == version), None)
            return None if light is None else self._full_of(name, light)
        for rec in self.records_of(name):
            if rec["version"] == version:
                return rec
        return None

    def get(self, name: str, version: str) -> Record:
        rec = self.find(name, version)
        if rec is None:
            known = [r["version"] for r in self.versions_of(name)]
            raise NotFound(
                f"model {name!r} has no version v{version}",
                hint="known versions: " + ", ".join("v" + v for v in known[-10:]),
            )
        return rec

    def holder(self, name: str, stage: str) -> Record | None:
        """The version in ``stage`` (staging and production hold one; for dev or archived, the highest)."""
        got = next((rec for rec in reversed(self.light_of(name)) if rec["stage"] == stage), None)
        return None if got is None else self._full_of(name, got)

    def fingerprints(self) -> dict[str, Any]:
        """metadata.json path -> the fingerprint this read found (stat for the work tree)."""
        self.load_all()
        return self._files

    def max_seq(self, name: str) -> int:
        if self.guard is not None and name not in self._checked:
            self._check_model(name)
        if name in self._stale:
            recs = self._records[name] if name in self._records else self._light.get(name, [])
            return max((r["max_seq"] for r in recs), default=0)
        agg = self._aggregates.get(name)
        return int(agg["max_seq"]) if agg else 0

    def in_increment(self, increment: str, *, keep: bool = True) -> list[Record]:
        """The records of ``increment``'s versions, by model, then version. ``keep=False``: a model not loaded yet is
        read from its cache file of that increment alone (checked by fingerprint; what differs is read again) and
        not kept, so that a pass over every increment holds one at a time (registry-reindex at 10,002 versions:
        72 -> 33 MB). Versions registered twice need no check here: the full index's load refuses them."""
        self.load_all()
        out: list[Record] = []
        for name in self.names():
            if increment not in self._agg(name)["increments"]:
                continue
            if keep or name in self._records or name in self._light:
                out += [r for r in self.records_of(name) if r["increment"] == increment]
                continue
            from .record_summary import _full_shard

            rels = [rel for rel, owner in self._owners.items() if owner == name and rel.split("/")[-4] == increment]
            shard: dict[str, Any] = {}
            if rels and self._cache_dir is not None:
                shard = _full_shard(_records_dir(self._cache_dir, self.source, name) / f"{_shard(rels[0])}.marshal")
            recs = []
            for rel in rels:
                got = shard.get(rel)
                recs.append(got[1] if got is not None and got[0] == self._files.get(rel) else _parse(self.source, rel))
            out += _sorted(recs, name)
        return out

    # -- a write's index: checked and brought up to date one model at a time (issue 10) ---------------------
    def _check_model(self, name: str) -> None:
        """Check ``name``'s folders (``guard``), then take its records from its cache files, read again where
        the check found a file changed."""
        assert self.guard is not None
        from .record_summary import ModelView

        self._checked.add(name)
        view = ModelView(self.source, name, self._cache_dir)
        recs = view.check(self.guard)
        fps, fresh = view.fps, view.fresh
        for rec in fresh.values():
            if rec["name"] != name:  # another model's folder: read again when that model is
                self._records.pop(rec["name"], None)
                self._light.pop(rec["name"], None)
                self._checked.discard(rec["name"])
        self._files.update(fps)
        self._owners.update(dict.fromkeys(fps, name))
        self._records.pop(name, None)
        if recs:
            self._views[name], self._light[name] = view, recs
            self._aggregates.setdefault(name, {})
            self._stale.add(name)
        else:
            self._light.pop(name, None)
            self._aggregates.pop(name, None)

    def load_all(self) -> None:
        """Past a write's scope: the full check, and the index of every model as a read loads it."""
        if self.full is not None:
            whole = self.full()
            self.__dict__.update({k: v for k, v in whole.__dict__.items() if k != "warnings"})

    # -- in-memory updates by a write ------------------------------------------------------
    def put(self, rel: str, meta: dict[str, Any], raw: bytes | None = None) -> None:
        """Reflect a metadata.json this process just wrote (``raw``, its bytes: the write's own, brought into the
        model's cache by ``write_through`` once the write committed)."""
        rec = summarize(meta, rel)
        name = rec["name"]
        if self.guard is not None and name not in self._checked:
            self._check_model(name)
        if raw is not None and name in self._views:
            self._views[name].put(rel, rec)
            self._written.setdefault(name, {})[rel] = raw
        if name in self._light and name not in self._records:
            self._put_light(name, rel, rec)
            return
        self._records[name] = _placed(self.records_of(name), rec, name)
        self._owners[rel] = name
        self._aggregates.setdefault(name, {})
        self._stale.add(name)  # computed again when read

    def write_through(self) -> None:
        """After the write committed, under its lock: the records it wrote into each model's cache
        (``ModelView.write_through``). Killed before or during this, the next write's check reads them again."""
        from ..stop_points import stop_point

        written, self._written = self._written, {}
        if written:
            stop_point("write_through")
        root = str(self.source.layout.root)
        for name, rels in written.items():
            self._views[name].write_through(rels, root)

    def _put_light(self, name: str, rel: str, rec: Record) -> None:
        from .record_summary import _light_record, light

        self._views[name].put(rel, rec)
        new = _light_record(name, rel, rec["increment"], light(rec))
        self._light[name] = _placed(self._light[name], new, name)
        self._owners[rel] = name
        self._stale.add(name)

    def _agg(self, name: str) -> dict[str, Any]:
        if name in self._stale:
            self._stale.discard(name)
            self._aggregates[name] = aggregate(self._records[name])
        agg: dict[str, Any] = self._aggregates[name]
        return agg


def _placed(recs: list[Any], rec: Any, name: str) -> list[Any]:
    """``recs`` (in version order) with ``rec`` put in place of the one of its folder, or added."""
    recs = list(recs)
    at = next((i for i in range(len(recs) - 1, -1, -1) if recs[i]["dir"] == rec["dir"]), None)
    if at is not None and recs[at]["key"] == rec["key"]:
        recs[at] = rec  # a stage change: the order stays
    elif at is None and (not recs or recs[-1]["key"] < rec["key"]):
        recs.append(rec)  # a new highest version
    else:
        recs = _sorted([r for r in recs if r["dir"] != rec["dir"]] + [rec], name)
    return recs


def _policy(source: Source, cached: Any) -> tuple[Any, dict[str, Any]]:
    rel = ".specweave/registry.yaml"
    fp = source.fingerprint(rel)
    if cached and cached[0] == fp:
        return fp, cached[1]
    if isinstance(source, WorkTreeSource):
        return fp, read_policy_file(source.layout)
    raw = source.read(rel)
    if raw is None:
        return fp, {}
    return fp, parse_policy(raw)


def read_policy_file(layout: Layout) -> dict[str, Any]:
    """registry.yaml of the work tree, read safely (a regular UTF-8 file of at most 16 MiB) and validated."""
    from ..errors import ConfigError
    from ..inputs import read_side_file

    path = layout.specweave / "registry.yaml"
    if not os.path.lexists(path):
        return {}
    return parse_policy(read_side_file(path, ".specweave/registry.yaml", ConfigError))


def parse_policy(raw: bytes) -> dict[str, Any]:
    from ..errors import ConfigError
    from ..inputs import decode_text, load_yaml

    where = ".specweave/registry.yaml"
    return validate(load_yaml(decode_text(raw, "registry.yaml", where, ConfigError), "policy file", where, ConfigError))


def load_index(source: Source, *, use_cache: bool = True, lazy: bool = False) -> Index:
    """The index of ``source``, parsing only metadata files whose fingerprint changed since the cache.

    ``lazy`` (a write's, issue 10): with a cache of the work tree, nothing is stat'ed here; the caller sets the
    index's ``guard`` and ``full`` (store/write_check.py), and each model is checked when first read.
    """
    layout = source.layout
    # a read writes its cache only inside a project it found (SPEC §9): never a new .specweave/ elsewhere
    cache_dir = layout.cache_dir if use_cache and layout.specweave.is_dir() else None
    if lazy and cache_dir is not None and isinstance(source, WorkTreeSource):
        kept = _load_marshal(cache_dir / POLICY_CACHE).get("policy")
        if kept:  # the write's index: the policy, and each model's records when first read
            index = Index(source, Policy(_policy(source, kept)[1]), {}, {}, {}, cache_dir, {})
            index.lazy = True
            return index
    main_path = layout.cache_dir / f"index-{source.cache_key}.marshal"
    cache = _load_marshal(main_path) if cache_dir else {}
    old_files: dict[str, Any] = cache.get("files", {})
    old_owners: dict[str, str] = cache.get("owners", {})
    aggregates: dict[str, Any] = dict(cache.get("aggregates", {}))
    files = source.metadata_files()
    policy_entry = _policy(source, cache.get("policy"))
    changed = [rel for rel, fp in files.items() if old_files.get(rel) != fp]
    removed = [rel for rel in old_files if rel not in files]
    owners = {rel: old_owners[rel] for rel in files if rel in old_owners}
    records: dict[str, list[Record]] = {}
    if cache_dir is not None and isinstance(source, WorkTreeSource) and (not cache or 2 * len(changed) > len(files)):
        from .rebuild import rebuild  # from nothing: one increment at a time, in two processes when it pays

        owners, aggregates = rebuild(source, files, cache_dir)
    elif changed or removed or not cache:
        if changed and isinstance(source, GitRevSource):
            source.prefetch(changed)
        fresh = {rel: _parse(source, rel) for rel in changed}
        affected = {old_owners[rel] for rel in (*changed, *removed) if rel in old_owners}
        affected |= {rec["name"] for rec in fresh.values()}
        for rel, rec in fresh.items():
            owners[rel] = rec["name"]
        for name in sorted(affected):
            rels = [rel for rel, owner in owners.items() if owner == name]
            if rels:
                records[name] = _model_records(source, name, rels, cache_dir, files, fresh)
                aggregates[name] = aggregate(records[name])
        present = set(owners.values())
        for name in [n for n in aggregates if n not in present]:
            aggregates.pop(name)
    if cache_dir is not None and (changed or removed or policy_entry != tuple(cache.get("policy") or ()) or not cache):
        _store_marshal(main_path, {"files": files, "owners": owners, "aggregates": aggregates, "policy": policy_entry})
        if isinstance(source, WorkTreeSource):
            _store_marshal(cache_dir / POLICY_CACHE, {"policy": policy_entry})
    return Index(source, Policy(policy_entry[1]), owners, aggregates, records, cache_dir, files)
