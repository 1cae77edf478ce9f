"""What runs right after a write's commit has landed (and been pushed): the post-commit hooks.

Every write method of ModelRegistry is decorated with ``@pushes`` (publish.py), which hands its result here,
so a hook needs nothing from the write path itself. Today there is one hook: the MLflow mirror (SPEC §11),
active when a tracking URI is configured. A hook never undoes or fails a write that landed: a failure comes
back as a warning in the result (``data.warnings``). This module is light: the mirror loads only when used.
"""

from __future__ import annotations

import functools
import os
from _contextvars import ContextVar  # contextvars.py only re-exports it
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R")

# (kind, id of the registry) of the writes running in this context: kept per call context, not on the registry
_ACTIVE: ContextVar[frozenset[tuple[str, int]]] = ContextVar("sw_registry_active_writes", default=frozenset())


@contextmanager
def outermost(kind: str, registry: Any) -> Iterator[bool]:
    """True in the outermost ``kind`` ("write", "publish") of ``registry`` in this context; False when one is
    already running (a write that calls another write runs its hooks and publishes once, at the end)."""
    key = (kind, id(registry))
    active = _ACTIVE.get()
    if key in active:
        yield False
        return
    token = _ACTIVE.set(active | {key})
    try:
        yield True
    finally:
        _ACTIVE.reset(token)


def after_commit(write: Callable[..., R]) -> Callable[..., R]:
    """Run the post-commit hooks once per outermost write (a write that calls another runs them once)."""

    @functools.wraps(write)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> R:
        with outermost("write", self) as first:
            result = write(self, *args, **kwargs)
        return run_hooks(self, result) if first else result

    return wrapper


ENV_URI = "SW_REGISTRY_MLFLOW_URI"  # the tracking URI writes are mirrored to (mlflow_server.configured_uri)


def mirror_configured(registry: Any) -> bool:
    """Whether an MLflow tracking URI may be configured (``configured_uri`` reads it): without one, nothing is
    mirrored and mlflow_mirror.py is not imported."""
    if getattr(registry, "mlflow_tracking_uri", None) or os.environ.get(ENV_URI):
        return True
    from .layout import POLICY_REL

    try:
        return b"mlflow_tracking_uri" in registry.layout.abs(POLICY_REL).read_bytes()  # no YAML parse
    except OSError:
        return False


def run_hooks(registry: Any, result: R) -> R:
    if not mirror_configured(registry):
        return result
    from .mlflow_mirror import mirror_after_write

    mirrored: R = mirror_after_write(registry, result)
    return mirrored
