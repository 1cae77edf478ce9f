"""The living doc (SPEC §7.9): registry-sync-docs rewrites its generated block; registry-review-docs shows the
change as a diff. The text itself is rendered by sw_registry/docs.py."""

from __future__ import annotations

from .moves import read_text_exact

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..store.index import Index
    from .context import Context


def docs_text(ctx: Context, index: Index) -> tuple[str, str | None, str]:
    """(docs path, its current text or None, the text it should have)."""
    from .. import docs
    from ..monitor import doc_status

    rel = ctx.layout.docs_rel(index.policy.docs_path)
    current = read_text_exact(ctx.layout.abs(rel), rel)
    models = [(n, index.records_of(n), index.policy.primary_metric(n)) for n in index.names()]
    source = ctx.source()
    monitoring = {n: st for n in index.names() if (st := doc_status(source, index, n)) is not None}
    return rel, current, docs.splice(current, docs.render(models, monitoring))


def sync_docs(ctx: Context) -> dict[str, Any]:
    """Rewrite the living doc's generated block; one commit when it changed (event docs)."""
    with ctx.write() as tx:
        rel, current, wanted = docs_text(ctx, tx.index)
        path = str(ctx.layout.abs(rel))
        if current == wanted:
            return {"path": path, "changed": False, "commit": None}
        tx.write(rel, wanted.encode("utf-8"))
        commit = tx.commit("registry: update the living doc", {"Event": "docs", "Actor": tx.actor})
        out: dict[str, Any] = {"path": path, "changed": True, "commit": commit}
        if tx.warnings:
            out["warnings"] = list(tx.warnings)
        return out


def review_docs(ctx: Context) -> dict[str, Any]:
    """What sync-docs would change, as a unified diff; writes nothing."""
    import difflib

    rel, current, wanted = docs_text(ctx, ctx.index())
    diff = "".join(
        difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            fromfile=f"a/{rel}",
            tofile=f"b/{rel}",
        )
    )
    return {"path": str(ctx.layout.abs(rel)), "changed": current != wanted, "commit": None, "diff": diff}
