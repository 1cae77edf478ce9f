"""The console script's entry point: ``sw-registry --help`` without importing Typer.

Importing Typer costs about as much as starting Python itself, and ``--help`` has a 120 ms budget.
The top-level help text is generated from the Typer app into help_text.py
(``python -m sw_registry.cli.reference --write``); tests/cli/test_docs.py fails when it differs from
what Typer prints, so it cannot drift. Plain command lines run through fastpath.py, the rest through Typer.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's own flag costs an import of typing (mypy reads this name the same way)
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line. The cyclic garbage collector is paused meanwhile (issue 10): a command imports 60-120
    modules and builds a short-lived process's worth of objects, which hold no cycles worth finding; its passes cost
    2-3 ms of every command. Objects are freed by their reference counts as before; an in-process caller gets the
    collector back as it was."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    finally:
        if was_enabled:
            gc.enable()


def script() -> None:
    """The console script (and ``python -m sw_registry``): ``main()``, then the process ends without tearing the
    interpreter down (issue 10). Python's own exit frees every object a command built, module by module, and that
    cost 20-35 ms of a write here (a fifth of it), for memory the kernel takes back at once anyway.

    What a normal exit would still do is done first: threads that are not daemons are waited for (if there are any,
    the normal exit runs instead), ``atexit`` functions run (coverage's, an extension's), and stdout and stderr are
    flushed; a flush that fails (a closed pipe) leaves the exit to Python, which reports it as it always has. Files
    are closed by the code that opens them (``with``), never left to the collector."""
    code = main()
    _exit_now(code)
    raise SystemExit(code)


def _exit_now(code: int) -> None:
    """End the process with ``code`` now, as a normal exit would end it, or return when that is not safe."""
    threading = sys.modules.get("threading")
    if threading is not None:
        current = threading.current_thread()
        if any(t is not current and not t.daemon and t.is_alive() for t in threading.enumerate()):
            return
    import atexit

    atexit._run_exitfuncs()  # what Python's exit runs first; they are unregistered as they run
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code & 0xFF if isinstance(code, int) else 1)


def _main(args: list[str]) -> int:
    if args == ["--help"] and _wide_enough():
        from .help_text import TOP_HELP

        sys.stdout.write(TOP_HELP)
        return 0
    from .lean_pathlib import install

    install()  # before anything imports pathlib
    from .fastpath import run

    code = run(args)
    if code is not None:
        return code
    from .app import main as typer_main

    return typer_main(args)


def _wide_enough() -> bool:
    """Click wraps help at min(terminal width, 80): the stored text is the 80-column rendering."""
    columns = os.environ.get("COLUMNS")
    if columns is not None:
        return columns.isdigit() and int(columns) >= 80
    if not sys.stdout.isatty():
        return True
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns >= 80
    except OSError:
        return True
