"""Production monitoring and auto-rollback (SPEC §7.8, §5 ``auto_rollback``, §12 ``ModelMonitor``).

``record`` appends observations to ``registry/monitoring/<name>.jsonl`` of the production version's increment
and evaluates the model's triggers (pure functions in triggers.py). Healthy: one commit (event ``monitor``).
A breach rolls production back to the previous production version through the same rollback machinery as
``registry-rollback`` (workflow.py ``_move``), in the same commit as the observations (event ``rollback``,
``Registry-Auto: true``). A breach with no target records the observations and raises ``threshold_breached``.
``record=False`` evaluates only and changes nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import triggers as T
from . import versions as V
from .errors import InvalidInput, NotFound, ThresholdBreached, UsageError

if TYPE_CHECKING:
    from .registry import ModelRegistry
    from .results import ChangeResult
    from .store.index import Index, Source
    from .transaction import Transaction


@dataclass(frozen=True)
class MonitorResult:
    """registry-monitor's result; ``to_dict()`` is its JSON data (SPEC §9.1)."""

    name: str
    version: str
    status: str  # healthy | rolled_back | breached (evaluated only, or no rollback target)
    evaluations: list[dict[str, Any]]
    rolled_back_to: str | None
    commit: str | None
    recorded: int = 0
    reason: str | None = None  # on a breach: "auto-rollback: <metric> <value> breached <threshold>"
    would_roll_back_to: str | None = None  # with record=False: the version a breach would roll back to
    rollback_refused: str | None = None  # on a breach with no rollback target: why
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "evaluations": [dict(e) for e in self.evaluations],
            "rolled_back_to": self.rolled_back_to,
            "commit": self.commit,
            "recorded": self.recorded,
            "reason": self.reason,
            "would_roll_back_to": self.would_roll_back_to,
            "rollback_refused": self.rollback_refused,
        }
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


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
            doc = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"{where} is not JSON: {exc}", hint=OBS_HINT) from None
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
            doc = json.loads(line)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise IntegrityError(f"{rel} line {number} is not a JSON object", hint="restore it from git")
        out.append(doc)
    return out


def _line(obs: dict[str, Any], version: str, by: str | None) -> str:
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


def _evaluate(
    index: Index, rec: dict[str, Any], lines: list[dict[str, Any]], new: list[dict[str, Any]], now: str
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


def _target(index: Index, name: str, current: str) -> tuple[dict[str, Any] | None, str | None]:
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


def _warnings(index: Index, name: str, version: str, evaluations: list[dict[str, Any]]) -> tuple[str, ...]:
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


# -- record / evaluate -------------------------------------------------------------------


def record(
    registry: ModelRegistry,
    name: str,
    *,
    metrics: dict[str, Any] | None = None,
    observations: str | list[dict[str, Any]] | None = None,
    at: str | None = None,
    record: bool = True,
) -> MonitorResult:
    """Record production observations of ``name`` and act on its triggers (SPEC §7.8).

    ``observations`` is JSON lines text or a list of ``{"at", "metrics"}`` dicts. Raises ``threshold_breached``
    (after the observations are committed) when a trigger breaches and there is no version to roll back to.
    """
    from .publish import published

    V.validate_name(name)
    lines = (
        "\n".join(json.dumps(o, default=str) for o in observations) if isinstance(observations, list) else observations
    )
    obs = observations_from(metrics, lines, at=at, now=registry._now())
    if not record:
        return _evaluate_only(registry, name, obs)
    result = published(registry, lambda: _record(registry, name, obs))
    if result.status == "breached":
        first = T.first_breach(result.evaluations) or {}
        raise ThresholdBreached(
            f"{name} v{result.version}: {T.reason(first)[len('auto-rollback: ') :]}, and there is no version to "
            f"roll back to ({result.rollback_refused}); the observations were recorded",
            hint=f"roll back or promote by hand (sw-registry registry-history {name}), or fix the production model",
            details=result.to_dict(),
        )
    return result


def _production(index: Index, name: str) -> dict[str, Any]:
    index.versions_of(name)  # not_found for an unknown model
    rec = index.holder(name, "production")
    if rec is None:
        raise NotFound(
            f"model {name!r} has no version in production to monitor",
            hint=f"promote one first: sw-registry registry-promote {name} VERSION --to production",
        )
    return rec


def _evaluate_only(registry: ModelRegistry, name: str, obs: list[dict[str, Any]]) -> MonitorResult:
    index = registry.index()
    rec = _production(index, name)
    rel = monitoring_rel(rec["dir"], name)
    lines = parse_lines(registry.source().read(rel), rel)
    evaluations = _evaluate(index, rec, lines, obs, registry._now())
    breach = T.first_breach(evaluations)
    target = _target(index, name, rec["version"])[0] if breach else None
    return MonitorResult(
        name, rec["version"], "breached" if breach else "healthy", evaluations, rolled_back_to=None, commit=None,
        reason=T.reason(breach) if breach else None, would_roll_back_to=target["version"] if target else None,
        warnings=_warnings(index, name, rec["version"], evaluations),
    )  # fmt: skip


def _record(registry: ModelRegistry, name: str, obs: list[dict[str, Any]]) -> MonitorResult:
    with registry._write() as tx:
        index = tx.index
        rec = _production(index, name)
        version = rec["version"]
        rel = monitoring_rel(rec["dir"], name)
        path = registry.layout.abs(rel)
        raw = path.read_bytes() if path.exists() else b""
        lines = parse_lines(raw, rel)
        if raw and not raw.endswith(b"\n"):
            raw += b"\n"
        tx.write(rel, raw + "".join(_line(o, version, tx.actor) for o in obs).encode("utf-8"))
        evaluations = _evaluate(index, rec, lines, obs, registry._now())
        warnings = _warnings(index, name, rec["version"], evaluations)
        breach = T.first_breach(evaluations)
        if breach is None:
            commit = tx.commit(
                f"registry: monitor {name} v{version} ({len(obs)} observation{'s' if len(obs) != 1 else ''})",
                {"Event": "monitor", "Model": name, "Version": version, "Actor": tx.actor},
            )
            return MonitorResult(
                name, version, "healthy", evaluations, None, commit, len(obs), warnings=(*warnings, *tx.warnings)
            )
        why = T.reason(breach)
        target, refusal = _target(index, name, version)
        if target is not None:
            refusal = _verify(registry, target)
        if target is None or refusal is not None:
            commit = tx.commit(
                f"registry: monitor {name} v{version}: {why[len('auto-rollback: ') :]}, no rollback target",
                {"Event": "monitor", "Model": name, "Version": version, "Actor": tx.actor, "Reason": why},
                body=refusal,
            )
            return MonitorResult(
                name, version, "breached", evaluations, None, commit, len(obs), why,
                rollback_refused=refusal, warnings=(*warnings, *tx.warnings),
            )  # fmt: skip
        commit = _auto_rollback(registry, tx, rec, target, why)
        return MonitorResult(
            name, version, "rolled_back", evaluations, target["version"], commit, len(obs), why,
            warnings=(*warnings, *tx.warnings),
        )  # fmt: skip


def _verify(registry: ModelRegistry, target: dict[str, Any]) -> str | None:
    """The rollback target's artifact hash, checked first as registry-rollback does; the refusal, if any."""
    from .errors import IntegrityError
    from .store.artifacts import verify_artifact

    meta = registry._read_metadata(target)
    art = meta.get("artifact") or {}
    try:
        verify_artifact(
            registry.layout.abs(f"{target['dir']}/{art.get('path', '')}"), art, f"{target['name']}@{target['version']}"
        )
    except IntegrityError as exc:
        return f"the rollback target failed its hash check: {exc.message}"
    return None


def _auto_rollback(
    registry: ModelRegistry, tx: Transaction, current: dict[str, Any], target: dict[str, Any], why: str
) -> str | None:
    """The rollback of workflow.py, marked automatic, into the commit that also holds the observations."""
    name, target_ver = current["name"], target["version"]
    seqs, incs = registry._move(
        tx, target, "rollback", "production", why, False, current, f"rolled back to v{target_ver}: {why}", auto=True
    )
    return registry._finish(
        tx,
        incs,
        f"registry: auto-rollback {name} to v{target_ver}",
        {
            "Event": "rollback",
            "Model": name,
            "Version": target_ver,
            "From": target["stage"],
            "To": "production",
            "Actor": tx.actor,
            "Reason": why,
            "Auto": "true",
            "Replaced": current["version"],
            "Seq": ",".join(seqs),
        },
    )


# -- policy: the seed's trigger names ------------------------------------------------------


def set_triggers(registry: ModelRegistry, name: str | None, triggers: dict[str, Any]) -> ChangeResult:
    """Merge ``triggers`` into the model's ``auto_rollback`` (or ``defaults.auto_rollback`` for every model)."""
    import copy

    from .errors import UsageError

    if not triggers:
        raise UsageError("no trigger given", hint="pass at least one threshold")
    if name is not None:
        V.validate_name(name)
    with registry._write() as tx:
        data = copy.deepcopy(tx.index.policy.data) or {"schema_version": 1}
        if name is None:
            section = data.setdefault("defaults", {})
        else:
            section = data.setdefault("models", {}).setdefault(name, {})
        section.setdefault("auto_rollback", {}).update(copy.deepcopy(triggers))
        return registry._write_policy(tx, data, f"registry: auto-rollback triggers for {name or 'every model'}", name)


def seed_triggers(
    *,
    error_rate_threshold: float | None = None,
    latency_threshold: float | None = None,
    accuracy_drop_threshold: float | None = None,
    window: str | None = None,
    min_observations: int | None = None,
) -> dict[str, Any]:
    """The seed's ``set_auto_rollback_triggers`` arguments as SPEC §5 triggers (SPEC §7.8 maps them)."""
    given = {
        "error_rate_threshold": error_rate_threshold,
        "latency_threshold": latency_threshold,
        "accuracy_drop_threshold": accuracy_drop_threshold,
    }
    out: dict[str, Any] = {}
    for arg, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(f"{arg} must be a number, got {value!r}", hint=f"e.g. {arg}=0.05")
        metric, bound = T.SEED_TRIGGERS[arg]
        if bound is None:
            out[metric] = value
            continue
        rule: dict[str, Any] = {bound: value}
        if window is not None:
            rule["window"] = window
        if min_observations is not None:
            rule["min_observations"] = min_observations
        out[metric] = rule
    return out


class ModelMonitor:
    """The seed's monitoring API (SPEC §12)::

    monitor = ModelMonitor(registry=registry)
    monitor.track_model(name="fraud-detection-model", stage="production", metrics=["accuracy", "error_rate"])
    monitor.set_auto_rollback(metric="accuracy", threshold=0.80, window="24h")
    monitor.record({"accuracy": 0.91, "error_rate": 0.01})
    """

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self.name: str | None = None
        self.metrics: list[str] | None = None

    def track_model(self, name: str, stage: str = "production", metrics: list[str] | None = None) -> ModelMonitor:
        """Watch ``name``'s production version; ``metrics`` limits what ``record`` accepts (None: any)."""
        V.validate_name(name)
        if stage != "production":
            raise InvalidInput(
                f"only the production version is monitored, not {stage!r}", hint="use stage='production'"
            )
        self.registry.index().versions_of(name)  # not_found for an unknown model
        self.name = name
        self.metrics = list(metrics) if metrics is not None else None
        return self

    def _model(self, name: str | None) -> str:
        chosen = name or self.name
        if chosen is None:
            raise UsageError("no model is tracked", hint="call track_model(name=...) first, or pass name=")
        return chosen

    def set_auto_rollback(
        self,
        metric: str,
        threshold: float,
        window: str | None = None,
        *,
        min_observations: int | None = None,
        direction: str | None = None,
        name: str | None = None,
    ) -> ChangeResult:
        """Roll back when ``metric`` crosses ``threshold`` (one commit to registry.yaml, event ``policy``).

        The direction is ``max`` for metrics where lower is better (``metrics.lower_is_better``: latency,
        error…) and ``min`` otherwise, unless ``direction`` says; ``metric="accuracy_drop"`` sets the relative
        drop from the registered accuracy.
        """
        model = self._model(name)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise InvalidInput(f"threshold must be a number, got {threshold!r}", hint="e.g. threshold=0.80")
        if metric == T.ACCURACY_DROP:
            if window is not None or min_observations is not None or direction is not None:
                raise InvalidInput(
                    "accuracy_drop takes only a threshold (it is measured since the version became production)",
                    hint="drop window, min_observations and direction",
                )
            return set_triggers(self.registry, model, {metric: threshold})
        if direction is None:
            direction = T.direction(metric, self.registry.index().policy.lower_is_better)
        if direction not in ("min", "max"):
            raise InvalidInput(f"direction must be 'min' or 'max', not {direction!r}", hint="min: breach below")
        rule: dict[str, Any] = {direction: threshold}
        if window is not None:
            rule["window"] = window
        if min_observations is not None:
            rule["min_observations"] = min_observations
        return set_triggers(self.registry, model, {metric: rule})

    def record(
        self,
        metrics: dict[str, Any] | str | None = None,
        values: dict[str, Any] | None = None,
        *,
        observations: str | list[dict[str, Any]] | None = None,
        at: str | None = None,
        record: bool = True,
        name: str | None = None,
    ) -> MonitorResult:
        """Record observations of the tracked model and act on its triggers (``registry-monitor``).

        ``record({"error_rate": 0.02})`` for the tracked model, or ``record("other-model", {...})``.
        """
        if isinstance(metrics, str):
            if name is not None:
                raise UsageError("the model is named twice", hint="pass it positionally or as name=, not both")
            name, metrics = metrics, values
        elif values is not None:
            raise UsageError("give the metrics once", hint="record({'error_rate': 0.02}) or record(name, {...})")
        model = self._model(name)
        if self.metrics is not None:
            given = set(metrics or {})
            for o in observations if isinstance(observations, list) else []:
                given |= set((o or {}).get("metrics") or {})
            unknown = sorted(given - set(self.metrics))
            if unknown:
                raise InvalidInput(
                    f"{model} is not tracked for {', '.join(unknown)}",
                    hint="track them: track_model(..., metrics=[...]) lists the metrics this monitor records",
                )
        return self.registry.monitor(model, metrics=metrics, observations=observations, at=at, record=record)
