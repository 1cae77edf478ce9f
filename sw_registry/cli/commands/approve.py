"""registry-approve (SPEC §7.6)."""

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

    from ..options import NameArg, VersionArg


@writes
def approve(
    name: NameArg,
    version: VersionArg,
    stage_: Annotated[str, typer.Option("--stage", help="The stage the approval is for.")] = "production",
    comment: Annotated[str | None, typer.Option("--comment", help="A comment kept with the approval.")] = None,
    *,
    w: WriteOptions,
) -> None:
    """Approve a version for a stage, as the actor (the commit is authored by the approver)."""
    r = w.registry().approve_model(name, version, approver=w.actor, comments=comment, stage=stage_)

    def human(out: Any) -> None:
        from ..render import esc, outcome, short, stage, v  # human output only: --json does not import it

        need = f" ({r.approvals} of {r.required} required)" if r.required else ""
        signed = f", signed with {r.signing_key}" if r.signing_key else ""
        by = f"{esc(r.approver)}{need}, commit {short(r.commit)}{signed}"
        outcome(
            out, r.commit is not None,
            f"{esc(r.approver)} has already approved {esc(r.name)} {v(r.version)} for {r.stage}",
            f"{esc(r.name)} {v(r.version)} approved for {stage(r.stage)} by {by}",
        )

    emit(w.json, r.to_dict(), human)
