"""Stage rules (SPEC §6) as pure functions over plain data: no files, no git, no clock."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ApprovalRequired, Deprecated, InvalidInput, InvalidTransition, NotAnApprover, UsageError
from .plain import Plain

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .store.records import Record

STAGES = ("dev", "staging", "production", "archived")
EXCLUSIVE = ("staging", "production")
ALLOWED = frozenset(
    {("dev", "staging"), ("staging", "production"), ("archived", "staging")}
    | {(s, "archived") for s in STAGES if s != "archived"}
)


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InvalidInput(f"unknown stage {stage!r}", hint="stages are " + ", ".join(STAGES))
    return stage


class Move(Plain):
    """What a promotion will do: nothing (already there), or a move that may be forced."""

    __slots__ = ("noop", "forced")  # noqa: RUF023 (field order)

    def __init__(self, noop: bool, forced: bool = False) -> None:
        self.noop, self.forced = noop, forced


def check_force_reason(force: bool, reason: str | None) -> None:
    """The one home of "--force needs --reason": a bypassed rule is always explained (SPEC §6)."""
    if force and not (reason and reason.strip()):
        raise UsageError("--force needs a --reason", hint="say why the rule is being bypassed: --reason TEXT")


def plan_promotion(
    current: str,
    to: str,
    *,
    from_stage: str | None = None,
    force: bool = False,
    reason: str | None = None,
    deprecated: bool = False,
    ref: str = "this version",
) -> Move:
    check_stage(to)
    if from_stage is not None:
        check_stage(from_stage)
    check_force_reason(force, reason)
    if current == to:
        return Move(noop=True)
    if from_stage is not None and current != from_stage:
        raise InvalidTransition(
            f"{ref} is in {current}, not {from_stage}",
            hint="drop --from, or check the version's stage with registry-info",
            details={"stage": current, "expected": from_stage},
        )
    if deprecated and to != "archived" and not force:
        raise Deprecated(
            f"{ref} is deprecated and cannot be promoted to {to}",
            hint="pick another version, or pass --force with --reason",
        )
    if (current, to) in ALLOWED:
        return Move(noop=False)
    if force:
        return Move(noop=False, forced=True)
    allowed = sorted(t for f, t in ALLOWED if f == current)
    raise InvalidTransition(
        f"cannot move {ref} from {current} to {to}",
        hint=f"from {current} it can go to {', '.join(allowed)}; to skip a stage pass --force with --reason",
        details={"from": current, "to": to, "allowed": allowed},
    )


def valid_approvals(
    rule: dict[str, Any], approvals: Iterable[dict[str, Any]], stage: str, creator: str | None
) -> list[str]:
    """Distinct approvers whose approval of this version for ``stage`` counts under ``rule``."""
    listed = set(rule.get("approvers") or [])
    out: list[str] = []
    for a in approvals:
        who = a.get("approver")
        if a.get("stage") != stage or not isinstance(who, str) or who in out:
            continue
        if listed and who not in listed:
            continue
        if not rule.get("allow_self_approval", True) and who == creator:
            continue
        out.append(who)
    return out


def check_approvals(
    rule: dict[str, Any] | None, approvals: Iterable[dict[str, Any]], stage: str, creator: str | None, ref: str
) -> None:
    if rule is None:
        return
    have = valid_approvals(rule, approvals, stage, creator)
    missing = max(0, int(rule.get("min_approvals", 1)) - len(have))
    if missing:
        approvers = list(rule.get("approvers") or [])
        who = ", ".join(approvers) if approvers else "anyone"
        raise ApprovalRequired(
            f"{ref} needs {missing} more approval(s) for {stage} (has {len(have)} of {rule.get('min_approvals', 1)})",
            hint=f"approvers: {who}; approve with: "
            f"sw-registry registry-approve {ref.replace('@', ' v')} --stage {stage}",
            details={"approvers": approvers, "missing": missing, "approved_by": have},
        )


def check_approver(rule: dict[str, Any] | None, approver: str, creator: str | None, stage: str, ref: str) -> None:
    if rule is None:
        return
    approvers = list(rule.get("approvers") or [])
    if approvers and approver not in approvers:
        raise NotAnApprover(
            f"{approver} is not an approver for {stage}",
            hint="approvers: " + ", ".join(approvers),
            details={"approvers": approvers},
        )
    if not rule.get("allow_self_approval", True) and approver == creator:
        raise NotAnApprover(
            f"{approver} created {ref} and may not approve it (allow_self_approval: false)",
            hint="ask another approver: " + (", ".join(a for a in approvers if a != creator) or "-"),
            details={"approvers": approvers},
        )


EVENT_FIELDS = ("seq", "event", "from", "to", "at", "by", "reason", "forced")


def stage_events(records: Iterable[Record]) -> list[dict[str, Any]]:
    """Every stage change of a model's versions (from the index summaries), in ``seq`` order."""
    out = [{**dict(zip(EVENT_FIELDS, e)), "version": rec["version"]} for rec in records for e in rec["stage_events"]]
    out.sort(key=lambda e: e["seq"] or 0)
    return out


def production_sequence(evts: list[dict[str, Any]]) -> list[str]:
    """The versions that became production, in order."""
    ordered = sorted(evts, key=lambda e: e.get("seq") or 0)
    return [e["version"] for e in ordered if e.get("to") == "production" and e.get("from") != "production"]


def previous_production(evts: list[dict[str, Any]], current: str | None) -> str | None:
    """The last version that was in production before the current holder."""
    for version in reversed(production_sequence(evts)):
        if version != current:
            return version
    return None


def holder_at(evts: list[dict[str, Any]], stage: str, instant: str) -> str | None:
    """Which version held ``stage`` at ``instant`` (ISO UTC): replayed in seq order, never by timestamp order."""
    holder = None
    for e in sorted(evts, key=lambda e: e.get("seq") or 0):
        at = e.get("at") or ""
        if at > instant:
            continue
        if e.get("to") == stage and e.get("from") != stage:
            holder = e["version"]
        elif e.get("from") == stage and e.get("to") != stage and holder == e["version"]:
            holder = None
    return holder


def check_rollback(target: str, evts: list[dict[str, Any]], *, deprecated: bool, force: bool, ref: str) -> None:
    if target not in production_sequence(evts) and not force:
        raise InvalidTransition(
            f"{ref} was never in production, so it is no rollback target",
            hint="roll back to a version that was in production, or pass --force with --reason",
        )
    if deprecated and not force:
        raise Deprecated(f"{ref} is deprecated", hint="pick another version, or pass --force with --reason")


def to_instant(text: str) -> str:
    """An ISO date-time (converted to UTC) or a date (the end of that UTC day), as ``YYYY-MM-DDTHH:MM:SSZ``."""
    from datetime import datetime, time, timezone

    raw = str(text).strip()
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            dt = datetime.combine(day, time(23, 59, 59), tzinfo=timezone.utc)
        else:
            dt = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
            dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    except ValueError:
        raise InvalidInput(
            f"invalid date {text!r}", hint="use an ISO date (2024-01-15) or date-time (2024-01-15T10:30:00Z)"
        ) from None
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_date(text: str | None) -> str | None:
    """A calendar date YYYY-MM-DD (end of life), or None."""
    if text is None:
        return None
    from datetime import datetime

    try:
        return datetime.strptime(str(text).strip(), "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise InvalidInput(f"invalid date {text!r}", hint="use YYYY-MM-DD, e.g. 2024-06-01") from None
