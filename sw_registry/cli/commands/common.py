"""Helpers every command shares: building the registry from common options, and the writing commands' options."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
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


@dataclass(frozen=True)
class ReadOptions:
    """The options of a command that reads the registry at HEAD or at ``--rev``, as one value: see ``reads``."""

    rev: str | None = None
    root: Path | None = None
    json: bool = False

    def registry(self) -> ModelRegistry:
        return registry(self.root, rev=self.rev)


def _options(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """The command-line options behind ``cls``'s fields, in the order --help lists them: (parameter, annotation,
    default). Each annotation is the name of an alias in options.ANNOTATIONS (``allow_detached`` ->
    ``AllowDetachedOption``), which app.resolved() evaluates; the fast path never does."""
    return tuple((f.name, f"{f.name.title().replace('_', '')}Option", f.default) for f in fields(cls))


WRITE_OPTIONS = _options(WriteOptions)
READ_OPTIONS = _options(ReadOptions)


def _taking(cls: type, param: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The decorator of commands that end with a keyword-only ``param: cls``: the command Typer and the fast path
    (fastpath.py) call takes ``cls``'s options in its place, as its last options, and hands them to the function
    as one ``cls`` value. The function itself is not changed."""
    options = _options(cls)

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(func)
        params = list(signature.parameters.values())
        if not params or params[-1].name != param or params[-1].kind is not inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"{func.__qualname__}: this command ends with a keyword-only '{param}: {cls.__name__}'")
        added = [
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)
            for name, annotation, default in options
        ]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> None:
            value = cls(**{name: kwargs.pop(name, default) for name, _, default in options})
            return func(*args, **kwargs, **{param: value})

        command.__signature__ = signature.replace(parameters=params[:-1] + added)  # type: ignore[attr-defined]
        annotations = {k: v for k, v in func.__annotations__.items() if k != param}
        return_annotation = annotations.pop("return", None)
        command.__annotations__ = {**annotations, **{name: annotation for name, annotation, _ in options}}
        if return_annotation is not None:
            command.__annotations__["return"] = return_annotation
        return command

    return decorate


writes = _taking(WriteOptions, "w")  # a writing command: --actor --allow-detached --push --root --json as ``w``
reads = _taking(ReadOptions, "read")  # a reading command: --rev --root --json as ``read``


def check_format(fmt: str, *choices: str) -> str:
    """A command's ``--format`` value, refused (usage) unless it is one of ``choices``."""
    if fmt not in choices:
        from ...errors import UsageError

        said = f"{', '.join(choices[:-1])} or {choices[-1]}"
        if len(choices) == 2:  # "use --format md or --format json"
            said = f"{choices[0]} or --format {choices[1]}"
        raise UsageError(f"unknown format {fmt!r}", hint=f"use --format {said}")
    return fmt
