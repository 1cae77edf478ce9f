"""Typed return values. Each ``to_dict()`` is exactly the CLI's ``--json`` data (SPEC §9.1)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


def _warned(data: dict[str, Any], warnings: tuple[str, ...]) -> dict[str, Any]:
    """SPEC §9: warnings (a large artifact, hook output) go in ``data.warnings`` when there are any."""
    if warnings:
        data["warnings"] = list(warnings)
    return data


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: its metadata (SPEC §4) and where its artifact lives."""

    metadata: dict[str, Any]
    path: str  # absolute path of the artifact (file or folder)
    commit: str | None = None
    verified: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def stage(self) -> str:
        return str(self.metadata.get("stage"))

    @property
    def sha256(self) -> str | None:
        art = self.metadata.get("artifact") or {}
        return art.get("sha256")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out = copy.deepcopy(self.metadata)
        out["commit"] = self.commit
        out["path"] = self.path
        out["sha256"] = self.sha256
        out["verified"] = self.verified
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


@dataclass(frozen=True)
class ModelSummary:
    """One row of registry-list."""

    name: str
    production: str | None
    staging: str | None
    latest: str | None
    version_count: int
    primary_metric: dict[str, Any] | None
    updated_at: str | None
    owner: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "production": self.production,
            "staging": self.staging,
            "latest": self.latest,
            "version_count": self.version_count,
            "primary_metric": self.primary_metric,
            "updated_at": self.updated_at,
            "owner": self.owner,
        }


@dataclass(frozen=True)
class VersionRow:
    """One version as registry-info lists it."""

    version: str
    stage: str
    created_at: str | None
    increment: str
    deprecated: bool
    metrics: dict[str, Any]
    primary_metric: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "stage": self.stage,
            "created_at": self.created_at,
            "increment": self.increment,
            "deprecated": self.deprecated,
            "metrics": dict(self.metrics),
            "primary_metric": self.primary_metric,
        }


@dataclass(frozen=True)
class ModelInfo:
    name: str
    owner: str | None
    policy: dict[str, Any]
    stages: dict[str, str | None]
    versions: list[VersionRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "policy": copy.deepcopy(self.policy),
            "stages": dict(self.stages),
            "versions": [v.to_dict() for v in self.versions],
        }


@dataclass(frozen=True)
class PromoteResult:
    name: str
    version: str
    from_stage: str
    to_stage: str
    replaced: str | None
    commit: str | None
    actor: str | None = None
    forced: bool = False
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _warned(
            {
                "name": self.name,
                "version": self.version,
                "from": self.from_stage,
                "to": self.to_stage,
                "replaced": self.replaced,
                "commit": self.commit,
                "actor": self.actor,
                "forced": self.forced,
            },
            self.warnings,
        )


@dataclass(frozen=True)
class RollbackResult:
    name: str
    from_version: str | None
    to_version: str
    reason: str | None
    commit: str | None
    actor: str | None = None

    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _warned(
            {
                "name": self.name,
                "from_version": self.from_version,
                "to_version": self.to_version,
                "reason": self.reason,
                "commit": self.commit,
                "actor": self.actor,
            },
            self.warnings,
        )


@dataclass(frozen=True)
class ApproveResult:
    name: str
    version: str
    stage: str
    approver: str
    approvals: int
    required: int
    commit: str | None

    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _warned(
            {
                "name": self.name,
                "version": self.version,
                "stage": self.stage,
                "approver": self.approver,
                "approvals": self.approvals,
                "required": self.required,
                "commit": self.commit,
            },
            self.warnings,
        )


@dataclass(frozen=True)
class DeprecateResult:
    name: str
    version: str
    reason: str
    end_of_life: str | None
    commit: str | None
    actor: str | None = None

    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _warned(
            {
                "name": self.name,
                "version": self.version,
                "reason": self.reason,
                "end_of_life": self.end_of_life,
                "commit": self.commit,
                "actor": self.actor,
            },
            self.warnings,
        )


@dataclass(frozen=True)
class ChangeResult:
    """registry-policy, registry-reindex: whether anything changed, and the commit."""

    changed: bool
    commit: str | None

    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _warned({"changed": self.changed, "commit": self.commit}, self.warnings)


@dataclass(frozen=True)
class HistoryEvent:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "version": self.version,
            "from": self.from_stage,
            "to": self.to_stage,
            "at": self.at,
            "by": self.by,
            "reason": self.reason,
            "commit": self.commit,
            "seq": self.seq,
            "forced": self.forced,
        }


@dataclass(frozen=True)
class History:
    name: str
    events: list[HistoryEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "events": [e.to_dict() for e in self.events]}
