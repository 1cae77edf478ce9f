"""registry-history (SPEC §7.12)."""

from __future__ import annotations

import sys

from ..output import emit, json_mode
from ..render import esc, stage, table, v
from .common import ReadOptions, check_format, reads

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import NameArg


@reads
def history(
    name: NameArg,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="md (a markdown table) or json. Default: a table for the terminal.",
                     show_default=False),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this date or date-time (UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this date (its end) or date-time.")] = None,
    *,
    read: ReadOptions,
) -> None:
    """Every event of a model, in the order it happened."""

    if fmt is not None:
        check_format(fmt, "md", "json")
    data = read.registry().history(name, since, until).to_dict()
    if fmt == "md" and not json_mode(read.json):  # SPEC §7.12: markdown, as registry-audit's md is
        sys.stdout.write(markdown(data))
        return

    def render(out: Any) -> None:
        t = table("#", "Time", "Event", "Version", "From", "To", "By", "Reason", "Commit")
        for e in data["events"]:
            t.add_row(
                str(e["seq"]),
                esc(e["at"] or "-"),
                e["event"] + (" (forced)" if e["forced"] else "") + (" (auto)" if e.get("auto") else ""),
                v(e["version"]),
                stage(e["from"]),
                stage(e["to"]),
                esc(e["by"] or "-"),
                esc(e["reason"] or ""),
                (e["commit"] or "")[:8],
            )
        out.print(t)

    emit(read.json or fmt == "json", data, render)


def markdown(data: dict[str, Any]) -> str:
    """The history as a markdown table (``--format md``): one row per event, ``|`` in a cell escaped."""

    def cell(value: object) -> str:
        return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")

    out = [f"# History of {data['name']}", "", "| # | Time | Event | Version | From | To | By | Reason | Commit |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in data["events"]:
        event = e["event"] + (" (forced)" if e["forced"] else "") + (" (auto)" if e.get("auto") else "")
        row = (e["seq"], e["at"] or "-", event, f"v{e['version']}", e["from"] or "-", e["to"] or "-",
               e["by"] or "-", e["reason"] or "", (e["commit"] or "")[:8])
        out.append("| " + " | ".join(cell(x) for x in row) + " |")
    return "\n".join(out) + "\n"
