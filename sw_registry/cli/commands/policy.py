"""registry-policy (SPEC §7.15)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from ..output import emit
from ..render import short
from .common import registry

# Typer and the option aliases are only annotations here: app.build() provides them when it wires the
# command into Typer, and the fast path (fastpath.py) calls the function without importing Typer.
if TYPE_CHECKING:
    import typer

    from ..options import ActorOption, AllowDetachedOption, JsonOption, NameArg, PushOption, RootOption


TRIGGER = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*([<>])\s*([-+0-9.eE]+)\s*$")


def parse_triggers(items: list[str] | None, window: str | None) -> dict[str, Any]:
    """'accuracy<0.80' -> {accuracy: {min: 0.8}}; 'error_rate>0.05' -> {error_rate: {max: 0.05}}."""
    from ...errors import InvalidInput

    out: dict[str, Any] = {}
    for item in items or []:
        m = TRIGGER.match(item)
        if not m:
            raise InvalidInput(f"invalid trigger {item!r}", hint='write "METRIC<VALUE" or "METRIC>VALUE"')
        try:
            value = float(m.group(3))
        except ValueError:
            raise InvalidInput(f"invalid trigger value in {item!r}", hint="use a number") from None
        rule: dict[str, Any] = {"min" if m.group(2) == "<" else "max": value}
        if window:
            rule["window"] = window
        out[m.group(1)] = rule
    return out


def policy(
    name: NameArg,
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
    actor: ActorOption = None,
    allow_detached: AllowDetachedOption = False,
    push: PushOption = False,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Set a model's policy in .specweave/registry.yaml (one commit, reviewed like code)."""
    from ...errors import UsageError

    if min_approvals < 1:
        raise UsageError("--min-approvals must be at least 1", hint="e.g. --min-approvals 2")
    triggers = parse_triggers(trigger, window)
    if (signed or signers_file) and not require_approval:
        raise UsageError("--signed makes an approval rule signed", hint="add --require-approval STAGE --approver EMAIL")
    if signers_file and not signed:
        raise UsageError("--signers-file is for signed approvals", hint="add --signed")
    if not (require_approval or triggers or owner or primary_metric):
        raise UsageError("nothing to set", hint="pass --require-approval, --trigger, --owner or --primary-metric")
    reg = registry(root, actor=actor, allow_detached=allow_detached, push=push)
    results = []
    if require_approval:
        results.append(
            reg.set_approval_required(
                require_approval,
                approver or [],
                name,
                min_approvals=min_approvals,
                allow_self_approval=self_approval,
                signed=signed,
                signers_file=signers_file,
            )
        )
    if triggers or owner or primary_metric:
        results.append(reg.set_model_policy(name, owner=owner, primary_metric=primary_metric, triggers=triggers))
    changed = any(r.changed for r in results)
    commits = [r.commit for r in results if r.commit]
    commit = commits[-1] if commits else None
    data = {"changed": changed, "commit": commit}

    def render(out: Any) -> None:
        out.print(
            f"policy of {name} updated, commit {short(commit)}"
            if changed
            else f"policy of {name} already says that; nothing changed"
        )

    emit(json, data, render)
