"""Production monitoring and auto-rollback (SPEC §7.8, §5 ``auto_rollback``, §12 ``ModelMonitor``).

``record`` appends observations to ``registry/monitoring/<name>.jsonl`` of the production version's increment
and evaluates the model's triggers (pure functions in triggers.py). Healthy: one commit (event ``monitor``).
A breach rolls production back to the previous production version through the same rollback machinery as
``registry-rollback`` (ops/moves.py ``move``), in the same commit as the observations (event ``rollback``,
``Registry-Auto: true``). A breach with no target records the observations and raises ``threshold_breached``.
``record=False`` evaluates only and changes nothing.

This module is the face (``record``, the policy setters, ``ModelMonitor``); monitor_observations.py parses and
evaluates, monitor_record.py writes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import triggers as T
from . import versions as V
from .errors import InvalidInput, ThresholdBreached, UsageError

# observations and their evaluation, and the writes, live in modules of their own; their public names are
# importable from here as before (ops/docs.py and the API use them)
from .monitor_observations import (
    OBS_HINT,
    became_production,
    doc_status,
    monitoring_rel,
    observations_from,
    parse_lines,
)
from .monitor_record import MonitorResult, evaluate_only, record_observations

__all__ = [
    "OBS_HINT",
    "ModelMonitor",
    "MonitorResult",
    "became_production",
    "doc_status",
    "monitoring_rel",
    "observations_from",
    "parse_lines",
    "record",
    "seed_triggers",
    "set_triggers",
]

if TYPE_CHECKING:
    from .registry import ModelRegistry
    from .results import ChangeResult



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
    obs = observations_from(metrics, lines, at=at, now=registry.ctx.now())
    if not record:
        return evaluate_only(registry, name, obs)
    result = published(registry, lambda: record_observations(registry, name, obs))
    if result.status == "breached":
        first = T.first_breach(result.evaluations) or {}
        raise ThresholdBreached(
            f"{name} v{result.version}: {T.reason(first)[len('auto-rollback: ') :]}, and there is no version to "
            f"roll back to ({result.rollback_refused}); the observations were recorded",
            hint=f"roll back or promote by hand (sw-registry registry-history {name}), or fix the production model",
            details=result.to_dict(),
        )
    return result


# -- policy: the seed's trigger names ------------------------------------------------------


def set_triggers(registry: ModelRegistry, name: str | None, triggers: dict[str, Any]) -> ChangeResult:
    """Merge ``triggers`` into the model's ``auto_rollback`` (or ``defaults.auto_rollback`` for every model)."""
    import copy

    from .errors import UsageError
    from .ops.policy import write_policy

    if not triggers:
        raise UsageError("no trigger given", hint="pass at least one threshold")
    if name is not None:
        V.validate_name(name)
    with registry.ctx.write() as tx:
        data = copy.deepcopy(tx.index.policy.data) or {"schema_version": 1}
        if name is None:
            section = data.setdefault("defaults", {})
        else:
            section = data.setdefault("models", {}).setdefault(name, {})
        section.setdefault("auto_rollback", {}).update(copy.deepcopy(triggers))
        return write_policy(tx, data, f"registry: auto-rollback triggers for {name or 'every model'}", name)


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
        self.registry.ctx.index().versions_of(name)  # not_found for an unknown model
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
            direction = T.direction(metric, self.registry.ctx.index().policy.lower_is_better)
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
