"""A big JSON envelope written in pieces (SPEC §9), so that its text is never held whole.

``json.dumps`` builds the whole text, ``+ "\n"`` copies it, and the stream encodes the copy to UTF-8: three copies
of the output at once. For ``registry-audit --json`` at 10,002 versions (3.1 MB of output) that was 9 MB of the
command's 44 MB peak. An envelope whose ``data`` holds a list of ``output.BIG`` items or more is written here
instead (``output.in_pieces``): each item of such a list is encoded alone with the same encoder, and the pieces
are written as they add up to ``CHUNK`` characters. The text is byte for byte what ``json.dumps`` writes (same
separators, ``default=str``, non-finite numbers written as null by the same rule, item by item;
tests/cli/test_json_stream.py compares them).
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

CHUNK = 1 << 16  # characters handed to the stream at a time


def write_pieces(envelope: dict[str, Any], finite: Callable[[Any], Any]) -> None:
    """Write ``envelope`` (``output.in_pieces``) and a line break to stdout, as ``json.dumps`` would encode it;
    where a piece holds a number JSON cannot spell, that piece is encoded after ``finite`` (the whole text's rule)."""
    encoder = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)

    def encode(value: Any) -> str:
        try:
            return encoder.encode(value)
        except ValueError:
            return encoder.encode(finite(value))

    out: list[str] = []
    size = 0
    for piece in _pieces(envelope, encode):
        out.append(piece)
        size += len(piece)
        if size >= CHUNK:
            sys.stdout.write("".join(out))
            out, size = [], 0
    out.append("\n")
    sys.stdout.write("".join(out))
    sys.stdout.flush()


def _pieces(envelope: dict[str, Any], encode: Callable[[Any], str]) -> Iterator[str]:
    yield "{"
    for n, (key, value) in enumerate(envelope.items()):
        yield f"{', ' if n else ''}{encode(key)}: "
        if key == "data" and isinstance(value, dict):
            yield "{"
            for m, (name, part) in enumerate(value.items()):
                yield f"{', ' if m else ''}{encode(name)}: "
                if isinstance(part, list) and part:
                    yield "["
                    for i, item in enumerate(part):
                        yield f", {encode(item)}" if i else encode(item)
                    yield "]"
                else:
                    yield encode(part)
            yield "}"
        else:
            yield encode(value)
    yield "}"
