"""registry-list (SPEC §7.2)."""

from __future__ import annotations

from ..output import emit
from ..render import models_table, versions_table
from .common import ReadOptions, reads, with_warnings

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import IncrementOption


@reads
def list_(
    stage: Annotated[str | None, typer.Option("--stage", help="Only models with a version in this stage.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only models with a version carrying this tag.")] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions", help="One row per version.")] = False,
    increment: IncrementOption = None,
    *,
    read: ReadOptions,
) -> None:
    """List models with their production, staging and latest versions."""
    from ...ops import reads as read_ops

    ctx = read.registry().ctx
    data: dict[str, Any]
    if all_versions:
        found, warnings = read_ops.warned(ctx, read_ops.list_versions, stage, model, increment, tag)
        versions = [mv.to_dict() for mv in found]
        data = with_warnings({"versions": versions}, warnings)
        emit(read.json, data, lambda out: versions_table(out, versions))
        return
    summaries, warnings = read_ops.warned(ctx, read_ops.list_models, stage, model, increment, tag)
    models = [m.to_dict() for m in summaries]
    data = with_warnings({"models": models}, warnings)
    emit(read.json, data, lambda out: models_table(out, models))
