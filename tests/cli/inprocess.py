"""Run the CLI's entry point in-process: the same code ``python -m sw_registry`` runs, without paying for a
new interpreter (~0.3 s) on every call. Tests use it for long tables of cases; each module keeps real
subprocess runs for the end-to-end checks (exit status of the process, nothing printed at exit)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from tests.conftest import Result


def run_main(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """sw_registry.cli.entry.main(args), what the console script runs, in ``cwd`` with output captured.

    ``env`` is added to the environment for the call."""
    from sw_registry.cli.entry import main

    out, err = io.StringIO(), io.StringIO()
    old_cwd, old_env = os.getcwd(), {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(old_cwd)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Result(code, out.getvalue(), err.getvalue())
