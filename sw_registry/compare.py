"""Comparing two versions (SPEC §7.10): pure functions over two metadata dicts."""

from __future__ import annotations

from typing import Any

from . import versions as V


def lower_is_better(metric: str, patterns: list[str]) -> bool:
    name = metric.lower()
    return any(p.lower() in name for p in patterns)


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def metric_row(name: str, a: Any, b: Any, patterns: list[str]) -> dict[str, Any]:
    """One metric side by side: delta = b - a, relative = delta / |a| (None when a is 0), and which side wins."""
    x, y = _number(a), _number(b)
    delta = relative = better = None
    if x is not None and y is not None:
        delta = y - x
        relative = None if x == 0 else delta / abs(x)
        if delta != 0:
            better = (delta < 0) if lower_is_better(name, patterns) else (delta > 0)
    return {
        "name": name,
        "a": a,
        "b": b,
        "delta": delta,
        "relative": relative,
        "better": better,
        "lower_is_better": lower_is_better(name, patterns),
    }


def _inputs(meta: dict[str, Any]) -> dict[str, str]:
    sig = meta.get("signature") or {}
    if sig.get("inputs"):
        return {str(k): str(v) for k, v in sig["inputs"].items()}
    return {str(f.get("name")): str(f.get("type", "any")) for f in meta.get("features") or [] if isinstance(f, dict)}


def compare(a: dict[str, Any], b: dict[str, Any], patterns: list[str]) -> dict[str, Any]:
    """The comparison of version ``a`` with version ``b`` (both metadata dicts), as registry-compare's data."""
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    metrics = [metric_row(n, ma.get(n), mb.get(n), patterns) for n in [*ma, *(k for k in mb if k not in ma)]]
    fa, fb = _inputs(a), _inputs(b)
    ha, hb = a.get("hyperparameters") or {}, b.get("hyperparameters") or {}
    changed = [
        {"name": k, "a": ha.get(k), "b": hb.get(k)}
        for k in [*ha, *(k for k in hb if k not in ha)]
        if ha.get(k) != hb.get(k)
    ]
    size_a, size_b = (a.get("artifact") or {}).get("size_bytes"), (b.get("artifact") or {}).get("size_bytes")
    verdicts = {m["better"] for m in metrics if m["better"] is not None}
    recommendation = (
        "mixed"
        if verdicts == {True, False}
        else "better"
        if verdicts == {True}
        else "worse"
        if verdicts == {False}
        else "same"
    )
    return {
        "a": f"{a['name']}@{a['version']}",
        "b": f"{b['name']}@{b['version']}",
        "metrics": metrics,
        "artifact": metric_row("size_bytes", size_a, size_b, ["size"]),
        "features": {
            "added": [n for n in fb if n not in fa],
            "removed": [n for n in fa if n not in fb],
            "retyped": [{"name": n, "a": fa[n], "b": fb[n]} for n in fa if n in fb and fa[n] != fb[n]],
        },
        "hyperparameters": {"changed": changed},
        "signature_compatible": V.signature_change(a.get("signature"), b.get("signature")) != "major",
        "recommendation": recommendation,
    }


def markdown(data: dict[str, Any]) -> str:
    """The comparison as the seed's report, in Markdown."""
    a, b = data["a"].split("@", 1)[1], data["b"].split("@", 1)[1]
    mark = {True: "✅", False: "❌", None: ""}
    lines = [
        f"## Comparison: v{a} vs v{b}",
        "",
        "| Metric | v" + a + " | v" + b + " | Change | |",
        "|---|---|---|---|---|",
    ]
    for m in [*data["metrics"], data["artifact"]]:
        change = "" if m["relative"] is None else f"{m['relative']:+.1%}"
        lines.append(f"| {m['name']} | {fmt(m['a'])} | {fmt(m['b'])} | {change} | {mark[m['better']]} |")
    f = data["features"]
    lines += ["", "Features:"]
    lines.append("- Added: " + (", ".join(f["added"]) or "none"))
    lines.append("- Removed: " + (", ".join(f["removed"]) or "none"))
    lines.append("- Retyped: " + (", ".join(f"{r['name']} ({r['a']} -> {r['b']})" for r in f["retyped"]) or "none"))
    changed = data["hyperparameters"]["changed"]
    lines.append("")
    lines.append(
        "Hyperparameters changed: "
        + (", ".join(f"{c['name']} {fmt(c['a'])} -> {fmt(c['b'])}" for c in changed) or "none")
    )
    lines.append(f"Signature compatible: {'yes' if data['signature_compatible'] else 'no (breaking change)'}")
    words = {
        "better": f"v{b} is better",
        "worse": f"v{b} is worse",
        "mixed": f"v{b} is better on some metrics and worse on others",
        "same": "no metric differs",
    }
    lines += ["", f"Recommendation: {data['recommendation']} ({words[data['recommendation']]})"]
    return "\n".join(lines) + "\n"


def fmt(value: Any) -> str:
    """A value as reports show it: - for none, floats with :g."""
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
