"""Run a command without importing Typer, when its command line is plain.

Importing Typer and building a command costs 50–70 ms on this machine: a third of the budget of
``registry-list``. Every command's parameters are exported from the Typer app into fast_spec.py
(``python -m sw_registry.cli.reference --write``; a test fails when it is stale), one line per command in
the compact form ``spec()`` expands (see its docstring). This parser accepts
only the plain forms (``--opt value``, ``--opt=value``, flags, positional arguments) and gives up on
anything else: ``--help``, unknown or repeated options, a missing value or argument, a value that
looks like an option, ``--``. Then Typer parses the line and owns every message and exit code.
tests/cli/test_fastpath.py checks that both parsers pass the command the same arguments.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


_CONVERT: dict[str, Callable[[str], Any]] = {"str": str, "path": str, "int": int}  # Typer's type names


def spec(command: str) -> dict[str, Any] | None:
    """The parameters of ``command`` from its fast_spec.py line, or None for a command not in the table.

    A line is ``(module, function, arguments, options)``. An argument is ``name:type`` and an option
    ``[name=]--opt[/--off][:type]``, each followed by ``*`` when repeatable and ``!`` when required; an option
    without ``:type`` is a flag, and its parameter is named after ``--opt`` unless ``name=`` says otherwise.
    reference.py writes the lines and refuses a parameter this form cannot say (tests/cli/test_fastpath.py).
    """
    from .fast_spec import COMMANDS

    entry = COMMANDS.get(command)
    if entry is None:
        return None
    module, func, arguments, options = entry
    return {
        "module": module,
        "func": func,
        "arguments": [_param(token, option=False) for token in arguments],
        "options": [_param(token, option=True) for token in options],
    }


def _param(token: str, *, option: bool) -> dict[str, Any]:
    """One parameter of a fast_spec.py line, as a dict (the keys ``parse()`` reads)."""
    required, multiple = token.endswith("!"), token.rstrip("!").endswith("*")
    head, colon, kind = token.rstrip("!*").partition(":")
    if not option:
        return {"name": head, "type": kind, "required": required}
    name, _, opts = head.rpartition("=")
    on, _, off = opts.partition("/")
    return {
        "name": name or on.lstrip("-").replace("-", "_"),
        "opts": [on],
        "off": [off] if off else [],
        "flag": not colon,
        "multiple": multiple,
        "type": kind or "boolean",
        "required": required,
    }


def parse(spec: dict[str, Any], args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments Typer would pass for ``args``, or None when only Typer should decide."""
    kwargs = _parse(spec, args)
    return None if kwargs is None else _paths(spec, kwargs)


def _paths(spec: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Path parameters as Typer passes them: pathlib is imported only here, after the read memo had its say."""
    from pathlib import Path

    for param in spec["options"] + spec["arguments"]:
        value = kwargs.get(param["name"])
        if param["type"] == "path" and value is not None:
            kwargs[param["name"]] = [Path(v) for v in value] if isinstance(value, list) else Path(value)
    return kwargs


def _parse(spec: dict[str, Any], args: list[str]) -> dict[str, Any] | None:
    """parse() with path parameters left as strings."""
    by_opt: dict[str, dict[str, Any]] = {}
    for param in spec["options"]:
        for opt in param["opts"]:
            by_opt[opt] = param
        for opt in param["off"]:
            by_opt[opt] = param
    kwargs: dict[str, Any] = {}
    positional: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        param = by_opt.get(name)
        if param is None or (param["name"] in seen and not param["multiple"]):
            return None
        seen.add(param["name"])
        if param["flag"]:
            if eq:
                return None
            kwargs[param["name"]] = name in param["opts"]
            continue
        if eq:
            value = inline
        elif i < len(args) and not args[i].startswith("-"):
            value = args[i]
            i += 1
        else:
            return None
        try:
            converted = _CONVERT[param["type"]](value)
        except (KeyError, ValueError):
            return None
        if param["multiple"]:
            kwargs.setdefault(param["name"], []).append(converted)
        else:
            kwargs[param["name"]] = converted
    arguments = spec["arguments"]
    if len(positional) > len(arguments):
        return None
    for param, value in zip(arguments, positional):
        try:
            kwargs[param["name"]] = _CONVERT[param["type"]](value)
        except (KeyError, ValueError):
            return None
    missing = [p for p in arguments[len(positional) :] if p["required"]]
    if missing or any(p["required"] and p["name"] not in kwargs for p in spec["options"]):
        return None
    return kwargs


def run(args: list[str]) -> int | None:
    """Run ``args`` through the fast path; None when Typer has to handle them."""
    params = spec(args[0]) if args else None
    if params is None:
        return None
    kwargs = _parse(params, args[1:])
    if kwargs is None:
        return None
    from .fast_spec import MEMO

    if args[0] in MEMO:  # a read the memo may answer; a write does not import store/readcache.py
        from ..store import readcache

        try:
            if readcache.serve(args[0], kwargs):
                return 0
        except BrokenPipeError:  # the memo's answer met a closed stdout: as the funnel reports it
            from .output import closed_pipe

            return closed_pipe()
    kwargs = _paths(params, kwargs)
    # __import__, not importlib.import_module: importing the importlib package loads warnings.py too
    func = getattr(__import__(f"{__package__}.commands.{params['module']}", fromlist=["_"]), params["func"])
    from .output import run as funnel

    try:
        return funnel(args, lambda _args: func(**kwargs))
    finally:
        memo = sys.modules.get(f"{__package__.rpartition('.')[0]}.store.readcache")
        if memo is not None:
            memo.forget()  # in-process callers (tests, the API) run many commands: nothing carries over
