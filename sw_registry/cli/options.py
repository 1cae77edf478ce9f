"""Annotated option aliases shared by every command."""

from pathlib import Path
from typing import Annotated, Any

import typer

from .complete import model_names, model_versions

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document on stdout (also SW_REGISTRY_JSON=1).")
]
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Project root (the folder holding .specweave/). Default: $SW_REGISTRY_ROOT, then discovery.",
        show_default=False,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who does this write. Default: $SW_REGISTRY_ACTOR, then git's author email.", show_default=False
    ),
]
RevOption = Annotated[
    str | None,
    typer.Option("--rev", help="Read the registry as of this commit, branch or tag (no checkout).", show_default=False),
]
AllowDetachedOption = Annotated[bool, typer.Option("--allow-detached", help="Allow a write while HEAD is detached.")]
IncrementOption = Annotated[
    str | None,
    typer.Option(
        "--increment", help="Increment: 42, 0042 or 0042-name (a new full id is created).", show_default=False
    ),
]
NameArg = Annotated[str, typer.Argument(help="Model name.", autocompletion=model_names)]
VersionArg = Annotated[str, typer.Argument(help="Version, e.g. v3.1.0.", autocompletion=model_versions)]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why (recorded in metadata, history and the commit).")
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Relax the transition/deprecation rules (needs --reason; never bypasses approvals)."),
]
PushOption = Annotated[
    bool,
    typer.Option(
        "--push", help="Push the commit; if the push is rejected, re-run the write on the remote head (3 tries)."
    ),
]

# The names the command modules' string annotations use, and where app.build() resolves them. A command
# module imports these same names under TYPE_CHECKING only (for readers and mypy), so the fast path
# (fastpath.py) never imports Typer; tests/cli/test_fastpath.py checks the two agree.
ANNOTATIONS: dict[str, object] = {
    "Annotated": Annotated,  # the command modules import these three under TYPE_CHECKING only
    "Any": Any,
    "Path": Path,
    "typer": typer,
    "model_names": model_names,
    "model_versions": model_versions,
    "JsonOption": JsonOption,
    "RootOption": RootOption,
    "ActorOption": ActorOption,
    "RevOption": RevOption,
    "AllowDetachedOption": AllowDetachedOption,
    "IncrementOption": IncrementOption,
    "NameArg": NameArg,
    "VersionArg": VersionArg,
    "ReasonOption": ReasonOption,
    "ForceOption": ForceOption,
    "PushOption": PushOption,
}
