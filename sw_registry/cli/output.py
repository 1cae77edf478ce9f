"""The output contract (SPEC §9): one JSON envelope or human output; one error funnel; exit codes.

This is the one place that knows Typer's exception types (usage errors must become the ``usage``
envelope in JSON mode); tests/cli/test_output_contract.py covers it, so a Typer upgrade breaks one test.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import RegistryError

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console

Render = Callable[["Console"], None]


def json_mode(flag: bool = False) -> bool:
    return flag or os.environ.get("SW_REGISTRY_JSON", "").lower() in ("1", "true", "yes")


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # when piped, rich would squeeze tables into 80 columns; give them room unless COLUMNS says otherwise
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 200
    return Console(stderr=stderr, highlight=False, width=width)


def _finite(value: Any) -> Any:
    """NaN and infinities (from a hand-edited file) become null: the envelope must stay valid JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


BIG = 1000  # items in one list of an envelope's data from which it is written in pieces (json_stream.py)


def in_pieces(envelope: dict[str, Any]) -> bool:
    """Whether ``envelope`` is written in pieces: its ``data`` is a dict with a list of ``BIG`` items or more (and
    the keys of both are strings, which the pieces spell as ``json.dumps`` does)."""
    data = envelope.get("data")
    return (
        isinstance(data, dict)
        and any(isinstance(v, list) and len(v) >= BIG for v in data.values())
        and all(isinstance(k, str) for k in (*envelope, *data))
    )


def write_json(envelope: dict[str, Any]) -> None:
    memo = sys.modules.get(f"{__package__.rpartition('.')[0]}.store.readcache")  # imported by a read only
    if in_pieces(envelope) and (memo is None or not memo.keeps_output()):  # a read memo keeps the whole text
        from .json_stream import write_pieces

        write_pieces(envelope, _finite)
        return
    try:
        text = json.dumps(envelope, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(envelope), ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    if memo is not None:
        memo.record(envelope, text + "\n")  # kept when this is a read the memo let through (store/readcache.py)


def emit(json_flag: bool, data: dict[str, Any], render: Render) -> None:
    """Print a command's result: the data envelope in JSON mode, else the human rendering."""
    if json_mode(json_flag):
        write_json({"ok": True, "data": data})
        return
    out = console()
    render(out)
    warnings = data.get("warnings") or []
    if warnings:
        err = console(stderr=True)
        for w in warnings:
            err.print(f"[yellow]warning:[/yellow] {w}", markup=True)


def show_error(err: RegistryError, as_json: bool) -> int:
    if as_json:
        write_json({"ok": False, "error": err.to_dict()})
    else:
        out = console(stderr=True)
        out.print(f"[bold red]error[/bold red] ({err.code}): ", end="", markup=True)
        out.print(err.message, markup=False)
        if err.hint:
            out.print("[dim]hint:[/dim] ", end="", markup=True)
            out.print(err.hint, markup=False)
    return err.exit_code


def _debug_log(exc: BaseException) -> Path:
    import tempfile
    import traceback
    from datetime import datetime, timezone

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sw-registry"
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / "debug.log"
        fh = open(path, "a", encoding="utf-8")
    except OSError:
        fd, name = tempfile.mkstemp(prefix="sw-registry-debug-", suffix=".log")
        path, fh = Path(name), os.fdopen(fd, "w", encoding="utf-8")
    with fh:
        fh.write(f"--- {datetime.now(timezone.utc).isoformat()} sw-registry {' '.join(sys.argv[1:])}\n")
        fh.write("".join(traceback.format_exception(exc)))
    return path


def run(argv: Sequence[str], invoke: Callable[[list[str]], Any]) -> int:
    """The one error funnel: RegistryError -> its exit code; Typer usage errors -> 2; bugs -> 70."""
    args = list(argv)
    as_json = json_mode("--json" in args)
    try:
        _check_environment()
        rv = invoke(args)
        return rv if isinstance(rv, int) else 0
    except RegistryError as err:
        return show_error(err, as_json)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return closed_pipe()
    except ValueError as exc:
        if "null byte" not in str(exc) or not any("\0" in a for a in args):
            return _bug(exc, as_json)
        # a real argv cannot hold a NUL; an in-process caller can, and a path or value with one is a wrong command
        nul = RegistryError("an argument contains a NUL byte", hint="remove the NUL character", code="usage")
        return show_error(nul, as_json)
    except Exception as exc:  # Typer's usage errors, else the bug path: log, say so, exit 70
        typer = sys.modules.get("typer")  # the fast path never imports Typer, so it raised none of its errors
        if typer is not None and isinstance(exc, typer.TyperException):  # click's usage errors, vendored by Typer
            return _usage_error(exc, as_json)
        if typer is not None and isinstance(exc, typer.Abort):
            return 130
        return _bug(exc, as_json)


def closed_pipe() -> int:
    """Whoever read stdout stopped (``| head``): exit 1, and point stdout at /dev/null so that the flush at exit
    does not fail again and print Python's "Exception ignored" on stderr."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError, AttributeError):
        pass  # an in-process caller's stream: nothing to redirect
    return 1


def _check_environment() -> None:
    """SW_REGISTRY_WATCHER is read only by a read that may start a watcher (store/watch_start.py); a bad value is
    refused by every command, not only by the ones that reach it, so it is never silently ignored."""
    if os.environ.get("SW_REGISTRY_WATCHER", "").strip():
        from ..store.watch_start import mode

        try:
            mode()
        except ValueError as exc:
            raise RegistryError(str(exc), hint="set SW_REGISTRY_WATCHER to auto, on or off, or unset it",
                                code="usage") from None


def _bug(exc: BaseException, as_json: bool) -> int:
    """The bug path: log the traceback, say where, exit 70."""
    path = _debug_log(exc)
    bug = RegistryError(
        f"internal error: {type(exc).__name__}: {exc}. This is a bug in sw-registry; the traceback is in {path}",
        hint="please report it with that file",
        details={"debug_log": str(path)},
    )
    return show_error(bug, as_json)


def _usage_error(exc: Any, as_json: bool) -> int:
    code = int(getattr(exc, "exit_code", 2) or 2)
    if as_json:
        hint = "run the command with --help to see its usage"
        write_json({"ok": False, "error": {"code": "usage", "message": exc.format_message(), "hint": hint}})
        return 2
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:
        print(f"error: {exc.format_message()}", file=sys.stderr)
    return code
