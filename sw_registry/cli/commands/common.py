"""Helpers every command shares: building the registry from common options, and the writing commands' options."""

from __future__ import annotations

from ...plain import Plain

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    import inspect
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

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

    reg = ModelRegistry(increment=increment, root=root, actor=actor, rev=rev, allow_detached=allow_detached, push=push)
    reg.plain_results = True  # a command renders to_dict(): the plain results do (no dataclasses in this process)
    return reg


def with_warnings(data: dict[str, Any], read_warnings: tuple[str, ...]) -> dict[str, Any]:
    """Add a read's warnings (``ops.reads.warned()``) to a command's data (SPEC §9: ``data.warnings``)."""
    warnings = list(dict.fromkeys([*(data.get("warnings") or []), *read_warnings]))
    if warnings:
        data["warnings"] = warnings
    return data


class WriteOptions(Plain):
    """The options every writing command takes, as one value: see ``writes``."""

    __slots__ = ("actor", "allow_detached", "push", "root", "json")  # noqa: RUF023 (field order)

    def __init__(
        self, actor: str | None = None, allow_detached: bool = False, push: bool = False, root: Path | None = None,
        json: bool = False,
    ) -> None:
        self.actor, self.allow_detached, self.push, self.root, self.json = actor, allow_detached, push, root, json

    def registry(self, *, increment: str | None = None) -> ModelRegistry:
        """The registry these options write to (``--increment`` where the command takes one)."""
        return registry(
            self.root, actor=self.actor, increment=increment, allow_detached=self.allow_detached, push=self.push
        )


class ReadOptions(Plain):
    """The options of a command that reads the registry at HEAD or at ``--rev``, as one value: see ``reads``."""

    __slots__ = ("rev", "root", "json")  # noqa: RUF023 (field order)

    def __init__(self, rev: str | None = None, root: Path | None = None, json: bool = False) -> None:
        self.rev, self.root, self.json = rev, root, json

    def registry(self) -> ModelRegistry:
        return registry(self.root, rev=self.rev)


def _options(cls: type[Plain]) -> tuple[tuple[str, str, Any], ...]:
    """The command-line options behind ``cls``'s fields (its ``__slots__``, each with its ``__init__`` default), in
    the order --help lists them: (parameter, annotation, default). Each annotation is the name of an alias in
    options.ANNOTATIONS (``allow_detached`` -> ``AllowDetachedOption``), which app.resolved() evaluates; the fast
    path never does."""
    defaults = cls.__init__.__defaults__ or ()
    return tuple(
        (name, f"{name.title().replace('_', '')}Option", default) for name, default in zip(cls.__slots__, defaults)
    )


WRITE_OPTIONS = _options(WriteOptions)
READ_OPTIONS = _options(ReadOptions)


class _Taking:
    """A command that ends with a keyword-only ``param: cls``, as Typer and the fast path call it: ``cls``'s
    options in its place, as its last options, handed to the function as one ``cls`` value. Its signature (what
    Typer reads) is worked out on first use: ``inspect`` is imported only on Typer's path."""

    def __init__(self, func: Callable[..., None], cls: type[Plain], param: str) -> None:
        self.__wrapped__ = func
        self.__name__, self.__qualname__ = func.__name__, func.__qualname__
        self.__module__, self.__doc__ = func.__module__, func.__doc__
        self._cls, self._param, self._options = cls, param, _options(cls)
        annotations = {k: v for k, v in func.__annotations__.items() if k != param}
        return_annotation = annotations.pop("return", None)
        self.__annotations__ = {**annotations, **{name: annotation for name, annotation, _ in self._options}}
        if return_annotation is not None:
            self.__annotations__["return"] = return_annotation
        self._signature: inspect.Signature | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        value = self._cls(**{name: kwargs.pop(name, default) for name, _, default in self._options})
        return self.__wrapped__(*args, **kwargs, **{self._param: value})

    @property
    def __signature__(self) -> inspect.Signature:  # what inspect.signature (and Typer) reads
        if self._signature is None:
            import inspect

            params = list(inspect.signature(self.__wrapped__).parameters.values())
            added = [
                inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=note)
                for name, note, default in self._options
            ]
            self._signature = inspect.signature(self.__wrapped__).replace(parameters=params[:-1] + added)
        return self._signature


def _taking(cls: type[Plain], param: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The decorator of commands that end with a keyword-only ``param: cls`` (see ``_Taking``)."""

    def decorate(func: Callable[..., None]) -> Callable[..., None]:
        code = func.__code__
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        if not code.co_kwonlyargcount or names[-1] != param:
            raise TypeError(f"{func.__qualname__}: this command ends with a keyword-only '{param}: {cls.__name__}'")
        return _Taking(func, cls, param)

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


def project_folder(path: Path | str | None, root: Path | None) -> Path | str | None:
    """The folder named by PATH or by ``--root``; both naming different folders is a usage error."""
    if root is None:
        return path
    from pathlib import Path

    if path is not None and Path(path) != Path(".") and Path(path).resolve() != root.resolve():
        from ...errors import RegistryError

        raise RegistryError(f"PATH {path} and --root {root} name different folders", code="usage",
                            hint="give the folder once, as PATH or as --root")
    return root
