"""The living doc (SPEC §7.9): a section per model between markers, rendered deterministically from the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import lineage
from .compare import fmt

if TYPE_CHECKING:
    from .store.records import Record

BEGIN = "<!-- sw-registry:begin -->"
END = "<!-- sw-registry:end -->"
STAGE_LABEL = {"production": "Production", "staging": "Staging", "dev": "Dev", "archived": "Archived"}


def _day(at: str | None) -> str:
    return at[:10] if at else "-"


def _left_production(reason: str) -> str:
    """The Notes cell of a version that production was rolled back from; auto-rollbacks say so, with the breach."""
    if "auto-rollback: " in reason:
        breach = reason.split("auto-rollback: ", 1)[1].replace("|", "\\|")
        return f"Auto-rolled back ({breach})"
    return "Rolled back"


def metric_chart(records: list[Record], metric: str | None) -> list[str]:
    """A Mermaid xychart of ``metric`` across versions (version order), or nothing when no version has it."""
    points = [
        (r["version"], value)
        for r in records
        if isinstance(value := r["metrics"].get(metric) if metric else None, (int, float))
        and not isinstance(value, bool)
        and value == value
        and value not in (float("inf"), float("-inf"))
    ]
    if not points:
        return []
    axis = ", ".join(f'"v{version}"' for version, _ in points)
    label = str(metric).replace('"', "'")
    return [
        "",
        f"### {metric} by version",
        "```mermaid",
        "xychart-beta",
        f'    title "{label} by version"',
        f"    x-axis [{axis}]",
        f'    y-axis "{label}"',
        "    line [" + ", ".join(fmt(value) for _, value in points) + "]",
        "```",
    ]


def monitoring_section(status: dict[str, Any]) -> list[str]:
    """The latest evaluated figures of a monitored model against its thresholds (see monitor.doc_status)."""
    from .triggers import figure

    out = ["", "### Production Monitoring"]
    if status["version"] is None:
        return [*out, "No version is in production, so nothing is monitored."]
    if status["observations"]:
        out.append(
            f"Auto-rollback triggers of v{status['version']}, evaluated at its latest observation "
            f"({status['instant']}; {status['observations']} observation(s) since it became production):"
        )
    else:
        out.append(f"No observations of v{status['version']} recorded since it became production.")
    out += ["", "| Metric | Value | Threshold | Window | Observations | Status |", "|---|---|---|---|---|---|"]
    bound = {"max": "max ", "min": "min ", "accuracy_drop": "drop "}
    for e in status["evaluations"]:
        state = "BREACHED" if e["breached"] else e["state"].replace("_", " ")
        out.append(
            f"| {e['metric']} | {figure(e['value'])} | {bound.get(e['kind'], '')}{figure(e['threshold'])} | "
            f"{e['window']} | {e['observations']} (min {e['min_observations']}) | {state} |"
        )
    return out


def model_section(
    name: str, records: list[Record], primary: str | None, monitoring: dict[str, Any] | None = None
) -> str:
    """One model's part of the doc. ``records`` are the model's versions (index summaries), in version order;
    ``monitoring`` the latest evaluation of a monitored model (monitor.doc_status)."""
    from .lifecycle import stage_events

    events = stage_events(records)
    deployed, notes = _production_notes(events)
    prod = next((r for r in records if r["stage"] == "production"), None)
    title = name.replace("-", " ").title()
    out = [f"## {title}" + (" - Production" if prod else ""), ""]
    basis = prod or records[-1]
    metric_name = primary or ("accuracy" if "accuracy" in basis["metrics"] else min(basis["metrics"], default=None))
    out.append("### Current Production Model")
    if prod is None:
        out.append("- none yet")
    else:
        out.append(f"- Version: v{prod['version']}")
        out.append(f"- Deployed: {_day(deployed.get(prod['version']))}")
        for key, value in prod["metrics"].items():
            out.append(f"- {key}: {fmt(value)}")
    out += [
        "",
        "### Version History",
        f"| Version | Stage | {metric_name or 'Metric'} | Deployed | Notes |",
        "|---|---|---|---|---|",
    ]
    for rec in reversed(records):
        note = "Current ✅" if rec["stage"] == "production" else notes.get(rec["version"], "")
        if rec["deprecated"]:
            note = f"{note}, deprecated" if note else "Deprecated"
        value = rec["metrics"].get(metric_name) if metric_name else None
        out.append(
            f"| v{rec['version']} | {STAGE_LABEL.get(rec['stage'], rec['stage'])} | {fmt(value)} | "
            f"{_day(deployed.get(rec['version']))} | {note} |"
        )
    out += _rollback_plan(name, prod, events, notes)
    out += metric_chart(records, metric_name)
    if monitoring is not None:
        out += monitoring_section(monitoring)
    g = lineage.graph(records)
    out += ["", "### Lineage", "```mermaid", lineage.mermaid(g).rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


def _production_notes(events: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """(version -> when it last became production, version -> why it last left production)."""
    deployed: dict[str, str] = {}
    notes: dict[str, str] = {}
    for e in events:
        if e["to"] == "production" and e["from"] != "production":
            deployed[e["version"]] = e["at"] or ""
        if e["event"] == "archive" and e["from"] == "production":
            reason = e["reason"] or ""
            notes[e["version"]] = (
                f"Replaced by {reason[len('replaced by ') :]}"
                if reason.startswith("replaced by ")
                else _left_production(reason)
                if reason.startswith("rolled back")
                else "Retired"
            )
    return deployed, notes


def _rollback_plan(
    name: str, prod: Record | None, events: list[dict[str, Any]], notes: dict[str, str]
) -> list[str]:
    from .lifecycle import previous_production

    out = ["", "### Rollback Plan"]
    # the previous *stable* production version: not one that production was rolled back from
    unstable = {v for v, n in notes.items() if n.startswith(("Rolled back", "Auto-rolled back"))}
    current = prod["version"] if prod else None
    previous = previous_production([e for e in events if e["version"] not in unstable], current)
    if prod is not None and previous is not None:
        out.append(f"If v{prod['version']} shows issues:")
        out.append(f"1. Roll back to v{previous} (the previous stable production version):")
        out.append(f'   `sw-registry registry-rollback {name} --to v{previous} --reason "..."`')
        out.append("2. Investigate the issue in staging")
        out.append(f"3. Deploy a fix as v{_next_patch(prod['version'])}")
    elif prod is not None and (last := previous_production(events, current)) is not None:
        # only versions production was rolled back from: not "stable", but what registry-rollback would return to
        out.append(f"No earlier stable production version: v{last} was in production before v{prod['version']}, "
                   "and production was rolled back from it.")
        out.append(f'If it is wanted again: `sw-registry registry-rollback {name} --to v{last} --reason "..."`')
    else:
        out.append("No earlier production version to roll back to.")
    return out


def _next_patch(version: str) -> str:
    from .versions import bump

    return bump([version], "patch")


def render(
    models: list[tuple[str, list[Record], str | None]], monitoring: dict[str, dict[str, Any]] | None = None
) -> str:
    """The whole generated block, markers included; ``monitoring``: model name -> its latest evaluation."""
    monitoring = monitoring or {}
    body = "\n".join(model_section(name, recs, primary, monitoring.get(name)) for name, recs, primary in models)
    return f"{BEGIN}\n<!-- generated by sw-registry sync-docs; edit outside the markers -->\n\n{body}{END}"


def splice(current: str | None, block: str) -> str:
    """The doc with the block replaced (or appended, or a new doc); everything outside it byte for byte."""
    if current is None:
        return "# Model Registry\n\n" + block + "\n"
    if BEGIN in current and END in current and current.index(BEGIN) < current.index(END):
        start, end = current.index(BEGIN), current.index(END) + len(END)
        return current[:start] + block + current[end:]
    sep = "" if current.endswith("\n\n") else "\n" if current.endswith("\n") else "\n\n"
    return current + sep + block + "\n"
