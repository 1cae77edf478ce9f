"""Helpers every command shares: building the registry from common options."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...registry import ModelRegistry


def registry(
    root: Path | None,
    *,
    actor: str | None = None,
    rev: str | None = None,
    increment: str | None = None,
    allow_detached: bool = False,
) -> ModelRegistry:
    from ...registry import ModelRegistry

    return ModelRegistry(increment=increment, root=root, actor=actor, rev=rev, allow_detached=allow_detached)
