"""demo (SPEC §7.16)."""

import sys
from typing import Annotated

import typer

from ..options import JsonOption
from ..output import emit, json_mode


def demo(
    path: Annotated[
        str | None, typer.Argument(help="Folder for the throwaway project (default: a temp folder).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Build a throwaway SpecWeave project and run the registry lifecycle in it, offline."""
    from ...demo import run_demo

    quiet = json_mode(json)
    result = run_demo(path, (lambda _line: None) if quiet else (lambda line: print(line, file=sys.stdout)))
    emit(json, result, lambda out: None)
