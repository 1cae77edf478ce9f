"""registry-audit (SPEC §7.12): the report's markdown and the seed's ModelGovernance API; the data is built
from git history (the Registry-* trailers) by ops/history.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import ModelRegistry


def audit(
    registry: ModelRegistry, name: str | None = None, since: str | None = None, until: str | None = None
) -> dict[str, Any]:
    """registry-audit's data (ops/history.py builds it from git history)."""
    from .ops.history import audit as build

    return build(registry.ctx, name, since, until)


def markdown(data: dict[str, Any]) -> str:
    who = f" for {data['model']}" if data["model"] else ""
    span = f" ({data['since'] or 'start'} to {data['until'] or 'now'})" if data["since"] or data["until"] else ""
    out = [
        f"# Registry audit{who}{span}",
        "",
        "## Deployments to production",
        "",
        "| When | Model | Version | How | By | Approved by | Data | Metrics | Reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in data["deployments"]:
        metrics = ", ".join(f"{k}={v}" for k, v in d["metrics"].items())
        out.append(
            f"| {d['at']} | {d['model']} | v{d['version']} | {d['kind']}{' (forced)' if d['forced'] else ''}"
            f"{' (auto)' if d.get('auto') else ''} | "
            f"{d['by']} | {', '.join(d['approved_by']) or '-'} | {d['data_version'] or '-'} | {metrics or '-'} | "
            f"{d['reason'] or ''} |"
        )
    out += ["", "## Approvals", ""]
    out += [
        f"- {a['at']} {a['approver']} approved {a['model']} v{a['version']} for {a['stage']}"
        + (f" (commit authored by {a['author']})" if a["author"] != a["approver"] else "")
        + _signature_note(a)
        + (f": {a['comment']}" if a["comment"] else "")
        for a in data["approvals"]
    ] or ["- none"]
    out += ["", "## Rollbacks", ""]
    out += [
        f"- {e['at']} {e['model']} to v{e['version']} "
        + (f"automatically (registry-monitor, as {e['actor']})" if e.get("auto") else f"by {e['actor']}")
        + f": {e['reason'] or 'no reason given'}"
        for e in data["rollbacks"]
    ] or ["- none"]
    out += ["", "## Forced transitions", ""]
    out += [
        f"- {e['at']} {e['model']} v{e['version']} "
        + (f"{e['from']} -> {e['to']}" if e["from"] or e["to"] else str(e["event"] or "change"))  # a deprecation
        + f" by {e['actor']}: {e['reason']}"
        for e in data["forced"]
    ] or ["- none"]
    out += ["", "## Registry changes made outside the tool", ""]
    out += [
        f"- ⚠ {u['commit'][:12]} by {u['author']} at {u['at']}: {', '.join(u['paths'])}"
        for u in data["unaudited_commits"]
    ] or ["- none"]
    out += ["", "## Renames and merges (not problems)", ""]
    out += [f"- {o['commit'][:12]} {o['kind']} by {o['author']}" for o in data["other_commits"]] or ["- none"]
    return "\n".join(out) + "\n"


def _signature_note(a: dict[str, Any]) -> str:
    status = a.get("signature")
    if status is None or status == "unsigned":
        return " [unsigned]" if status else ""
    who = f" by {a['signer']}" if a.get("signer") else ""
    return f" [signature {status.replace('_', ' ')}{who}, key {a.get('key') or '?'}]"


class AuditReport:
    """registry-audit's result; ``to_dict()`` is its JSON data."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self.data)

    def to_markdown(self) -> str:
        return markdown(self.data)


class ModelGovernance:
    """The seed's governance API (SPEC §12): audit reports from git history."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry

    def generate_audit_report(
        self, model: str | None = None, start_date: str | None = None, end_date: str | None = None
    ) -> AuditReport:
        return AuditReport(audit(self.registry, model, start_date, end_date))
