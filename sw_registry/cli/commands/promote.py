"""registry-promote (SPEC §7.4)."""

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

    from ..options import ForceOption, NameArg, ReasonOption, VersionArg


@writes
def promote(
    name: NameArg,
    version: VersionArg,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Target stage: staging, production or archived (with --to-env: default the environment's stage).",
            show_default=False,
        ),
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Refuse unless the version is in this stage now.")] = None,
    to_env: Annotated[
        str | None,
        typer.Option(
            "--to-env",
            help="Promote into the registry of this environment (registry.yaml environments): copy, verify, commit "
            "there (push for a git URL), then record the link here.",
            show_default=False,
        ),
    ] = None,
    reason: ReasonOption = None,
    force: ForceOption = False,
    *,
    w: WriteOptions,
) -> None:
    """Move a version to another stage (dev -> staging -> production -> archived), or into another environment."""
    reg = w.registry()
    if to_env is not None:
        _promote_to_env(reg, name, version, to, from_, to_env, reason, force, w.json)
        return
    if to is None:
        from ...errors import UsageError

        raise UsageError("registry-promote needs --to STAGE (or --to-env ENV)", hint="e.g. --to staging")
    r = reg.promote_model(name, version, from_stage=from_, to_stage=to, reason=reason, force=force)

    def human(out: Any) -> None:
        from ..render import esc, outcome, short, stage, v  # human output only: --json does not import it

        forced = " [red](forced)[/red]" if r.forced else ""
        moved = f"{stage(r.from_stage)} → {stage(r.to_stage)}{forced} by {esc(r.actor)}, commit {short(r.commit)}"
        replaced = f"  {v(r.replaced)}: {stage(r.to_stage)} → {stage('archived')} (replaced by {v(r.version)})"
        outcome(
            out, r.commit is not None, f"{esc(r.name)} {v(r.version)} is already in {stage(r.to_stage)}",
            f"{esc(r.name)} {v(r.version)}: {moved}", replaced if r.replaced else "",
        )

    emit(w.json, r.to_dict(), human)


def _promote_to_env(
    reg: Any, name: str, version: str, to: str | None, from_: str | None, env: str, reason: str | None, force: bool,
    json: bool,
) -> None:
    from ..output import json_mode

    bar, progress = _net_progress(json_mode(json))
    try:
        if bar is not None:
            bar.start()
        r = reg.promote_to(f"{name}@{version}", env, to, from_stage=from_, reason=reason, force=force,
                           progress=progress)
    finally:
        if bar is not None:
            bar.stop()

    def render(out: Any) -> None:
        from ..render import esc, short, stage, v

        where = f"environment {esc(r.environment)} ({esc(r.target)})"
        if r.commit is None and r.source_commit is None:
            out.print(f"{esc(r.name)} {v(r.version)} is already in {stage(r.to_stage)} of {where}; nothing changed")
            return
        if r.commit is not None:
            came = stage(r.from_stage) if r.from_stage else "copied in"
            out.print(
                f"{esc(r.name)} {v(r.version)}: {came} → {stage(r.to_stage)} in {where} by {esc(r.actor)}, "
                f"commit {short(r.commit)}"
            )
        if r.replaced:
            moved = f"{stage(r.to_stage)} → {stage('archived')}"
            out.print(f"  {v(r.replaced)}: {moved} there (replaced by {v(r.version)})")
        if r.source_commit:
            out.print(f"  recorded here as environments.{esc(r.environment)}, commit {short(r.source_commit)}")

    emit(json, r.to_dict(), render)


def _net_progress(as_json: bool) -> Any:
    """A one-line rich progress of git's clone/fetch/push on a TTY; None otherwise."""
    import sys

    if as_json or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True,
                   console=Console(stderr=True))
    task = bar.add_task("git", total=None)
    return bar, (lambda what, done, total: bar.update(task, description=what, completed=done, total=total))
