"""The Typer app: wires the commands, nothing else."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from .commands import get, history, info, init, listing, maintenance, policy, register, stages

HELP = """sw-registry: a git-backed model registry for SpecWeave projects.

Every state change is one git commit with Registry-* trailers. Add --json to any command for
machine-readable output (SPEC §9); exit codes are stable."""


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"sw-registry {version('sw-registry')}")
        raise typer.Exit()


def build() -> typer.Typer:
    app = typer.Typer(
        name="sw-registry",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ) -> None:
        """sw-registry: a git-backed model registry for SpecWeave projects."""

    app.command("registry-register")(register.register)
    app.command("registry-list")(listing.list_)
    app.command("registry-info")(info.info)
    app.command("registry-get")(get.get)
    app.command("registry-promote")(stages.promote)
    app.command("registry-rollback")(stages.rollback)
    app.command("registry-approve")(stages.approve)
    app.command("registry-deprecate")(stages.deprecate)
    app.command("registry-history")(history.history)
    app.command("registry-policy")(policy.policy)
    app.command("registry-verify")(maintenance.verify)
    app.command("registry-reindex")(maintenance.reindex)
    app.command("init")(init.init)
    from .commands import demo

    app.command("demo")(demo.demo)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    from .output import run

    command = typer.main.get_command(build())
    args = list(sys.argv[1:] if argv is None else argv)

    def invoke(a: list[str]) -> Any:
        return command.main(args=a, prog_name="sw-registry", standalone_mode=False)

    return run(args, invoke)
