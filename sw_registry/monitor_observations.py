"""Monitoring observations (SPEC §7.8): parsing them, the monitoring file, and evaluating the triggers.

Pure functions over the index and the files' bytes (the trigger rules themselves are in triggers.py); the
writes are in monitor_record.py, the public face in monitor.py.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from . import triggers as T
from .errors import InvalidInput, UsageError
from .inputs import check_depth

if TYPE_CHECKING:
    from .store.index import Index, Source
    from .store.records import Record


# -- observations in ---------------------------------------------------------------------


def _instant(text: Any, where: str) -> str:
    from .lifecycle import to_instant

    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{where}: 'at' must be an ISO date-time, got {text!r}", hint="e.g. 2024-01-15T10:30:00Z")
    return to_instant(text)


def _metrics(values: Any, where: str) -> dict[str, float | int]:
    if not isinstance(values, dict) or not values:
        raise InvalidInput(f"{where}: 'metrics' must be a non-empty mapping of names to numbers", hint=OBS_HINT)
    for key, value in values.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidInput(f"{where}: metric names must be text, got {key!r}", hint=OBS_HINT)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(f"{where}: metric {key!r} must be a finite number, got {value!r}", hint=OBS_HINT)
    return dict(values)


OBS_HINT = 'each line is {"at": "2024-01-15T10:30:00Z", "metrics": {"error_rate": 0.02}}'


def observations_from(
    metrics: dict[str, Any] | None = None,
    lines: str | None = None,
    *,
    at: str | None = None,
    now: str,
) -> list[dict[str, Any]]:
    """``{"at", "metrics"}`` observations from ``--metric`` values or JSON lines (``--observations``).

    ``at`` (default ``now``) is the time of ``metrics`` and of lines that give none.
    """
    if (metrics is None) == (lines is None):
        raise UsageError(
            "give observations either as metrics or as JSON lines, not both or neither",
            hint="pass --metric NAME=VALUE (repeatable) or --observations FILE (or - for stdin)",
        )
    default_at = _instant(at, "--at") if at is not None else now
    if metrics is not None:
        return [{"at": default_at, "metrics": _metrics(metrics, "--metric")}]
    out = []
    for number, line in enumerate(str(lines).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"observations line {number}"
        try:
            doc = check_depth(json.loads(line), "observations line", where)
        except ValueError as exc:
            raise InvalidInput(f"{where} is not JSON: {exc}", hint=OBS_HINT) from None
        except RecursionError:  # json's own decoder gives up on nesting deeper than the interpreter's limit
            raise InvalidInput(f"{where} is nested too deeply", hint=OBS_HINT) from None
        if not isinstance(doc, dict):
            raise InvalidInput(f"{where} must be a JSON object", hint=OBS_HINT)
        when = _instant(doc["at"], where) if doc.get("at") is not None else default_at
        out.append({"at": when, "metrics": _metrics(doc.get("metrics"), where)})
    if not out:
        raise InvalidInput("the observations are empty", hint=OBS_HINT)
    return out


# -- the monitoring file -----------------------------------------------------------------


def monitoring_rel(version_dir: str, name: str) -> str:
    """``<increment>/registry/monitoring/<name>.jsonl`` of the increment holding ``version_dir``."""
    return f"{version_dir.rsplit('/models/', 1)[0]}/registry/monitoring/{name}.jsonl"


def parse_lines(raw: bytes | None, rel: str) -> list[dict[str, Any]]:
    from .errors import IntegrityError

    if not raw:
        return []
    out = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IntegrityError(f"{rel} is not UTF-8", hint="restore it from git") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = check_depth(json.loads(line), "monitoring line", f"{rel} line {number}", IntegrityError)
        except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
            doc = None
        if not isinstance(doc, dict):
            raise IntegrityError(f"{rel} line {number} is not a JSON object", hint="restore it from git")
        out.append(doc)
    return out


def jsonl_line(obs: dict[str, Any], version: str, by: str | None) -> str:
    record = {"at": obs["at"], "version": version, "metrics": obs["metrics"], "recorded_by": by}
    return json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"


def became_production(index: Index, name: str, version: str) -> str | None:
    """When ``version`` last became production (its stage event's time; events in seq order)."""
    from .lifecycle import stage_events

    at = None
    for e in stage_events(index.versions_of(name)):
        if e["version"] == version and e["to"] == "production" and e["from"] != "production":
            at = e["at"]
    return at


def evaluate(
    index: Index, rec: Record, lines: list[dict[str, Any]], new: list[dict[str, Any]], now: str
) -> list[dict[str, Any]]:
    name, version = rec["name"], rec["version"]
    mine = [o for o in lines if o.get("version") == version] + new
    instant = max([now, *(o["at"] for o in new)])
    return T.evaluate(
        index.policy.auto_rollback(name),
        mine,
        instant=instant,
        since=became_production(index, name, version),
        registered=rec.get("metrics") or {},
    )


def rollback_target(index: Index, name: str, current: str) -> tuple[Record | None, str | None]:
    """The auto-rollback target or why there is none: the previous *stable* production version, so never one
    that production was rolled back from (two breaching versions must not take turns in production)."""
    from .lifecycle import previous_production, stage_events

    evts = stage_events(index.versions_of(name))
    unstable = {
        e["version"]
        for e in evts
        if e["event"] == "archive" and e["from"] == "production" and str(e["reason"] or "").startswith("rolled back")
    }
    version = previous_production([e for e in evts if e["version"] not in unstable], current)
    if version is None:
        return None, f"{name} has no earlier stable production version to roll back to"
    rec = index.get(name, version)
    if rec["deprecated"]:
        return None, f"the previous production version v{version} is deprecated"
    return rec, None


def warnings_for(index: Index, name: str, version: str, evaluations: list[dict[str, Any]]) -> tuple[str, ...]:
    if not index.policy.auto_rollback(name):
        return (
            f"{name} has no auto_rollback triggers: the observations are recorded, nothing is evaluated "
            f'(set some with: sw-registry registry-policy {name} --trigger "error_rate>0.05")',
        )
    return tuple(
        f"accuracy_drop is not evaluated: {name} v{version} has no registered accuracy"
        for e in evaluations
        if e["state"] == "no_baseline"
    )


def doc_status(source: Source, index: Index, name: str) -> dict[str, Any] | None:
    """For the living doc: the triggers of a monitored model evaluated at the production version's latest
    observation (deterministic: the same files give the same figures), or None when it has no triggers."""
    triggers = index.policy.auto_rollback(name)
    if not triggers:
        return None
    rec = index.holder(name, "production")
    if rec is None:
        return {"version": None, "instant": None, "observations": 0, "evaluations": []}
    rel = monitoring_rel(rec["dir"], name)
    since = became_production(index, name, rec["version"])
    mine = [
        o
        for o in parse_lines(source.read(rel), rel)
        if o.get("version") == rec["version"] and isinstance(o.get("at"), str) and o["at"] >= (since or "")
    ]
    instant = max((o["at"] for o in mine), default=since or "1970-01-01T00:00:00Z")
    evaluations = T.evaluate(triggers, mine, instant=instant, since=since, registered=rec.get("metrics") or {})
    return {"version": rec["version"], "instant": instant, "observations": len(mine), "evaluations": evaluations}


