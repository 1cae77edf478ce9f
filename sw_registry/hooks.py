"""What runs right after a write's commit has landed (and been pushed): the post-commit hooks.

Every write method of ModelRegistry is decorated with ``@pushes`` (publish.py), which hands its result here,
so a hook needs nothing from the write path itself. Today there is one hook: the MLflow mirror (SPEC §11),
active when a tracking URI is configured. A hook never undoes or fails a write that landed: a failure comes
back as a warning in the result (``data.warnings``). This module is light: the mirror loads only when used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")


def after_commit(write: Callable[..., R]) -> Callable[..., R]:
    """Run the post-commit hooks once per outermost write (a write that calls another runs them once)."""

    @functools.wraps(write)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> R:
        if getattr(self, "_in_write", False):
            return write(self, *args, **kwargs)
        self._in_write = True
        try:
            result = write(self, *args, **kwargs)
        finally:
            self._in_write = False
        return run_hooks(self, result)

    return wrapper


def run_hooks(registry: Any, result: R) -> R:
    from .mlflow_mirror import mirror_after_write

    mirrored: R = mirror_after_write(registry, result)
    return mirrored
