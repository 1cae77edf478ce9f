"""Typed results of writes and history. Each ``to_dict()`` is exactly the CLI's ``--json`` data (SPEC §9.1).

Kept apart from model.py so that read commands (list, info, get) do not pay for building these classes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from typing import Any

from .outcomes import JSON_NAMES, FieldsFace, HistoryFace, _warned


@functools.cache
def _json_names(cls: type) -> tuple[tuple[str, str], ...]:
    """(field, its JSON name) of a dataclass, in field order; worked out once per class."""
    return tuple((f.name, JSON_NAMES.get(f.name, f.name)) for f in fields(cls))  # type: ignore[arg-type]


class _Fields:
    """``to_dict()``: every field under its JSON name, in field order."""

    def to_dict(self) -> dict[str, Any]:
        return {json: getattr(self, name) for name, json in _json_names(type(self))}  # type: ignore[arg-type]


class _Result(_Fields):
    """``to_dict()`` for the write results: every field under its JSON name, then ``warnings`` when any."""

    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        del data["warnings"]
        return _warned(data, self.warnings)


# the results of the stage changes: their behaviour is in outcomes.py (shared with the form ops/stages.py builds)
@dataclass(frozen=True)
class PromoteResult(FieldsFace):
    name: str
    version: str
    from_stage: str
    to_stage: str
    replaced: str | None
    commit: str | None
    actor: str | None = None
    forced: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RollbackResult(FieldsFace):
    name: str
    from_version: str | None
    to_version: str
    reason: str | None
    commit: str | None
    actor: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApproveResult(FieldsFace):
    name: str
    version: str
    stage: str
    approver: str
    approvals: int
    required: int
    commit: str | None
    warnings: tuple[str, ...] = ()
    signing_key: str | None = None  # fingerprint of the key a signed approval was signed with (SPEC §6)


@dataclass(frozen=True)
class DeprecateResult(FieldsFace):
    name: str
    version: str
    reason: str
    end_of_life: str | None
    commit: str | None
    actor: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeResult(_Result):
    """registry-policy, registry-reindex: whether anything changed, and the commit."""

    changed: bool
    commit: str | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryEvent(FieldsFace):
    event: str
    version: str
    from_stage: str | None
    to_stage: str | None
    at: str | None
    by: str | None
    reason: str | None
    commit: str | None
    seq: int = 0
    forced: bool = False
    auto: bool = False  # made by an auto-rollback (registry-monitor), not by a person


@dataclass(frozen=True)
class History(HistoryFace):
    name: str
    events: list[HistoryEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    """registry-compare's result; ``data`` is exactly its JSON data (SPEC §9.1)."""

    data: dict[str, Any]

    @property
    def recommendation(self) -> str:
        return str(self.data["recommendation"])

    def to_dict(self) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self.data)


@dataclass(frozen=True)
class Lineage:
    """registry-lineage's result: nodes, edges and the versions the query matched (SPEC §7.11, §9.1)."""

    nodes: list[dict[str, str]]
    edges: list[dict[str, str]]
    versions: list[str]
    chains: dict[str, list[str]] = field(default_factory=dict)  # version -> its path, upstream first
    parents: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [dict(n) for n in self.nodes],
            "edges": [dict(e) for e in self.edges],
            "versions": list(self.versions),
            "chains": {k: list(v) for k, v in self.chains.items()},
            "parents": dict(self.parents),
        }
