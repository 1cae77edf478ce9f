"""install-commands (SPEC §7.16)."""

from __future__ import annotations

import re

from ..output import emit
from ..render import esc

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Annotated, Any

    import typer

    from ..options import JsonOption, RootOption


def registry_commands() -> list[tuple[str, str, str]]:
    """(name, one-line help, usage) of every command in the COMMANDS table, read from the Typer app."""
    import typer

    from ..app import COMMANDS, build

    group = typer.main.get_command(build())
    out = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if name not in COMMANDS:
            continue
        summary = (command.help or "").strip().splitlines()[0]
        usage = " ".join(command.collect_usage_pieces(typer.Context(command)))
        usage = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), usage)  # {name} -> NAME
        out.append((name, summary, usage))
    return out


def install_commands(
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Plugin folder (default: <project root>/.claude/plugins/ml).", show_default=False),
    ] = None,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Write a /ml: slash command for every command (a Claude Code plugin named ml) and the model-registry skill."""
    from ...layout import find_root
    from ...plugin import install

    target = dest if dest is not None else find_root(root) / ".claude" / "plugins" / "ml"
    data = install(target.resolve(), registry_commands())

    def render(out: Any) -> None:
        out.print(f"Slash commands /ml:* (a Claude Code plugin named ml) in {esc(data['dest'])}")
        changed = data["changed"]
        out.print(f"  {len(changed)} file(s) written" if changed else "  already up to date; nothing changed")

    emit(json, data, render)
