"""Auto-rollback triggers (SPEC §5, §7.8): pure functions over plain data, no files, no git, no clock.

A trigger ``{max: X}`` breaches when the mean of a metric's observations in its window is above X, ``{min: X}``
when it is below X; ``accuracy_drop: F`` when the mean observed accuracy is more than the fraction F below the
version's registered accuracy. The window defaults to "since this version became production" and
``min_observations`` to 1: with fewer observations in the window a trigger is not evaluated.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ConfigError

WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ACCURACY_DROP = "accuracy_drop"
ACCURACY = "accuracy"

# the seed's names (set_auto_rollback_triggers) -> the trigger they set (SPEC §7.8)
SEED_TRIGGERS = {
    "error_rate_threshold": ("error_rate", "max"),
    "latency_threshold": ("inference_latency_p95_ms", "max"),
    "accuracy_drop_threshold": (ACCURACY_DROP, None),
}


def window_seconds(text: str, where: str = "window") -> float:
    """'24h' -> 86400. Units: s, m, h, d, w. Anything else is a ``config_error`` naming ``where``."""
    m = WINDOW.match(str(text))
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(
            f"registry.yaml: {where} must be a duration such as 30m, 24h or 7d, got {text!r}",
            hint="write a positive number followed by s, m, h, d or w",
        )
    return float(m.group(1)) * UNIT_SECONDS[m.group(2)]


def check_trigger(where: str, metric: str, rule: Any) -> None:
    """A trigger's values beyond their types: ``config_error`` naming the key (policy.validate calls this)."""
    if metric == ACCURACY_DROP:
        if not 0 < float(rule) < 1:
            raise ConfigError(
                f"registry.yaml: {where} must be a fraction between 0 and 1, got {rule!r}",
                hint="e.g. accuracy_drop: 0.10 (roll back when accuracy falls 10% below the registered value)",
            )
        return
    if "max" not in rule and "min" not in rule:
        raise ConfigError(
            f"registry.yaml: {where} needs max or min", hint=f"e.g. {metric}: {{max: 0.05}} or {metric}: {{min: 0.8}}"
        )
    if "window" in rule:
        window_seconds(rule["window"], f"{where}.window")
    if "min_observations" in rule and rule["min_observations"] < 1:
        raise ConfigError(f"registry.yaml: {where}.min_observations must be at least 1", hint="use 1 or more")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def figure(value: float | None) -> str:
    """A number as reasons and docs show it: up to 6 significant digits, no float noise."""
    if value is None:
        return "-"
    return f"{value:.6g}"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _window_start(rule: dict[str, Any], instant: datetime, since: str | None) -> tuple[str | None, str]:
    """(earliest observation time counted, the window as shown)."""
    starts = [since] if since else []
    label = "since production"
    if rule.get("window"):
        starts.append(iso(instant - timedelta(seconds=window_seconds(rule["window"]))))
        label = str(rule["window"])
    return (max(starts) if starts else None), label


def _values(observations: list[dict[str, Any]], metric: str, start: str | None, end: str) -> list[float]:
    out = []
    for o in observations:
        at = o.get("at") or ""
        value = (o.get("metrics") or {}).get(metric)
        in_window = (start is None or at >= start) and at <= end
        if in_window and isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(float(value))
    return out


def evaluate(
    triggers: dict[str, Any],
    observations: list[dict[str, Any]],
    *,
    instant: str,
    since: str | None,
    registered: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every trigger over ``observations`` (the production version's, as ``{"at", "metrics"}``).

    ``instant`` is when the evaluation happens (the window's end), ``since`` when the version became
    production (the default window's start), ``registered`` the version's registered metrics (for
    ``accuracy_drop``). Each evaluation: ``metric``, ``value`` (the mean, or for accuracy_drop the relative
    drop), ``threshold``, ``breached``, plus ``kind`` (max/min/accuracy_drop), ``window``, ``observations``,
    ``min_observations`` and ``state``: ``ok``, ``breached``, ``insufficient`` (fewer observations than
    needed), ``no_data`` or ``no_baseline`` (accuracy_drop on a version without a registered accuracy).
    """
    now = parse_time(instant)
    out = []
    for metric, rule in triggers.items():
        if metric == ACCURACY_DROP:
            out.append(_accuracy_drop(float(rule), observations, instant, since, registered or {}))
            continue
        start, label = _window_start(rule, now, since)
        values = _values(observations, metric, start, instant)
        needed = int(rule.get("min_observations", 1))
        mean = _mean(values)
        kind = "max" if "max" in rule else "min"
        threshold = float(rule[kind])
        over = mean is not None and (mean > threshold if kind == "max" else mean < threshold)
        # a trigger with both bounds: the min bound is checked when the max bound holds
        if not over and kind == "max" and "min" in rule and mean is not None and mean < float(rule["min"]):
            kind, threshold, over = "min", float(rule["min"]), True
        state = "no_data" if mean is None else "insufficient" if len(values) < needed else "breached" if over else "ok"
        out.append(
            {
                "metric": metric,
                "value": mean,
                "threshold": threshold,
                "breached": state == "breached",
                "kind": kind,
                "window": label,
                "observations": len(values),
                "min_observations": needed,
                "state": state,
            }
        )
    return out


def _accuracy_drop(
    fraction: float, observations: list[dict[str, Any]], instant: str, since: str | None, registered: dict[str, Any]
) -> dict[str, Any]:
    values = _values(observations, ACCURACY, since, instant)
    mean = _mean(values)
    base = registered.get(ACCURACY)
    base = float(base) if isinstance(base, (int, float)) and not isinstance(base, bool) and base else None
    drop = None if mean is None or base is None else (base - mean) / abs(base)
    state = "no_baseline" if base is None else "no_data" if drop is None else "breached" if drop > fraction else "ok"
    return {
        "metric": ACCURACY_DROP,
        "value": drop,
        "threshold": fraction,
        "breached": state == "breached",
        "kind": ACCURACY_DROP,
        "window": "since production",
        "observations": len(values),
        "min_observations": 1,
        "state": state,
        "observed": mean,
        "registered": base,
    }


def first_breach(evaluations: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((e for e in evaluations if e["breached"]), None)


def reason(evaluation: dict[str, Any]) -> str:
    """The rollback reason SPEC §7.8 names: ``auto-rollback: <metric> <value> breached <threshold>``."""
    value, threshold = figure(evaluation["value"]), figure(evaluation["threshold"])
    return f"auto-rollback: {evaluation['metric']} {value} breached {threshold}"


def direction(metric: str, lower_is_better: list[str]) -> str:
    """Which bound a seed-style threshold sets: ``max`` for a lower-is-better metric (latency, error…), else ``min``."""
    from .compare import lower_is_better as lib

    return "max" if lib(metric, lower_is_better) else "min"


# a trigger as registry-policy --trigger writes it: METRIC<VALUE (breach below) or METRIC>VALUE (above)
TRIGGER = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*([<>])\s*([-+0-9.eE]+)\s*$")


def parse_triggers(items: list[str] | None, window: str | None) -> dict[str, Any]:
    """The trigger grammar of ``--trigger``: 'accuracy<0.80' -> {accuracy: {min: 0.8}}; 'error_rate>0.05' ->
    {error_rate: {max: 0.05}}; ``window`` (``--window``) is set on each. A bad trigger is ``invalid_input``, a
    window without triggers ``usage`` (alone it would do nothing)."""
    from .errors import InvalidInput, UsageError

    if window and not items:  # a window belongs to the triggers it sets: alone it would do nothing
        raise UsageError(
            "--window sets the window of the --trigger options given with it", hint='add --trigger "METRIC>VALUE"'
        )
    out: dict[str, Any] = {}
    for item in items or []:
        m = TRIGGER.match(item)
        if not m:
            raise InvalidInput(f"invalid trigger {item!r}", hint='write "METRIC<VALUE" or "METRIC>VALUE"')
        try:
            value = float(m.group(3))
        except ValueError:
            raise InvalidInput(f"invalid trigger value in {item!r}", hint="use a number") from None
        rule: dict[str, Any] = {"min" if m.group(2) == "<" else "max": value}
        if window:
            rule["window"] = window
        out[m.group(1)] = rule
    return out
