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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import versions as V
from ..errors import IntegrityError, NotFound
from ..layout import Layout
from ..policy import Policy, validate
from .files import atomic_write, newer_schema_warning, parse_metadata

if TYPE_CHECKING:
    from ..gitops import Repo

CACHE_FORMAT = 4
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
        root = self.layout.root
        for inc in self.layout.increments():
            models = root / inc.rel / "models"
            try:
                it = os.scandir(models)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with it:
                names = [e.name for e in it if not e.name.startswith(".")]
            for name in names:
                rel = f"{inc.rel}/models/{name}/metadata.json"
                try:
                    st = os.stat(root / rel)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                out[rel] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return out

    def read(self, rel: str) -> bytes | None:
        try:
            return (self.layout.root / rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def fingerprint(self, rel: str) -> Any:
        try:
            st = os.stat(self.layout.root / rel)
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
        "lineage": meta.get("lineage") if isinstance(meta.get("lineage"), dict) else {},
        "artifact": {k: art.get(k) for k in ("path", "sha256", "size_bytes", "store")},
        "features": [f.get("name") for f in meta.get("features") or [] if isinstance(f, dict)],
        "schema_version": meta.get("schema_version", 1),
    }


@dataclass
class Index:
    """All versions of all models, as summaries, plus the policy."""

    records: list[Record]
    policy: Policy
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_model: dict[str, list[Record]] = {}
        for rec in self.records:
            self.by_model.setdefault(rec["name"], []).append(rec)
        for recs in self.by_model.values():
            recs.sort(key=lambda r: r["key"])

    def names(self) -> list[str]:
        return sorted(self.by_model)

    def versions_of(self, name: str) -> list[Record]:
        recs = self.by_model.get(name)
        if not recs:
            raise NotFound(
                f"no model named {name!r}",
                hint="known models: " + (", ".join(self.names()) or "none yet; register one with registry-register"),
            )
        return recs

    def find(self, name: str, version: str) -> Record | None:
        for rec in self.by_model.get(name, ()):
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
        for rec in self.by_model.get(name, ()):
            if rec["stage"] == stage:
                return rec
        return None

    def max_seq(self, name: str) -> int:
        return max((r["max_seq"] for r in self.by_model.get(name, ())), default=0)

    def in_increment(self, increment: str) -> list[Record]:
        return sorted((r for r in self.records if r["increment"] == increment), key=lambda r: (r["name"], r["key"]))


def _cache_path(layout: Layout, source: Source) -> Path:
    return layout.cache_dir / f"index-{source.cache_key}.marshal"


def _load_cache(path: Path) -> dict[str, Any]:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != (CACHE_FORMAT, sys.version_info[:2]):
        return {}
    return data


def _policy(source: Source, cached: Any) -> tuple[Any, dict[str, Any]]:
    rel = ".specweave/registry.yaml"
    fp = source.fingerprint(rel)
    if cached and cached[0] == fp:
        return fp, cached[1]
    raw = source.read(rel)
    if raw is None:
        return fp, {}
    import yaml

    from ..errors import ConfigError

    try:
        data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ConfigError(f"registry.yaml does not parse: {exc}", hint="fix .specweave/registry.yaml") from None
    return fp, validate(data)


def load_index(source: Source, *, use_cache: bool = True) -> Index:
    """Build the index, parsing only metadata files whose fingerprint changed since the cache."""
    layout = source.layout
    cache_file = _cache_path(layout, source)
    cache = _load_cache(cache_file) if use_cache else {}
    old: dict[str, Any] = cache.get("entries", {})
    files = source.metadata_files()
    entries: dict[str, Any] = {}
    changed = set(files) != set(old)
    stale = [rel for rel, fp in files.items() if rel not in old or old[rel][0] != fp]
    if stale and isinstance(source, GitRevSource):
        source.prefetch(stale)
    warnings: list[str] = []
    for rel, fp in files.items():
        hit = old.get(rel)
        if hit is not None and hit[0] == fp:
            entries[rel] = hit
            continue
        raw = source.read(rel)
        if raw is None:
            continue
        meta = parse_metadata(raw, rel)
        entries[rel] = (fp, summarize(meta, rel))
        changed = True
    policy_entry = _policy(source, cache.get("policy"))
    if policy_entry != tuple(cache.get("policy") or ()):
        changed = True
    records = []
    seen: dict[tuple[str, str], str] = {}
    for rel in sorted(entries):
        rec = entries[rel][1]
        key = (rec["name"], rec["version"])
        if key in seen:
            raise IntegrityError(
                f"{rec['name']}@{rec['version']} is registered twice: {seen[key]} and {rec['dir']}",
                hint="remove one copy (for example after a merge), then run 'sw-registry registry-reindex'",
                details={"paths": [seen[key], rec["dir"]]},
            )
        seen[key] = rec["dir"]
        if rec["schema_version"] != 1 and isinstance(rec["schema_version"], int) and rec["schema_version"] > 1:
            warnings.append(newer_schema_warning({"schema_version": rec["schema_version"]}, rel) or "")
        records.append(rec)
    if changed and use_cache:
        try:
            payload = {"format": (CACHE_FORMAT, sys.version_info[:2]), "entries": entries, "policy": policy_entry}
            atomic_write(cache_file, marshal.dumps(payload), durable=False)
        except OSError:
            pass  # a read-only checkout still reads, just without the cache
    return Index(records, Policy(policy_entry[1]), warnings)
