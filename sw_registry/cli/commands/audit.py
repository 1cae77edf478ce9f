"""registry-audit (SPEC §7.12)."""

from __future__ import annotations

import sys

from ..output import emit
from .common import check_format, registry

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated

    import typer

    from ..complete import model_names
    from ..options import JsonOption, RevOption, RootOption


def audit(
    name: Annotated[str | None, typer.Argument(help="Only this model.", autocompletion=model_names)] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this date or date-time (UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this date (its end) or date-time.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or json.")] = "md",
    rev: RevOption = None,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Governance report from git history: deployments, approvals, rollbacks, forced moves, changes made outside."""
    from ...audit import ModelGovernance, markdown
    from ...versions import validate_name

    check_format(fmt, "md", "json")
    if name is not None:
        validate_name(name)
    data = ModelGovernance(registry(root, rev=rev)).generate_audit_report(name, since, until).data  # ours: no copy

    def render(_out: object) -> None:
        sys.stdout.write(markdown(data))

    emit(json or fmt == "json", data, render)
