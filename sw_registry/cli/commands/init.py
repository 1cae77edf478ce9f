"""init (SPEC §7.16)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from ..output import emit
from ..render import esc

# Typer and the option aliases are only annotations here: app.build() provides them when it wires the
# command into Typer, and the fast path (fastpath.py) calls the function without importing Typer.
if TYPE_CHECKING:
    import typer

    from ..options import JsonOption


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
