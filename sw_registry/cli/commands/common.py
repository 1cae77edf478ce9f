"""Helpers every command shares: building the registry from common options, and the writing commands' options."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...registry import ModelRegistry


def registry(
    root: Path | None,
    *,
    actor: str | None = None,
    rev: str | None = None,
    increment: str | None = None,
    allow_detached: bool = False,
    push: bool = False,
) -> ModelRegistry:
    from ...registry import ModelRegistry

    return ModelRegistry(increment=increment, root=root, actor=actor, rev=rev, allow_detached=allow_detached, push=push)


def with_warnings(data: dict[str, Any], read_warnings: tuple[str, ...]) -> dict[str, Any]:
    """Add a read's warnings (``ops.reads.warned()``) to a command's data (SPEC §9: ``data.warnings``)."""
    warnings = list(dict.fromkeys([*(data.get("warnings") or []), *read_warnings]))
    if warnings:
        data["warnings"] = warnings
    return data


@dataclass(frozen=True)
class WriteOptions:
    """The options every writing command takes, as one value: see ``writes``."""

    actor: str | None = None
    allow_detached: bool = False
    push: bool = False
    root: Path | None = None
    json: bool = False

    def registry(self, *, increment: str | None = None) -> ModelRegistry:
        """The registry these options write to (``--increment`` where the command takes one)."""
        return registry(
            self.root, actor=self.actor, increment=increment, allow_detached=self.allow_detached, push=self.push
        )


# The command-line options behind WriteOptions, in the order --help lists them: (parameter, annotation, default).
# The annotations are names of options.ANNOTATIONS (app.resolved() evaluates them there; the fast path never does).
WRITE_OPTIONS: tuple[tuple[str, str, Any], ...] = (
    ("actor", "ActorOption", None),
    ("allow_detached", "AllowDetachedOption", False),
    ("push", "PushOption", False),
    ("root", "RootOption", None),
    ("json", "JsonOption", False),
)


def writes(func: Callable[..., None]) -> Callable[..., None]:
    """A writing command: ``func`` ends with a keyword-only ``w: WriteOptions``; the command Typer and the fast
    path (fastpath.py) call takes WRITE_OPTIONS (--actor, --allow-detached, --push, --root, --json) in its place,
    as its last options, and hands them to ``func`` as ``w``. ``func`` itself is not changed."""
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if not params or params[-1].name != "w" or params[-1].kind is not inspect.Parameter.KEYWORD_ONLY:
        raise TypeError(f"{func.__qualname__}: a @writes command ends with a keyword-only 'w: WriteOptions'")
    options = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)
        for name, annotation, default in WRITE_OPTIONS
    ]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        w = WriteOptions(**{name: kwargs.pop(name, default) for name, _, default in WRITE_OPTIONS})
        return func(*args, **kwargs, w=w)

    command.__signature__ = signature.replace(parameters=params[:-1] + options)  # type: ignore[attr-defined]
    annotations = {k: v for k, v in func.__annotations__.items() if k != "w"}
    return_annotation = annotations.pop("return", None)
    command.__annotations__ = {**annotations, **{name: annotation for name, annotation, _ in WRITE_OPTIONS}}
    if return_annotation is not None:
        command.__annotations__["return"] = return_annotation
    return command


def check_format(fmt: str, *choices: str) -> str:
    """A command's ``--format`` value, refused (usage) unless it is one of ``choices``."""
    if fmt not in choices:
        from ...errors import UsageError

        said = f"{', '.join(choices[:-1])} or {choices[-1]}"
        if len(choices) == 2:  # "use --format md or --format json"
            said = f"{choices[0]} or --format {choices[1]}"
        raise UsageError(f"unknown format {fmt!r}", hint=f"use --format {said}")
    return fmt
