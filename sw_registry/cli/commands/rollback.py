"""registry-rollback (SPEC §7.5)."""

from __future__ import annotations

from ..output import emit
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import ForceOption, NameArg, ReasonOption


@writes
def rollback(
    name: NameArg,
    to: Annotated[
        str | None, typer.Option("--to", help="Version to roll back to (default: the previous production version).")
    ] = None,
    reason: ReasonOption = None,
    force: ForceOption = False,
    *,
    w: WriteOptions,
) -> None:
    """Make an earlier production version production again, in one commit."""
    r = w.registry().rollback(name, to, reason, force=force)

    def human(out: Any) -> None:
        from ..render import esc, outcome, short, v  # human output only: --json does not import it

        back = f"production {v(r.from_version)} → {v(r.to_version)} by {esc(r.actor)}, commit {short(r.commit)}"
        outcome(
            out, r.commit is not None, f"{esc(r.name)} {v(r.to_version)} is already in production",
            f"{esc(r.name)} rolled back: {back}", f"  reason: {esc(r.reason)}" if r.reason else "",
        )

    emit(w.json, r.to_dict(), human)
