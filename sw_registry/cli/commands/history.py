"""registry-history (SPEC §7.12)."""

from __future__ import annotations

from ..output import emit
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
    fmt: Annotated[str, typer.Option("--format", help="md (a table) or json.")] = "md",
    since: Annotated[str | None, typer.Option("--since", help="From this date or date-time (UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this date (its end) or date-time.")] = None,
    *,
    read: ReadOptions,
) -> None:
    """Every event of a model, in the order it happened."""

    check_format(fmt, "md", "json")
    data = read.registry().history(name, since, until).to_dict()

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
