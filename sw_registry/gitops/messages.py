"""Commit messages: a subject, a body, and ``Registry-*`` trailers that user text cannot forge."""

from __future__ import annotations

import re

_CONTROLS = dict.fromkeys((*range(0x20), 0x7F), " ")  # str.translate: no regex compiled for a write


def one_line(text: str | None, limit: int = 500) -> str | None:
    """User text made safe for a subject or trailer: one line, no control characters."""
    if text is None:
        return None
    cleaned = " ".join(str(text).translate(_CONTROLS).split())
    return cleaned[:limit]


def body_line(text: str) -> str:
    """The reason as the message body: one line that cannot pass for a trailer (SPEC §8: no line the tool did
    not write starts with ``Registry-``, in any case)."""
    line = one_line(text) or ""
    if re.match(r"(?i)registry-", line):
        line = "Reason: " + line
    return line


def commit_message(subject: str, trailers: dict[str, str | None], body: str | None = None) -> str:
    """A subject, an optional body, and ``Registry-*`` trailers that user text cannot forge.

    Values are single-lined, so a reason cannot start a new trailer line; the body is single-lined
    too and kept apart from the trailer block by a blank line.
    """
    lines = [one_line(subject) or "registry: change", ""]
    if body:
        lines += [body_line(body), ""]
    for key, value in trailers.items():
        if value is None:
            continue
        lines.append(f"Registry-{key}: {one_line(value)}")
    return "\n".join(lines) + "\n"
