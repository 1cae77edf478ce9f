"""Monitoring writes (SPEC §7.8): record observations in one commit, and roll back automatically on a breach.

A breach rolls production back to the previous stable production version through the same rollback
machinery as ``registry-rollback`` (ops/moves.py ``move``), in the same commit as the observations (event
``rollback``, ``Registry-Auto: true``); with no target the observations are recorded with the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import triggers as T
from .errors import NotFound
from .monitor_observations import evaluate, jsonl_line, monitoring_rel, parse_lines, rollback_target, warnings_for

if TYPE_CHECKING:
    from .registry import ModelRegistry
    from .store.index import Index
    from .store.records import Record
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



def _production(index: Index, name: str) -> Record:
    index.versions_of(name)  # not_found for an unknown model
    rec = index.holder(name, "production")
    if rec is None:
        raise NotFound(
            f"model {name!r} has no version in production to monitor",
            hint=f"promote one first: sw-registry registry-promote {name} VERSION --to production",
        )
    return rec


def evaluate_only(registry: ModelRegistry, name: str, obs: list[dict[str, Any]]) -> MonitorResult:
    index = registry.ctx.index()
    rec = _production(index, name)
    rel = monitoring_rel(rec["dir"], name)
    lines = parse_lines(registry.ctx.source().read(rel), rel)
    evaluations = evaluate(index, rec, lines, obs, registry.ctx.now())
    breach = T.first_breach(evaluations)
    target = rollback_target(index, name, rec["version"])[0] if breach else None
    return MonitorResult(
        name, rec["version"], "breached" if breach else "healthy", evaluations, rolled_back_to=None, commit=None,
        reason=T.reason(breach) if breach else None, would_roll_back_to=target["version"] if target else None,
        warnings=warnings_for(index, name, rec["version"], evaluations),
    )  # fmt: skip


def record_observations(registry: ModelRegistry, name: str, obs: list[dict[str, Any]]) -> MonitorResult:
    with registry.ctx.write() as tx:
        index = tx.index
        rec = _production(index, name)
        version = rec["version"]
        rel = monitoring_rel(rec["dir"], name)
        path = registry.layout.abs(rel)
        raw = path.read_bytes() if path.exists() else b""
        lines = parse_lines(raw, rel)
        if raw and not raw.endswith(b"\n"):
            raw += b"\n"
        tx.write(rel, raw + "".join(jsonl_line(o, version, tx.actor) for o in obs).encode("utf-8"))
        evaluations = evaluate(index, rec, lines, obs, registry.ctx.now())
        warnings = warnings_for(index, name, rec["version"], evaluations)
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
        target, refusal = rollback_target(index, name, version)
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


def _verify(registry: ModelRegistry, target: Record) -> str | None:
    """The rollback target's artifact hash, checked first as registry-rollback does; the refusal, if any."""
    from .errors import IntegrityError
    from .ops.common import read_metadata
    from .store.artifacts import verify_artifact

    meta = read_metadata(registry.ctx, target)
    art = meta.get("artifact") or {}
    try:
        verify_artifact(
            registry.layout.abs(f"{target['dir']}/{art.get('path', '')}"), art, f"{target['name']}@{target['version']}"
        )
    except IntegrityError as exc:
        return f"the rollback target failed its hash check: {exc.message}"
    return None


def _auto_rollback(
    registry: ModelRegistry, tx: Transaction, current: Record, target: Record, why: str
) -> str | None:
    """The rollback of ops/stages.py (through ops/moves.py), marked automatic, into the commit that also holds
    the observations."""
    from .ops.moves import finish, move

    name, target_ver = current["name"], target["version"]
    ctx = registry.ctx
    why_text = f"rolled back to v{target_ver}: {why}"
    seqs, incs = move(ctx, tx, target, "rollback", "production", why, False, current, why_text, auto=True)
    return finish(
        ctx,
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


