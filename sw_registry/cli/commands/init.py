"""init (SPEC §7.16)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from ..options import JsonOption
from ..output import emit
from ..render import esc


def init(
    path: Annotated[Path, typer.Argument(help="Project folder (default: the current folder).")] = Path("."),
    git: Annotated[
        bool, typer.Option("--git", help="Run 'git init' first if the folder is not in a git repo.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Create .specweave/ for the registry and keep its cache out of git."""
    from ...setup import init_project

    result = init_project(path, git=git)

    def render(out: Any) -> None:
        out.print(f"Initialised sw-registry in {esc(result['root'])}")
        for item in result["created"]:
            out.print(f"  created {esc(item)}")

    emit(json, result, render)
