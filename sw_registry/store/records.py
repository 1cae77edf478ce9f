"""Version records: the few fields of a metadata.json that list, info, history and the derived files need,
and each model's aggregate for registry-list."""

from __future__ import annotations

import json

from .. import versions as V
from ..errors import IntegrityError
from ..inputs import MAX_DEPTH, MAX_YAML_NODES
from .files import parse_metadata

TYPE_CHECKING = False  # typing's own flag costs an import; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, TypedDict
else:  # a plain dict at run time: building a TypedDict class costs every process a few ms (issue 10)
    TypedDict = dict


class VersionRecord(TypedDict):
    """What the index keeps of one version: built only by ``summarize`` (from its metadata.json); a plain dict at
    run time, so the cache stores it as it is."""

    name: str
    version: str
    key: list[Any]  # versions.sort_key as a list (comparable, marshal-able)
    stage: str
    increment: str
    dir: str  # the version folder, relative to the project root
    created_at: str | None
    updated_at: str | None
    created_by: str | None
    deprecated: bool
    metrics: dict[str, Any]
    tags: list[str]
    max_seq: int
    stage_events: list[list[Any]]  # [seq, event, from, to, at, by, reason, forced] of each stage change
    events: list[list[Any]]  # EVENT_FIELDS of every event, as registry-history shows them
    lineage: dict[str, Any]
    artifact: dict[str, Any]  # path, sha256, size_bytes, store
    features: list[Any]  # feature names
    schema_version: int


Record = VersionRecord


def parse_record_source(raw: bytes, rel: str) -> dict[str, Any]:
    """parse_metadata(raw, rel), skipping its walk over every value when the bytes alone prove it would pass.

    A document with at most MAX_DEPTH brackets cannot nest deeper, and one of at most MAX_YAML_NODES bytes cannot
    hold more values: then only the JSON and the required keys are checked here. Anything else, and every error,
    goes through parse_metadata, so the messages stay the same.
    """
    if len(raw) <= MAX_YAML_NODES and raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("name"), str) and isinstance(data.get("version"), str):
            return data
    return parse_metadata(raw, rel)


def sort_key(version: str) -> list[Any]:
    """versions.sort_key as a list, without packaging for the plain MAJOR.MINOR.PATCH of almost every version."""
    parts = version.split(".")
    if len(parts) == 3 and len(version) <= 64 and all(p.isascii() and p.isdigit() for p in parts):
        return [int(parts[0]), int(parts[1]), int(parts[2]), 1, "", 0]
    try:
        return list(V.sort_key(version))
    except Exception:  # an unparseable version sorts first, and verify reports it
        return [-1, -1, -1, 0, "", 0]


def summarize(meta: dict[str, Any], rel: str) -> Record:
    """The few fields list, info and the derived files need, from one metadata.json."""
    folder = rel.rsplit("/", 1)[0]
    get = meta.get
    events, n_stage = _events(meta)
    art = get("artifact") or {}
    version = str(meta["version"])
    return {
        "name": meta["name"],
        "version": version,
        "key": sort_key(version),
        "stage": get("stage") or "dev",
        "increment": folder.split("/")[-3],
        "dir": folder,
        "created_at": get("created_at"),
        "updated_at": get("updated_at"),
        "created_by": get("created_by"),
        "deprecated": bool(get("deprecation")),
        "metrics": metrics if isinstance(metrics := get("metrics"), dict) else {},
        "tags": list(get("tags") or []),
        "max_seq": max((e[0] for e in events if isinstance(e[0], int)), default=0),
        # stage changes only, compact: what rollback targets and --date need without reading files
        "stage_events": [[e[0] or 0, *e[1:8]] for e in events[:n_stage]],
        # every event of the version (stage changes, approvals, deprecation), as registry-history shows them
        "events": events,
        "lineage": lineage if isinstance(lineage := get("lineage"), dict) else {},
        "artifact": {"path": art.get("path"), "sha256": art.get("sha256"), "size_bytes": art.get("size_bytes"),
                     "store": art.get("store")},
        "features": [f.get("name") for f in get("features") or [] if isinstance(f, dict)],
        "schema_version": get("schema_version", 1),
    }


EVENT_FIELDS = ("seq", "event", "from", "to", "at", "by", "reason", "forced", "auto")


def _events(meta: dict[str, Any]) -> tuple[list[list[Any]], int]:
    """[seq, event, from, to, at, by, reason, forced, auto] of each event recorded in one metadata.json, and how
    many of them (the first ones) are stage changes."""
    out: list[list[Any]] = [
        [e.get("seq"), e.get("event"), e.get("from"), e.get("to"), e.get("at"), e.get("by"), e.get("reason"),
         bool(e.get("forced")), bool(e.get("auto"))]
        for e in meta.get("stage_history") or []
        if isinstance(e, dict)
    ]
    n_stage = len(out)
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
    return out, n_stage


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
    from operator import itemgetter  # C-level keys: a write sorts up to every version of a model (issue 10)

    records = sorted(records, key=itemgetter("key", "dir"))
    if len(set(map(itemgetter("version"), records))) == len(records):
        return records
    for a, b in zip(records, records[1:]):
        if a["version"] == b["version"]:
            raise IntegrityError(
                f"{name}@{a['version']} is registered twice: {a['dir']} and {b['dir']}",
                hint="remove one copy (for example after a merge), then run 'sw-registry registry-reindex'",
                details={"paths": [a["dir"], b["dir"]]},
            )
    return records
