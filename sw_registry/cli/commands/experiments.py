"""registry-experiments: the tracked experiments and the model versions they produced (SPEC §12)."""

from __future__ import annotations

from ..output import emit
from ..render import esc, table
from .common import registry

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import JsonOption, RootOption


def _pairs(values: dict[str, Any], limit: int = 4) -> str:
    from ...compare import fmt

    shown = [f"{k}={fmt(val) if isinstance(val, (int, float)) else val}" for k, val in list(values.items())[:limit]]
    more = len(values) - limit
    return ", ".join(shown) + (f", +{more}" if more > 0 else "") if shown else "-"


def experiments(
    increment: Annotated[
        str | None, typer.Option("--increment", help="Only this increment (42, 0042 or 0042-name).", show_default=False)
    ] = None,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """List tracked experiments: params, metrics and the model version each produced."""
    rows = [e.to_dict() for e in registry(root).experiments(increment)]
    data = {"experiments": rows}

    def render(out: Any) -> None:
        if not rows:
            out.print("No tracked experiments. Track one with: with track_experiment('name') as exp: ...")
            return
        t = table("Increment", "Experiment", "Metrics", "Params", "Model version", "Finished")
        for r in rows:
            models = ", ".join(f"{m['name']} v{m['version']}" for m in r["models"]) or "-"
            t.add_row(
                esc(r["increment"]),
                esc(r["name"]),
                esc(_pairs(r["metrics"])),
                esc(_pairs(r["params"])),
                esc(models),
                esc(r["finished_at"] or "-"),
            )
        out.print(t)

    emit(json, data, render)
