"""Dynamic shell completion (SPEC §10): model names and versions come from the registry itself.

A completion runs on every <TAB>, so it reads only the cached index and never fails loudly: any error
completes nothing.
"""

from __future__ import annotations

from typing import Any


def _registry(ctx: Any) -> Any:
    from ..registry import ModelRegistry

    params = getattr(ctx, "params", {}) or {}
    return ModelRegistry(root=params.get("root"))


def model_names(ctx: Any, incomplete: str) -> list[str]:
    try:
        return [n for n in _registry(ctx).ctx.index().names() if n.startswith(incomplete)]
    except Exception:  # completion must never break the shell
        return []


def model_versions(ctx: Any, incomplete: str) -> list[str]:
    try:
        # click leaves ctx.params empty while an option (--version) still waits for its value; the words it
        # could not parse yet are in ctx.args, and the model name is the first of them
        leftover = [a for a in getattr(ctx, "args", []) or [] if not a.startswith("-")]
        name = (getattr(ctx, "params", {}) or {}).get("name") or (leftover[0] if leftover else None)
        if not name:
            return []
        versions = [r["version"] for r in _registry(ctx).ctx.index().records_of(name)]
        typed = incomplete[1:] if incomplete[:1] in ("v", "V") else incomplete
        return [v for v in reversed(versions) if v.startswith(typed)]
    except Exception:  # completion must never break the shell
        return []
