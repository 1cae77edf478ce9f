"""demo (SPEC §7.16)."""

from __future__ import annotations

import sys

from ..output import emit, json_mode

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Annotated

    import typer

    from ..options import JsonOption


def demo(
    path: Annotated[
        str | None, typer.Argument(help="Folder for the throwaway project (default: a temp folder).")
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Folder for the throwaway project, as PATH.", show_default=False),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Build a throwaway SpecWeave project and run the registry lifecycle in it, offline."""
    from ...demo import run_demo
    from .common import project_folder

    quiet = json_mode(json)
    folder = project_folder(path, root)
    say = (lambda _line: None) if quiet else (lambda line: print(line, file=sys.stdout))
    result = run_demo(None if folder is None else str(folder), say)
    emit(json, result, lambda out: None)
