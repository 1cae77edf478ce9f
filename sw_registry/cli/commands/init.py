"""init (SPEC §7.16)."""

from __future__ import annotations

from pathlib import Path

from ..output import emit
from ..render import esc
from .common import project_folder

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import JsonOption


def init(
    path: Annotated[Path, typer.Argument(help="Project folder (default: the current folder).")] = Path("."),
    git: Annotated[
        bool, typer.Option("--git", help="Run 'git init' first if the folder is not in a git repo.")
    ] = False,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Project folder, as PATH (SPEC §7: every command takes --root).",
                     show_default=False),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Create .specweave/ for the registry and keep its cache out of git."""
    from ...init_project import init_project

    result = init_project(Path(project_folder(path, root) or "."), git=git)

    def render(out: Any) -> None:
        out.print(f"Initialised sw-registry in {esc(result['root'])}")
        for item in result["created"]:
            out.print(f"  created {esc(item)}")

    emit(json, result, render)

