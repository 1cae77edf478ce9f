"""sync-docs update | review [--check] (SPEC §7.9)."""

from __future__ import annotations

import sys

from ..output import emit, json_mode
from ..render import esc, outcome, short
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer



@writes
def sync_docs(
    action: Annotated[str, typer.Argument(help="update (write the doc, one commit) or review (print the diff).")],
    check: Annotated[
        bool, typer.Option("--check", help="With review: exit 1 (stale_docs) when the doc is stale.")
    ] = False,
    *,
    w: WriteOptions,
) -> None:
    """Keep the living doc (docs_path) in step with the registry; text outside its markers is never touched."""
    from ...errors import StaleDocs, UsageError

    if action not in ("update", "review"):
        raise UsageError(f"unknown action {action!r}", hint="use: sync-docs update, or sync-docs review [--check]")
    reg = w.registry()
    if action == "update" and not check:
        data = reg.sync_docs()
        path = esc(data["path"])
        updated = f"{path} updated, commit {short(data['commit'])}"
        emit(w.json, data, lambda out: outcome(out, data["changed"], f"{path} is up to date", updated))
        return
    data = reg.review_docs()
    if check and data["changed"]:
        if not json_mode(w.json):
            sys.stdout.write(data["diff"])
        raise StaleDocs(
            f"{data['path']} is out of date with the registry",
            hint="run: sw-registry sync-docs update",
            details={"path": data["path"], "diff": data["diff"]},
        )

    def render(out: Any) -> None:
        if data["changed"]:
            sys.stdout.write(data["diff"])
        else:
            out.print(f"{esc(data['path'])} is up to date")

    emit(w.json, data, render)
