"""registry-info (SPEC §7.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from ..output import emit
from ..render import info_view, version_view
from .common import registry, with_warnings

# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    import typer

    from ..complete import model_versions
    from ..options import JsonOption, NameArg, RevOption, RootOption


def info(
    name: NameArg,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Show the full metadata of one version.", autocompletion=model_versions),
    ] = None,
    rev: RevOption = None,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Show a model: owner, policy, stage holders and every version (or one version's metadata)."""
    from ...ops import reads

    found, warnings = reads.warned(registry(root, rev=rev).ctx, reads.info, name, version)
    data = with_warnings(found.to_dict(), warnings)
    if version is not None:
        emit(json, data, lambda out: version_view(out, data))
    else:
        emit(json, data, lambda out: info_view(out, data))
