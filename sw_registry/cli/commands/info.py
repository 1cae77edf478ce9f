"""registry-info (SPEC §7.3)."""

from __future__ import annotations

from ..output import emit
from ..render import info_view, version_view
from .common import ReadOptions, reads, with_warnings

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated

    import typer

    from ..complete import model_versions
    from ..options import NameArg


@reads
def info(
    name: NameArg,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Show the full metadata of one version.", autocompletion=model_versions),
    ] = None,
    *,
    read: ReadOptions,
) -> None:
    """Show a model: owner, policy, stage holders and every version (or one version's metadata)."""
    from ...ops import reads as read_ops

    found, warnings = read_ops.warned(read.registry().ctx, read_ops.info, name, version)
    data = with_warnings(found.to_dict(), warnings)
    if version is not None:
        emit(read.json, data, lambda out: version_view(out, data))
    else:
        emit(read.json, data, lambda out: info_view(out, data))
