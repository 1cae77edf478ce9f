"""The Typer app: wires the commands, nothing else."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer

HELP = """sw-registry: a git-backed model registry for SpecWeave projects.

Every state change is one git commit with Registry-* trailers. Add --json to any command for
machine-readable output (SPEC §9); exit codes are stable."""

# command name -> (module in .commands, function): a run imports and builds only the command it needs
COMMANDS: dict[str, tuple[str, str]] = {
    "registry-register": ("register", "register"),
    "registry-list": ("list_", "list_"),
    "registry-info": ("info", "info"),
    "registry-get": ("get", "get"),
    "registry-promote": ("promote", "promote"),
    "registry-rollback": ("rollback", "rollback"),
    "registry-approve": ("approve", "approve"),
    "registry-deprecate": ("deprecate", "deprecate"),
    "registry-history": ("history", "history"),
    "registry-audit": ("audit", "audit"),
    "registry-compare": ("compare", "compare"),
    "registry-lineage": ("lineage", "lineage"),
    "registry-policy": ("policy", "policy"),
    "registry-signers": ("signers", "signers"),
    "registry-monitor": ("monitor", "monitor"),
    "registry-experiments": ("experiments", "experiments"),
    "registry-verify": ("verify", "verify"),
    "registry-reindex": ("reindex", "reindex"),
    "sync-docs": ("sync_docs", "sync_docs"),
    "init": ("init", "init"),
    "install-commands": ("install_commands", "install_commands"),
    "demo": ("demo", "demo"),
    "mlflow-sync": ("mlflow_sync", "mlflow_sync"),
}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"sw-registry {version('sw-registry')}")
        raise typer.Exit()


def build(only: str | None = None) -> typer.Typer:
    """The Typer app with every command, or with just ``only`` (what a run of that command needs)."""
    import importlib

    app = typer.Typer(
        name="sw-registry",
        help=HELP,
        no_args_is_help=True,
        add_completion=True,
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

    for name, (module_name, func) in COMMANDS.items():
        if only is None or name == only:
            module = importlib.import_module(f"{__package__}.commands.{module_name}")
            app.command(name)(resolved(getattr(module, func)))
    return app


def resolved(func: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of the command ``func`` whose signature carries real annotations, for Typer to read.

    The command modules import Typer and the option aliases only under TYPE_CHECKING (the fast path calls
    them without Typer), so their annotations are strings. They are evaluated here, in the module's own
    globals plus options.ANNOTATIONS, and handed to Typer on a new wrapper: no module or function is changed.
    (A ``@writes`` command is a wrapper from commands/common.py: its module is the wrapped function's.)
    """
    import functools
    import inspect
    import typing

    from .options import ANNOTATIONS

    module_globals = inspect.unwrap(func).__globals__
    hints = typing.get_type_hints(func, globalns={**ANNOTATIONS, **module_globals}, include_extras=True)
    signature = inspect.signature(func)
    signature = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation),
    )

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    command.__signature__ = signature  # type: ignore[attr-defined]  # what inspect.signature (and Typer) reads
    command.__annotations__ = hints
    return command


def _requested(args: list[str]) -> str | None:
    """The subcommand named on the command line (the first non-option word), if it is one of ours."""
    for arg in args:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from .output import run

    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(build(_requested(args)))

    def invoke(a: list[str]) -> Any:
        return command.main(args=a, prog_name="sw-registry", standalone_mode=False)

    return run(args, invoke)
