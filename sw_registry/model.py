"""Typed return values. Each ``to_dict()`` is exactly the CLI's ``--json`` data (SPEC §9.1)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
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


@dataclass(slots=True)
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
        """Its fields, in their order (name, production, staging, latest, version_count, primary_metric,
        updated_at, owner)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)  # not frozen: info builds thousands, and frozen __init__ is several times slower
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
