"""registry-get (SPEC §7.13)."""

from __future__ import annotations

from ..output import emit, json_mode
from ..render import esc, v
from .common import ReadOptions, reads, with_warnings

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..complete import model_versions
    from ..options import NameArg


@reads
def get(
    name: NameArg,
    stage: Annotated[str | None, typer.Option("--stage", help="The version now in this stage.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="This version.", autocompletion=model_versions)
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The version in production at this UTC instant (ISO date-time; a date means the end of that day).",
        ),
    ] = None,
    path_only: Annotated[bool, typer.Option("--path-only", help="Print only the artifact's absolute path.")] = False,
    *,
    read: ReadOptions,
) -> None:
    """Resolve a version, verify its artifact hash and print its path."""
    from ...errors import UsageError
    if sum(x is not None for x in (stage, version, date)) > 1:
        raise UsageError("give one of --stage, --version or --date", hint="e.g. --stage production")
    from ...ops import reads as read_ops

    ctx = read.registry().ctx
    mv, warnings = read_ops.warned(ctx, read_ops.get_model, name, stage=stage, version=version, date=date, load=False)
    data = with_warnings(mv.to_dict(), warnings)
    if path_only and not json_mode(read.json):
        print(mv.path)
        return

    def render(out: Any) -> None:
        out.print(f"{esc(mv.name)} {v(mv.version)} ({mv.stage}) sha256 verified")
        out.print(mv.path, markup=False, highlight=False)

    emit(read.json, data, render)
