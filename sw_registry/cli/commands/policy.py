"""registry-policy (SPEC §7.15)."""

from __future__ import annotations

from ..output import emit
from ..render import outcome, short
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..complete import model_names


@writes
def policy(
    name: Annotated[
        str | None,
        typer.Argument(
            help="Model name (not needed with --commit).",
            metavar="NAME",
            autocompletion=model_names,
            show_default=False,
        ),
    ] = None,
    require_approval: Annotated[
        str | None, typer.Option("--require-approval", help="Stage that needs approval (staging or production).")
    ] = None,
    approver: Annotated[
        list[str] | None, typer.Option("--approver", help="An approver's email (repeatable; none: anyone).")
    ] = None,
    min_approvals: Annotated[int, typer.Option("--min-approvals", help="Approvals needed.")] = 1,
    self_approval: Annotated[
        bool | None,
        typer.Option("--allow-self-approval/--no-self-approval", help="May a version's creator approve it?"),
    ] = None,
    trigger: Annotated[
        list[str] | None,
        typer.Option("--trigger", help='Auto-rollback trigger "METRIC<VALUE" or "METRIC>VALUE" (repeatable).'),
    ] = None,
    window: Annotated[str | None, typer.Option("--window", help="Window of the triggers, e.g. 24h.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="The model's owner.")] = None,
    primary_metric: Annotated[
        str | None, typer.Option("--primary-metric", help="Metric shown in list and docs.")
    ] = None,
    signed: Annotated[
        bool,
        typer.Option("--signed", help="Approvals count only with a signature a listed key verifies (SPEC §6)."),
    ] = False,
    signers_file: Annotated[
        str | None,
        typer.Option(
            "--signers-file", help="Allowed-signers file, from the project root (default .specweave/allowed_signers)."
        ),
    ] = None,
    commit_file: Annotated[
        bool,
        typer.Option(
            "--commit", help="Validate .specweave/registry.yaml as you edited it and commit it (event policy)."
        ),
    ] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded in the commit).")] = None,
    *,
    w: WriteOptions,
) -> None:
    """Set a model's policy in .specweave/registry.yaml, or commit your own edit of it with --commit.

    One call is one commit, whatever options it combines (reviewed and audited like code)."""
    from ...errors import UsageError

    if min_approvals < 1:
        raise UsageError("--min-approvals must be at least 1", hint="e.g. --min-approvals 2")
    setting = bool(require_approval or trigger or owner or primary_metric or approver or window)
    setting = setting or signed or bool(signers_file)
    if commit_file:
        if setting:
            raise UsageError(
                "--commit commits registry.yaml as it is; it takes no policy options",
                hint="edit the file and run 'registry-policy --commit', or set options without --commit",
            )
        reg = w.registry()
        result = reg.commit_policy(reason=reason, name=name)
    else:
        from ...triggers import parse_triggers

        triggers = parse_triggers(trigger, window)
        if name is None:
            raise UsageError(
                "missing the model NAME",
                hint="registry-policy NAME --require-approval ..., or registry-policy --commit",
            )
        if not (require_approval or triggers or owner or primary_metric):
            raise UsageError(
                "nothing to set",
                hint="pass --require-approval, --trigger, --owner or --primary-metric (or --commit for a hand edit)",
            )
        reg = w.registry()
        result = reg.update_policy(
            name,
            require_approval=require_approval,
            approvers=approver,
            min_approvals=min_approvals,
            allow_self_approval=self_approval,
            owner=owner,
            signed=signed,
            signers_file=signers_file,
            primary_metric=primary_metric,
            triggers=triggers,
            reason=reason,
        )
    changed, commit = result.changed, result.commit
    data: dict[str, Any] = {"changed": changed, "commit": commit}
    if result.warnings:
        data["warnings"] = list(result.warnings)
    what = f"policy of {name}" if name else "registry.yaml"
    emit(w.json, data, lambda out: outcome(
        out, changed, f"{what} already says that", f"{what} committed, commit {short(commit)}"
    ))
