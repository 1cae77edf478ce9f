"""The Typer app: wires the commands, nothing else."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

HELP = """sw-registry: a git-backed model registry for SpecWeave projects.

Every state change is one git commit with Registry-* trailers. Add --json to any command for
machine-readable output (SPEC §9); exit codes are stable."""

# command name -> (module in .commands, function): a run imports and builds only the command it needs
COMMANDS: dict[str, tuple[str, str]] = {
    "registry-register": ("register", "register"),
    "registry-list": ("listing", "list_"),
    "registry-info": ("info", "info"),
    "registry-get": ("get", "get"),
    "registry-promote": ("stages", "promote"),
    "registry-rollback": ("stages", "rollback"),
    "registry-approve": ("stages", "approve"),
    "registry-deprecate": ("stages", "deprecate"),
    "registry-history": ("history", "history"),
    "registry-audit": ("audit", "audit"),
    "registry-compare": ("compare", "compare"),
    "registry-lineage": ("lineage", "lineage"),
    "registry-policy": ("policy", "policy"),
    "registry-signers": ("signers", "signers"),
    "registry-monitor": ("monitor", "monitor"),
    "registry-experiments": ("experiments", "experiments"),
    "registry-verify": ("maintenance", "verify"),
    "registry-reindex": ("maintenance", "reindex"),
    "sync-docs": ("docs", "sync_docs"),
    "init": ("init", "init"),
    "install-commands": ("plugin", "install_commands"),
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

    from . import options

    # The command modules import neither Typer nor the option aliases at run time (see fastpath.py); their
    # annotations are strings that Typer resolves here, in the module's namespace, so give it both.
    from .complete import model_names, model_versions

    annotation_names = {
        "typer": typer,
        "model_names": model_names,
        "model_versions": model_versions,
        **{k: v for k, v in vars(options).items() if k.endswith(("Option", "Arg"))},
    }
    for name, (module_name, func) in COMMANDS.items():
        if only is None or name == only:
            module = importlib.import_module(f"{__package__}.commands.{module_name}")
            for key, value in annotation_names.items():
                module.__dict__.setdefault(key, value)
            app.command(name)(getattr(module, func))
    return app


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
