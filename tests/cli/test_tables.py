"""cli/tables.py prints a table byte for byte as rich's own ``Table`` prints it, plain or coloured, and gives the
tables it does not lay out itself (wrapped, multi-line, unusual characters) to rich."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sw_registry.cli import tables
from sw_registry.cli.render import esc, metric, stage

COLOURS = [None, "standard", "256", "truecolor"]

words = st.sampled_from(
    ["", "-", "v1.2.3", "dev", "a b", "x  ", " lead", "2024-01-01T00:00:00Z", ":smile:", "fix :bug: now", "a:b:c",
     "[x]", "back\\", "日本語", "naïve", "é" * 3, "bench@example.com", "accuracy=0.91"]
)
odd = st.sampled_from(["tab\there", "two\nlines", "\x1b[31mred", "nbsp\u00a0", "zero\u200bwidth"])
cells = st.one_of(
    words,
    words.map(esc),
    st.sampled_from(["dev", "staging", "production", "archived", None]).map(stage),
    words.map(lambda w: f"[bold green]{esc(w)}[/] {esc(w)}"),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
)
cells = st.one_of(cells, cells, cells, cells, cells, st.text(st.characters(codec="utf-8"), max_size=8).map(esc))
plain_headers = st.sampled_from(["#", "Time", "Event", "Version", "By", "Reason", "Commit", "v1.0.0", ""])
odd_headers = st.sampled_from(["Δ", "a [b]", "a:b"])


def printed(renderable: object, width: int, colour: str | None, no_color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, highlight=False, force_terminal=colour is not None,
                      color_system=colour, no_color=no_color)  # type: ignore[arg-type]
    console.print(renderable)
    return buf.getvalue()


def build(columns: list[str], rows: list[list[str]]) -> tables.Table:
    t = tables.Table(*columns)
    for row in rows:
        t.add_row(*row[: len(columns)])
    return t


@settings(max_examples=300, deadline=None)
@given(
    columns=st.lists(plain_headers, min_size=1, max_size=6),
    rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=5),
    width=st.one_of(st.integers(min_value=10, max_value=80), st.just(200)),
    colour=st.sampled_from(COLOURS),
    no_color=st.booleans(),
    odd_cell=st.one_of(st.none(), st.none(), st.none(), odd),
    odd_header=st.one_of(st.none(), st.none(), st.none(), odd_headers),
)
def test_the_table_is_richs_table(columns: list[str], rows: list[list[str]], width: int, colour: str | None,
                                  no_color: bool, odd_cell: str | None, odd_header: str | None) -> None:
    if odd_header is not None:
        columns[-1] = odd_header
    if odd_cell is not None and rows:
        rows[-1][0] = odd_cell
    t = build(columns, rows)
    assert printed(t, width, colour, no_color) == printed(t.rich_table(), width, colour, no_color)


def test_the_usual_tables_are_laid_out_here_not_by_rich() -> None:
    rows = [[str(i), "2024-01-01T00:00:00Z", stage("production" if i % 2 else "dev"), esc("a [note]"),
             metric({"name": "accuracy", "value": 0.9}), "日本"] for i in range(40)]
    t = build(["#", "Time", "Stage", "Reason", "Primary metric", "Wide"], rows)
    for colour in COLOURS:
        console = Console(file=io.StringIO(), width=200, force_terminal=colour is not None, color_system=colour)  # type: ignore[arg-type]
        assert tables._laid_out(t, console, console.options) is not None
        assert printed(t, 200, colour) == printed(t.rich_table(), 200, colour)
    # narrower than the table: rich's column widths, the cells that do not fit wrapped in them as rich wraps them
    for width in (30, 60, 80):
        for colour in COLOURS:
            narrow = Console(file=io.StringIO(), width=width, force_terminal=colour is not None, color_system=colour)  # type: ignore[arg-type]
            assert tables._laid_out(t, narrow, narrow.options) is not None
            assert printed(t, width, colour) == printed(t.rich_table(), width, colour)
        assert max(len(line) for line in printed(t, width, None).splitlines()) <= width
    # what rich must lay out: a line break in a cell, markup in a header
    wide = Console(file=io.StringIO(), width=200)
    assert tables._laid_out(build(["a"], [["one\ntwo"]]), wide, wide.options) is None
    assert tables._laid_out(build(["[b]x[/b]"], [["one"]]), wide, wide.options) is None


def test_an_empty_table_and_short_rows() -> None:
    for t in (build(["Model", "Version"], []), build(["A", "B", "C"], [["only one"]])):
        for colour in COLOURS:
            assert printed(t, 80, colour) == printed(t.rich_table(), 80, colour)
