"""registry-deprecate (SPEC §7.7)."""

from __future__ import annotations

from ..output import emit
from ..render import esc, outcome, short, v
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated

    import typer

    from ..options import NameArg, VersionArg


@writes
def deprecate(
    name: NameArg,
    version: VersionArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is deprecated.")],
    end_of_life: Annotated[
        str | None, typer.Option("--end-of-life", help="Date (YYYY-MM-DD) it stops being supported.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Allow deprecating the production version.")] = False,
    *,
    w: WriteOptions,
) -> None:
    """Mark a version deprecated: it can no longer be promoted or rolled back to without --force."""
    r = w.registry().deprecate_model(
        name, version, reason, end_of_life, force=force
    )

    eol = f", end of life {r.end_of_life}" if r.end_of_life else ""
    emit(w.json, r.to_dict(), lambda out: outcome(
        out, r.commit is not None, f"{esc(r.name)} {v(r.version)} is already deprecated",
        f"{esc(r.name)} {v(r.version)} deprecated by {esc(r.actor)}{eol}, commit {short(r.commit)}",
        f"  reason: {esc(r.reason)}",
    ))
