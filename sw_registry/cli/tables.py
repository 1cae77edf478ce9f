"""The human output's tables: rich's ``Table(box=SIMPLE_HEAD, show_edge=False, pad_edge=False)``, laid out in one pass.

rich lays a table out cell by cell through its general renderables (padding, wrapping, measuring): ~170 µs a cell
here, so the 3,300 events of a model with 10,000 versions took ``registry-history`` 5-6 s to print. A table of
one-line cells needs little of that: each column is as wide as its widest cell, and each line is the cells padded
to those widths. ``Table`` renders such a table itself, as rich would, and hands rich the segments: rich still
styles them (colour or not, ``NO_COLOR``, the terminal's colour system) and writes them, so the bytes are rich's
own (tests/cli/test_tables.py compares them with rich's table for plain and coloured consoles).

A table too wide for the console gets the column widths rich's own table would (``_rich_widths``), and the cells
that do not fit in them are wrapped by rich, one by one (``_Layout.wrapped``). Any other table (a cell with a line
break, a tab or another character that is not printable, markup in a header) is rich's own ``Table``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment
    from rich.style import Style
    from rich.table import Table as RichTable
    from rich.text import Text


class Table:
    """Columns with a header each, then rows of markup strings (as ``rich.table.Table.add_row`` takes them)."""

    def __init__(self, *columns: str) -> None:
        self.columns: list[str] = list(columns)
        self.rows: list[tuple[str, ...]] = []

    def add_column(self, header: str) -> None:
        self.columns.append(header)

    def add_row(self, *cells: str) -> None:
        self.rows.append(tuple(cells) + ("",) * (len(self.columns) - len(cells)))

    def rich_table(self) -> RichTable:
        """The same table as rich's own (what a table this module does not lay out is printed as)."""
        from rich import box
        from rich.table import Table as RichTable

        t = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for c in self.columns:
            t.add_column(c)
        for row in self.rows:
            t.add_row(*row)
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment | RichTable]:
        lines = _laid_out(self, console, options)
        if lines is None:
            yield self.rich_table()
        else:
            yield from lines


def _laid_out(table: Table, console: Console, options: ConsoleOptions) -> list[Segment] | None:
    """The segments rich would render ``table`` as, or None when rich must lay it out."""
    from rich import box
    from rich.cells import cell_len
    from rich.segment import Segment

    n = len(table.columns)
    if n == 0 or any(not h.isascii() or not h.isprintable() or "[" in h or ":" in h for h in table.columns):
        return None
    texts: dict[str, tuple[str, Text | None, int]] = {}  # a cell's markup -> (its text, rich's Text if styled, width)
    widths = [len(h) for h in table.columns]
    for row in table.rows:
        for i, cell in enumerate(row):
            found = texts.get(cell)
            if found is None:
                found = texts[cell] = _text(console, cell, cell_len)
                if found[2] < 0:
                    return None
            if found[2] > widths[i]:
                widths[i] = found[2]
    # padding (0, 1) each side, but none at the table's two edges (pad_edge=False)
    pads = [(0, int(i < n - 1), 0, int(i > 0)) for i in range(n)]
    full = [w + p[1] + p[3] for w, p in zip(widths, pads)]
    if full[0] == 0:  # one column, empty: rich makes no column narrower than 1
        full[0] = widths[0] = 1
    if sum(full) + n - 1 > options.max_width:  # too wide: the columns rich shrinks them to; cells wrap in them
        shrunk = _rich_widths(table, console, options, texts)
        if shrunk is None:
            return None
        full = shrunk
        widths = [f - p[1] - p[3] for f, p in zip(full, pads)]
        if min(widths) < 1:
            return None
    layout = _Layout(console, options, full, pads)
    shape = box.SIMPLE_HEAD.substitute(options, safe=console.safe_box)
    header_style = console.get_style("table.header")
    out: list[Segment] = []
    header: list[list[list[Segment]]] = []
    for i, h in enumerate(table.columns):
        if not widths[i]:  # an empty column: rich fills the cell, padding and all, as one blank (unstyled when
            blank = Segment(" " * full[i], header_style if any(widths) else None)  # every column is empty)
            header.append([[blank]])
        elif len(h) <= widths[i]:
            header.append([layout.line(i, [Segment(h.ljust(widths[i]), header_style)], header_style)])
        else:
            header.append(layout.wrapped(i, h, header_style))
    layout.emit(out, header, Segment(shape.head_vertical), header_style, bottom=True)
    out.append(Segment(shape.get_row(full, "head", edge=False)))
    out.append(Segment.line())
    last_row = len(table.rows) - 1
    mid, foot = Segment(shape.mid_vertical), Segment(shape.foot_vertical)
    for r, row in enumerate(table.rows):
        cells: list[list[list[Segment]]] = []
        for i, cell in enumerate(row):
            plain, text, width = texts[cell]
            if width > widths[i]:
                cells.append(layout.wrapped(i, cell, None))
                continue
            pad = widths[i] - width
            if text is None:
                content = [Segment(plain + " " * pad if pad else plain)]
            else:
                content = list(text.render(console, end=""))
                if pad:
                    content.append(Segment(" " * pad))
            cells.append([layout.line(i, content, None)])
        layout.emit(out, cells, foot if r == last_row else mid, None, bottom=False)
    return out


class _Layout:
    """The columns' widths, and how a row's cells become lines (as rich's ``Table._render`` makes them)."""

    def __init__(self, console: Console, options: ConsoleOptions, full: list[int],
                 pads: list[tuple[int, int, int, int]]) -> None:
        from rich.segment import Segment
        from rich.table import Column

        self.console, self.full, self.pads = console, full, pads
        column = Column()
        self.options = options.update(width=sum(full) + len(full) - 1, highlight=False, height=None).update(
            justify=column.justify, no_wrap=column.no_wrap, overflow=column.overflow, height=None,
            highlight=column.highlight,
        )
        self.space = Segment(" ")
        self.wraps: dict[tuple[int, str], list[list[Segment]]] = {}

    def line(self, i: int, content: list[Segment], style: Style | None) -> list[Segment]:
        """One line of column ``i``: its padding, then ``content`` (as wide as the column)."""
        from rich.segment import Segment

        left, right = self.pads[i][3], self.pads[i][1]
        pad = self.space if style is None else Segment(" ", style)
        return ([pad] if left else []) + content + ([pad] if right else [])

    def wrapped(self, i: int, cell: str, style: Style | None) -> list[list[Segment]]:
        """The lines rich wraps ``cell`` into in column ``i`` (its padding included)."""
        key = (i, cell)
        found = self.wraps.get(key) if style is None else None
        if found is None:
            from rich.padding import Padding

            found = self.console.render_lines(
                Padding(cell, self.pads[i]), self.options.update(width=self.full[i]), style=style
            )
            if style is None:
                self.wraps[key] = found
        return found

    def emit(self, out: list[Segment], cells: list[list[list[Segment]]], divider: Segment, style: Style | None, *,
             bottom: bool) -> None:
        """A row's lines: each cell's lines (aligned as rich aligns them when one cell has more), then a new line."""
        from rich.segment import Segment

        height = max(len(c) for c in cells)
        lines = max(1, height)
        if any(len(c) != lines for c in cells):
            align = Segment.align_bottom if bottom else Segment.align_top
            cells = [Segment.set_shape(align(c, self.full[i], height, style), self.full[i], lines)  # type: ignore[arg-type]
                     for i, c in enumerate(cells)]
        new_line = Segment.line()
        for line_no in range(lines):
            for i, c in enumerate(cells):
                if i:
                    out.append(divider)
                out.extend(c[line_no])
            out.append(new_line)


def _rich_widths(table: Table, console: Console, options: ConsoleOptions,
                 texts: dict[str, tuple[str, Text | None, int]]) -> list[int] | None:
    """The widths rich gives the columns of a table too wide for the console (None when rich cannot say).

    rich sizes a column by two figures of its cells: the widest cell and the longest word. A table of the header
    and, per column, the cells with those has the same columns: rich sizes that one (its ``_calculate_column_widths``,
    as its own ``Table`` does before it renders)."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table as RichTable

    n = len(table.columns)
    widest: list[tuple[int, str]] = [(-1, "")] * n
    longest: list[tuple[int, str]] = [(-1, "")] * n
    for row in table.rows:
        for i, cell in enumerate(row):
            plain, _text, width = texts[cell]
            if width > widest[i][0]:
                widest[i] = (width, cell)
            words = plain.split()
            word = max(cell_len(w) for w in words) if words else width
            if word > longest[i][0]:
                longest[i] = (word, cell)
    proxy = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for h in table.columns:
        proxy.add_column(h)
    if table.rows:
        proxy.add_row(*(c for _w, c in widest))
        proxy.add_row(*(c for _w, c in longest))
    try:
        widths = proxy._calculate_column_widths(console, options.update_width(options.max_width - (n - 1)))
    except Exception:  # a private method of rich's: any change of it means rich lays the table out
        return None
    if not isinstance(widths, list) or len(widths) != n or not all(isinstance(w, int) for w in widths):
        return None
    return widths


def _text(console: Console, cell: str, cell_len: object) -> tuple[str, Text | None, int]:
    """(the cell's text, rich's Text of it when it has styles, its width in cells); width -1: rich lays it out."""
    if "[" not in cell and ":" not in cell:  # no markup and no :emoji: code: the text is the cell itself
        plain, text = cell, None
    else:
        text = console.render_str(cell, highlight=False)
        plain = text.plain
        if not text.spans and not text.style:
            text = None
    if not plain.isprintable():
        return plain, text, -1
    width = len(plain) if plain.isascii() else cell_len(plain)  # type: ignore[operator]
    return plain, text, width
