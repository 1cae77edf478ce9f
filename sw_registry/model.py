"""Typed return values of the Python API (SPEC §8): dataclasses. Each ``to_dict()`` is exactly the CLI's ``--json``
data (SPEC §9.1). Their behaviour lives in outcomes.py, shared with the plain forms the operations build; these
classes add the dataclass fields, in the same order (``outcomes.public()`` makes one from the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .outcomes import FieldsFace, InfoFace, RowFace, VersionFace, _warned

__all__ = ["ModelInfo", "ModelSummary", "ModelVersion", "VersionRow", "_warned"]


@dataclass(frozen=True)
class ModelVersion(VersionFace):
    """One registered version: its metadata (SPEC §4) and where its artifact lives."""

    metadata: dict[str, Any]
    path: str  # absolute path of the artifact (file or folder)
    commit: str | None = None
    verified: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class ModelSummary(FieldsFace):
    """One row of registry-list; ``to_dict()``: its fields, in their order."""

    name: str
    production: str | None
    staging: str | None
    latest: str | None
    version_count: int
    primary_metric: dict[str, Any] | None
    updated_at: str | None
    owner: str | None = None


@dataclass(slots=True)  # not frozen: info builds thousands, and frozen __init__ is several times slower
class VersionRow(RowFace):
    """One version as registry-info lists it."""

    version: str
    stage: str
    created_at: str | None
    increment: str
    deprecated: bool
    metrics: dict[str, Any]
    primary_metric: dict[str, Any] | None = None


@dataclass(frozen=True)
class ModelInfo(InfoFace):
    name: str
    owner: str | None
    policy: dict[str, Any]
    stages: dict[str, str | None]
    versions: list[VersionRow] = field(default_factory=list)
