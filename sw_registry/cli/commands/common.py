"""Helpers every command shares: building the registry from common options."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...registry import ModelRegistry


def registry(
    root: Path | None,
    *,
    actor: str | None = None,
    rev: str | None = None,
    increment: str | None = None,
    allow_detached: bool = False,
    push: bool = False,
) -> ModelRegistry:
    from ...registry import ModelRegistry

    return ModelRegistry(increment=increment, root=root, actor=actor, rev=rev, allow_detached=allow_detached, push=push)


def with_warnings(data: dict[str, Any], reg: ModelRegistry) -> dict[str, Any]:
    """Add the registry's read warnings to a command's data (SPEC §9: ``data.warnings``)."""
    warnings = list(dict.fromkeys([*(data.get("warnings") or []), *reg.warnings]))
    if warnings:
        data["warnings"] = warnings
    return data
