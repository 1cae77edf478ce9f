"""The read side: a stat-validated cache of every version's record over a Source (sources.py).

list and info must not re-read every metadata.json on every call. The index keeps a small summary
of each version (records.py) in ``.specweave/cache/sw-registry/``, keyed by each file's fingerprint (stat for
the work tree, blob id for a revision); only files whose fingerprint changed are parsed again. The CLI's
``--json`` reads are answered before this by the read memo (readcache.py) while nothing changed.
"""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import NotFound
from ..layout import Layout
from ..policy import Policy, validate
from .files import atomic_write
from .records import EVENT_FIELDS, Record, aggregate, parse_record_source, summarize
from .records import _sorted as _sorted
from .sources import GitRevSource, Source, WorkTreeSource

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

CACHE_FORMAT = 7


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
        self.warnings = [
            f"{rel} has a schema_version newer than this sw-registry knows; read only"
            for agg in aggregates.values()
            for rel in agg["newer_schema"]
        ]

    # -- models --------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._aggregates)

    def aggregate(self, name: str) -> dict[str, Any]:
        agg: dict[str, Any] = self._aggregates[name]
        return agg

    def records_of(self, name: str) -> list[Record]:
        """A model's version records in version order ([] for an unknown model)."""
        if name not in self._aggregates:
            return []
        recs = self._records.get(name)
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

    def find(self, name: str, version: str) -> Record | None:
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
        recs: list[Record] = self.records_of(name)
        return next((rec for rec in reversed(recs) if rec["stage"] == stage), None)

    def fingerprints(self) -> dict[str, Any]:
        """metadata.json path -> the fingerprint this read found (stat for the work tree)."""
        return self._files

    def max_seq(self, name: str) -> int:
        agg = self._aggregates.get(name)
        return int(agg["max_seq"]) if agg else 0

    def in_increment(self, increment: str) -> list[Record]:
        out = []
        for name in self.names():
            if increment in self._aggregates[name]["increments"]:
                out += [r for r in self.records_of(name) if r["increment"] == increment]
        return out

    # -- in-memory updates by a write ------------------------------------------------------
    def put(self, rel: str, meta: dict[str, Any]) -> None:
        """Reflect a metadata.json this process just wrote (the cache catches up on the next read)."""
        rec = summarize(meta, rel)
        name = rec["name"]
        recs = [r for r in self.records_of(name) if r["dir"] != rec["dir"]] + [rec]
        self._records[name] = _sorted(recs, name)
        self._owners[rel] = name
        self._aggregates[name] = aggregate(self._records[name])


def _parse(source: Source, rel: str) -> Record:
    raw = source.read(rel)
    if raw is None:
        raise NotFound(f"{rel} disappeared while reading", hint="run the command again")
    return summarize(parse_record_source(raw, rel), rel)


def _records_path(cache_dir: Path, source: Source, name: str) -> Path:
    return cache_dir / f"records-{source.cache_key}" / f"{name}.marshal"


def _load_records(cache_dir: Path | None, source: Source, name: str, files: dict[str, Any]) -> dict[str, Record]:
    """A model's cached records (metadata rel -> record) whose file fingerprint is still current."""
    if cache_dir is None:
        return {}
    data = _load_marshal(_records_path(cache_dir, source, name))
    recs, fps = data.get("records"), data.get("fps")
    if not isinstance(recs, list) or not isinstance(fps, dict):
        return {}
    out = {}
    for rec in recs:
        rel = f"{rec['dir']}/metadata.json"
        if rel in files and fps.get(rel) == files[rel]:
            out[rel] = rec
    return out


def _store_records(
    cache_dir: Path | None, source: Source, name: str, records: list[Record], files: dict[str, Any]
) -> None:
    if cache_dir is not None:
        fps = {f"{r['dir']}/metadata.json": files.get(f"{r['dir']}/metadata.json") for r in records}
        _store_marshal(_records_path(cache_dir, source, name), {"records": records, "fps": fps})


def _model_records(
    source: Source, name: str, rels: list[str], cache_dir: Path | None, files: dict[str, Any], fresh: dict[str, Record]
) -> list[Record]:
    """A model's records: fresh ones, else cached ones still current, else parsed again; cached back."""
    cached = _load_records(cache_dir, source, name, files)
    recs = _sorted([fresh.get(rel) or cached.get(rel) or _parse(source, rel) for rel in rels], name)
    if len(cached) != len(rels) or fresh:
        _store_records(cache_dir, source, name, recs, files)
    return recs


def _load_marshal(path: Path) -> dict[str, Any]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != (CACHE_FORMAT, sys.version_info[:2]):
        return {}
    return data


def _store_marshal(path: Path, data: dict[str, Any]) -> None:
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            ensure_ignored(path.parent)
        atomic_write(path, marshal.dumps({**data, "format": (CACHE_FORMAT, sys.version_info[:2])}), durable=False)
    except OSError:
        pass  # a read-only checkout still reads, just without the cache


def ensure_ignored(folder: Path) -> None:
    """Keep the cache out of ``git status`` even where .gitignore does not list .specweave/cache/."""
    cache_root = folder
    while cache_root.name != "cache" and cache_root.parent != cache_root:
        cache_root = cache_root.parent
    marker = (cache_root if cache_root.name == "cache" else folder) / ".gitignore"
    if not marker.exists():
        marker.write_text("# written by sw-registry: everything here is a rebuildable cache\n*\n")


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


def load_index(source: Source, *, use_cache: bool = True) -> Index:
    """The index of ``source``, parsing only metadata files whose fingerprint changed since the cache."""
    layout = source.layout
    # a read writes its cache only inside a project it found (SPEC §9): never a new .specweave/ elsewhere
    cache_dir = layout.cache_dir if use_cache and layout.specweave.is_dir() else None
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
    if changed or removed or not cache:
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
    return Index(source, Policy(policy_entry[1]), owners, aggregates, records, cache_dir, files)
