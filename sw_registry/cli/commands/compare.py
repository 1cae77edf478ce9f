"""registry-compare (SPEC §7.10)."""

from __future__ import annotations

from ..output import emit
from ..render import esc, table
from .common import ReadOptions, check_format, reads

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import NameArg, VersionArg


@reads
def compare(
    name: NameArg,
    version_a: VersionArg,
    version_b: VersionArg,
    fmt: Annotated[str, typer.Option("--format", help="table, json or md.")] = "table",
    *,
    read: ReadOptions,
) -> None:
    """Compare two versions: metrics with their change and verdict, size, features, hyperparameters, signature."""
    from ...compare import fmt as show
    from ...compare import markdown

    check_format(fmt, "table", "json", "md")
    data = read.registry().compare_models(f"{name}@{version_a}", f"{name}@{version_b}").to_dict()
    if fmt == "md" and not read.json:
        print(markdown(data), end="")
        return

    def render(out: Any) -> None:
        a, b = data["a"].split("@", 1)[1], data["b"].split("@", 1)[1]
        t = table("Metric", f"v{a}", f"v{b}", "Change", "")
        for m in [*data["metrics"], data["artifact"]]:
            change = "" if m["relative"] is None else f"{m['relative']:+.1%}"
            verdict = {True: "[green]better[/]", False: "[red]worse[/]", None: ""}[m["better"]]
            t.add_row(esc(m["name"]), esc(show(m["a"])), esc(show(m["b"])), change, verdict)
        out.print(t)
        f = data["features"]
        if f["added"] or f["removed"] or f["retyped"]:
            out.print(
                f"features: +{', '.join(f['added']) or '-'}  -{', '.join(f['removed']) or '-'}  "
                f"retyped: {', '.join(r['name'] for r in f['retyped']) or '-'}",
                markup=False,
            )
        changed = data["hyperparameters"]["changed"]
        if changed:
            out.print(
                "hyperparameters: " + ", ".join(f"{c['name']} {show(c['a'])} → {show(c['b'])}" for c in changed),
                markup=False,
            )
        out.print(f"signature compatible: {'yes' if data['signature_compatible'] else 'no'}")
        out.print(f"recommendation: [bold]{data['recommendation']}[/bold]")

    emit(read.json or fmt == "json", data, render)
