"""Put back what a failed write changed (``Transaction.rollback``; imported only then)."""

from __future__ import annotations

import contextlib
import os
import shutil

from ..layout import Layout
from .files import atomic_write


def undo(layout: Layout, new_dirs: list[str], originals: dict[str, bytes | int | None]) -> None:
    """Remove the folders the write created, and put every file it changed back: a new one removed, one appended
    to cut back to its length before (``int``), any other rewritten with its original bytes."""
    for rel in reversed(new_dirs):
        shutil.rmtree(layout.abs(rel), ignore_errors=True)
    for rel, original in originals.items():
        path = layout.abs(rel)
        if isinstance(original, bytes):
            atomic_write(path, original)
            continue
        with contextlib.suppress(FileNotFoundError):
            if original is None:
                os.unlink(path)
            else:
                os.truncate(path, original)
