"""registry-audit (SPEC §7.12): a governance report built from git history (the Registry-* trailers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import ModelRegistry


def _bound(text: str | None, end: bool) -> str | None:
    """A --since/--until value for git: a date means the start (since) or the end (until) of that UTC day."""
    if not text:
        return None
    from .lifecycle import to_instant

    instant = to_instant(text)
    return instant[:10] + "T00:00:00Z" if len(str(text).strip()) == 10 and not end else instant


def audit(
    registry: ModelRegistry, name: str | None = None, since: str | None = None, until: str | None = None
) -> dict[str, Any]:
    from .gitops import open_repo
    from .maintenance import classify_untracked

    repo = open_repo(registry.root)
    index = registry.index()
    log = repo.registry_log(_bound(since, False), _bound(until, True))
    unaudited, other = classify_untracked(log, registry.layout)
    if name is not None:  # this model's version folders, and registry.yaml (which holds every model's policy)
        unaudited = [
            u for u in unaudited if any(f"/models/{name}-v" in p or p == ".specweave/registry.yaml" for p in u["paths"])
        ]
    events, deployments, approvals = [], [], []
    for c in log:
        t: dict[str, str] = c["trailers"]
        if not c["event"] or (name is not None and t.get("model") != name):
            continue
        event = {
            "event": t.get("event"),
            "model": t.get("model"),
            "version": t.get("version"),
            "from": t.get("from"),
            "to": t.get("to"),
            "actor": t.get("actor"),
            "author": c["author"],
            "at": c["date"],
            "reason": t.get("reason"),
            "forced": t.get("forced") == "true",
            "auto": t.get("auto") == "true",
            "replaced": t.get("replaced"),
            "commit": c["commit"],
        }
        events.append(event)
        if event["event"] == "approve":
            approvals.append(
                {
                    "model": event["model"],
                    "version": event["version"],
                    "stage": event["to"],
                    "approver": t.get("approver") or event["actor"],
                    "author": c["author"],
                    "at": c["date"],
                    "comment": event["reason"],
                    "commit": c["commit"],
                }
            )
        if event["to"] == "production" and event["event"] in ("promote", "rollback"):
            deployments.append(_deployment(registry, index, event))
    if approvals:  # signer, key fingerprint and signature status of each approval (SPEC §6)
        from .signing import audit_signatures

        audit_signatures(repo, index.policy, approvals)
    return {
        "model": name,
        "since": since,
        "until": until,
        "events": events,
        "deployments": deployments,
        "approvals": approvals,
        "rollbacks": [e for e in events if e["event"] == "rollback"],
        "forced": [e for e in events if e["forced"]],
        "unaudited_commits": unaudited,
        "other_commits": other,
    }


def _deployment(registry: ModelRegistry, index: Any, event: dict[str, Any]) -> dict[str, Any]:
    """A production deployment with who approved it, its metrics and the data it was trained on (as now stored)."""
    meta: dict[str, Any] = {}
    rec = index.find(event["model"], event["version"]) if event["model"] and event["version"] else None
    if rec is not None:
        meta = registry._read_metadata(rec)
    return {
        "model": event["model"],
        "version": event["version"],
        "at": event["at"],
        "by": event["actor"],
        "kind": event["event"],
        "reason": event["reason"],
        "forced": event["forced"],
        "auto": event["auto"],
        "commit": event["commit"],
        "approved_by": list(
            dict.fromkeys(a.get("approver") for a in meta.get("approvals") or [] if a.get("stage") == "production")
        ),  # once each: a signed approval may follow the same approver's unsigned one
        "metrics": meta.get("metrics") or {},
        "data_version": (meta.get("lineage") or {}).get("data"),
    }


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
        f"- {e['at']} {e['model']} v{e['version']} {e['from']} -> {e['to']} by {e['actor']}: {e['reason']}"
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
