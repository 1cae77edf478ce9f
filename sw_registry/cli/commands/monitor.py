"""registry-monitor (SPEC §7.8)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..output import emit
from ..render import esc, short, table, v
from .common import WriteOptions, writes

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import NameArg


def _read(source: str) -> str:
    """The --observations text: a file, or stdin for ``-``."""
    from ...errors import InvalidInput

    if source == "-":
        data = sys.stdin.buffer.read()
        where = "stdin"
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"observations file {source!r} is not a readable file", hint="pass a JSON lines file")
        if path.stat().st_size > 64 * 1024 * 1024:
            raise InvalidInput(f"observations file {source!r} is over 64 MiB", hint="record it in smaller batches")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {source!r}: {exc}", hint="pass a readable file") from None
        where = source
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{where} is not UTF-8 text", hint="observations are JSON lines") from None


def evaluations_table(out: Any, evaluations: list[dict[str, Any]]) -> None:
    from ...triggers import figure

    t = table("Trigger", "Value", "Threshold", "Window", "Observations", "State")
    for e in evaluations:
        bound = {"max": "> ", "min": "< ", "accuracy_drop": "drop > "}.get(e.get("kind", ""), "")
        t.add_row(
            esc(e["metric"]),
            figure(e["value"]),
            bound + figure(e["threshold"]),
            esc(e.get("window") or "-"),
            f"{e.get('observations', 0)} (min {e.get('min_observations', 1)})",
            "[bold red]breached[/]" if e["breached"] else esc(e.get("state", "ok")),
        )
    out.print(t)


@writes
def monitor(
    name: NameArg,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="An observed production metric NAME=VALUE (repeatable)."),
    ] = None,
    observations: Annotated[
        str | None,
        typer.Option(
            "--observations", help='JSON lines {"at": TIME, "metrics": {NAME: VALUE}} from FILE, or - for stdin.'
        ),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When the observations were made (ISO date-time; default now).")
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Evaluate the triggers only: record nothing, roll back nothing.")
    ] = False,
    *,
    w: WriteOptions,
) -> None:
    """Record production observations, evaluate the auto-rollback triggers, roll back on a breach."""
    from ...errors import UsageError
    from ...metadata import parse_key_values

    if bool(metric) == (observations is not None):
        raise UsageError(
            "give --metric NAME=VALUE or --observations FILE, one of the two",
            hint="e.g. sw-registry registry-monitor NAME --metric error_rate=0.02",
        )
    metrics = parse_key_values(metric, "metric") if metric else None
    lines = _read(observations) if observations is not None else None
    r = w.registry().monitor(
        name, metrics, observations=lines, at=at, record=not no_record
    )
    data = r.to_dict()

    def render(out: Any) -> None:
        if r.status == "rolled_back":
            out.print(
                f"[bold red]{esc(r.name)}: auto-rollback[/] production {v(r.version)} → {v(r.rolled_back_to)} "
                f"({esc(r.reason)}), commit {short(r.commit)}"
            )
        elif r.status == "breached":
            target = f"; it would roll back to {v(r.would_roll_back_to)}" if r.would_roll_back_to else ""
            out.print(
                f"{esc(r.name)} {v(r.version)}: [bold red]breached[/] ({esc(r.reason)}){target}; nothing recorded"
            )
        else:
            what = f"{r.recorded} observation(s) recorded, commit {short(r.commit)}" if r.commit else "nothing recorded"
            out.print(f"{esc(r.name)} {v(r.version)}: [green]healthy[/]; {what}")
        if r.evaluations:
            evaluations_table(out, r.evaluations)

    emit(w.json, data, render)
