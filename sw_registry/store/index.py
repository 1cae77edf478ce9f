"""The read side: one interface over the work tree or a git revision, and a stat-validated cache.

list and info must not re-read every metadata.json on every call. The index keeps a small summary
of each version in ``.specweave/cache/sw-registry/``, keyed by each file's fingerprint (stat for
the work tree, blob id for a revision); only files whose fingerprint changed are parsed again.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import versions as V
from ..errors import IntegrityError, NotFound
from ..layout import Layout
from ..policy import Policy, validate
from .files import atomic_write, parse_metadata

if TYPE_CHECKING:
    from ..gitops import Repo

CACHE_FORMAT = 7
Record = dict[str, Any]


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


def summarize(meta: dict[str, Any], rel: str) -> Record:
    """The few fields list, info and the derived files need, from one metadata.json."""
    folder = rel.rsplit("/", 1)[0]
    parts = folder.split("/")
    history = [e for e in meta.get("stage_history") or [] if isinstance(e, dict)]
    dep = meta.get("deprecation")
    seqs = [
        e.get("seq")
        for e in [
            *history,
            *(a for a in meta.get("approvals") or [] if isinstance(a, dict)),
            *([dep] if isinstance(dep, dict) else []),
        ]
    ]
    art = meta.get("artifact") or {}
    version = str(meta["version"])
    try:
        key = list(V.sort_key(version))
    except Exception:  # an unparseable version sorts first, and verify reports it
        key = [-1, -1, -1, 0, "", 0]
    return {
        "name": meta["name"],
        "version": version,
        "key": key,
        "stage": meta.get("stage") or "dev",
        "increment": parts[-3],
        "dir": folder,
        "created_at": meta.get("created_at"),
        "updated_at": meta.get("updated_at"),
        "created_by": meta.get("created_by"),
        "deprecated": bool(meta.get("deprecation")),
        "metrics": meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {},
        "tags": list(meta.get("tags") or []),
        "max_seq": max((q for q in seqs if isinstance(q, int)), default=0),
        # stage changes only, compact: what rollback targets and --date need without reading files
        "stage_events": [
            [
                e.get("seq") or 0,
                e.get("event"),
                e.get("from"),
                e.get("to"),
                e.get("at"),
                e.get("by"),
                e.get("reason"),
                bool(e.get("forced")),
            ]
            for e in history
        ],
        # every event of the version (stage changes, approvals, deprecation), as registry-history shows them
        "events": _events(meta),
        "lineage": meta.get("lineage") if isinstance(meta.get("lineage"), dict) else {},
        "artifact": {k: art.get(k) for k in ("path", "sha256", "size_bytes", "store")},
        "features": [f.get("name") for f in meta.get("features") or [] if isinstance(f, dict)],
        "schema_version": meta.get("schema_version", 1),
    }


EVENT_FIELDS = ("seq", "event", "from", "to", "at", "by", "reason", "forced", "auto")


def _events(meta: dict[str, Any]) -> list[list[Any]]:
    """[seq, event, from, to, at, by, reason, forced, auto] of each event recorded in one metadata.json."""
    out: list[list[Any]] = [
        [e.get("seq"), e.get("event"), e.get("from"), e.get("to"), e.get("at"), e.get("by"), e.get("reason"),
         bool(e.get("forced")), bool(e.get("auto"))]
        for e in meta.get("stage_history") or []
        if isinstance(e, dict)
    ]
    out += [
        [a.get("seq"), "approve", None, a.get("stage"), a.get("at"), a.get("approver"), a.get("comment"), False, False]
        for a in meta.get("approvals") or []
        if isinstance(a, dict)
    ]
    dep = meta.get("deprecation")
    if isinstance(dep, dict):
        out.append(
            [dep.get("seq"), "deprecate", None, None, dep.get("at"), dep.get("by"), dep.get("reason"), False, False]
        )
    return out


def aggregate(records: list[Record]) -> dict[str, Any]:
    """What registry-list shows of a model, computed once per change of its versions (records sorted)."""
    prod = next((r for r in records if r["stage"] == "production"), None)
    staging = next((r for r in records if r["stage"] == "staging"), None)
    return {
        "count": len(records),
        "production": prod["version"] if prod else None,
        "production_metrics": dict(prod["metrics"]) if prod else None,
        "staging": staging["version"] if staging else None,
        "latest": records[-1]["version"] if records else None,
        "updated_at": max((r["updated_at"] or r["created_at"] or "" for r in records), default="") or None,
        "stages": sorted({r["stage"] for r in records}),
        "increments": sorted({r["increment"] for r in records}),
        "tags": sorted({t for r in records for t in r["tags"]}),
        "max_seq": max((r["max_seq"] for r in records), default=0),
        "newer_schema": [f"{r['dir']}/metadata.json" for r in records if _newer(r)],
    }


def _newer(rec: Record) -> bool:
    schema = rec.get("schema_version")
    return isinstance(schema, int) and schema > 1


def _sorted(records: list[Record], name: str) -> list[Record]:
    """A model's records in version order; the same NAME@VERSION twice is an ``integrity`` error."""
    records = sorted(records, key=lambda r: (r["key"], r["dir"]))
    for a, b in zip(records, records[1:]):
        if a["version"] == b["version"]:
            raise IntegrityError(
                f"{name}@{a['version']} is registered twice: {a['dir']} and {b['dir']}",
                hint="remove one copy (for example after a merge), then run 'sw-registry registry-reindex'",
                details={"paths": [a["dir"], b["dir"]]},
            )
    return records


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
        for rec in reversed(self.records_of(name)):
            if rec["stage"] == stage:
                return rec
        return None

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
    return summarize(parse_metadata(raw, rel), rel)


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
