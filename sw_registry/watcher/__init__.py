"""A file watcher that lets the read memo skip its stat of every metadata.json (issue 10).

By default a memoised read (store/readcache.py) checks the stat of every version file its answer rests on: exact
for any hand edit, and a cost that grows with the registry (~10,000 stats at 10,000 versions). A running watcher
answers the same question from inotify events instead, the way git's ``core.fsmonitor`` spares ``git status`` its
lstat of every file:

    python -m sw_registry.watcher start [--root PATH] [--idle-timeout SECONDS] [--json]
    python -m sw_registry.watcher status [--root PATH] [--json]
    python -m sw_registry.watcher stop [--root PATH] [--json]
    python -m sw_registry.watcher run [--root PATH] [--idle-timeout SECONDS] [--json]   # in the foreground

``start`` leaves a watcher running in the background (its log: ``.specweave/cache/sw-registry/watcher.log``) and
returns once it answers; it stops after ``--idle-timeout`` seconds without a read (default 8 hours; 0: never).
A read of a big registry starts one by itself (``run --auto``; store/watch_start.py and ``SW_REGISTRY_WATCHER``).
Linux only (inotify). It cannot vouch for folders on a file system other machines may change (tree.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from ..errors import RegistryError

IDLE_DEFAULT = 8 * 3600.0
START_WAIT = 60.0  # seconds ``start`` waits for the first answer (the first scan of a big registry)


def project(root: str | None) -> str:
    from ..store.memo_token import find_root

    found = find_root(root)
    if found is None or not os.path.isdir(f"{found}/.specweave/increments"):
        raise RegistryError(
            f"no registry to watch at {found or root}: no .specweave/increments folder",
            hint="run it inside a SpecWeave project, or pass --root", code="not_found",
        )
    return found


def current(root: str) -> dict[str, object] | None:
    import json

    from ..store.watch_client import ask

    reply = ask(root, b"status\n", limit=1 << 20)
    try:
        return json.loads(reply) if reply else None
    except ValueError:
        return None


def run(root: str, idle: float, auto: bool = False) -> str:
    """The watcher in this process, until it stops: why it stopped. One started by a read (``auto``,
    store/watch_start.py) that cannot vouch for the registry's files from the start stops at once, and holds off the
    next automatic start for a day: a read would gain nothing from it."""
    from .inotify import Unavailable
    from .server import listen, serve
    from .tree import Tree

    os.chdir(root)  # not the folder it was started from, which it would keep busy (an unmount, a removal)
    try:
        sock = listen(root)
    except OSError as exc:
        raise RegistryError(f"a watcher of {root} is already running ({exc.strerror})", code="already_exists",
                            hint="python -m sw_registry.watcher status") from None
    try:
        tree = Tree(root)
    except Unavailable as exc:
        sock.close()
        raise RegistryError(str(exc), hint="the watcher needs Linux inotify; reads check every file without it",
                            code="config_error") from None
    if auto and tree.reason is not None:
        from ..store.watch_start import DECLINED, hold_off

        sock.close()
        tree.close()
        try:
            hold_off(root, DECLINED)
        except OSError:
            pass
        return f"started by a read, it cannot vouch for the registry's files: {tree.reason}"
    return serve(root, sock, tree, idle, auto)


def start(root: str, idle: float | None) -> dict[str, object]:
    found = current(root)
    if found is not None:
        if idle is not None and found.get("idle_timeout") != idle:
            raise RegistryError(
                f"a watcher of {root} already runs with --idle-timeout {found.get('idle_timeout')}, not {idle:g}",
                hint="python -m sw_registry.watcher stop, then start it again with the new timeout",
                code="already_exists", details={"pid": found.get("pid")},
            )
        return {**found, "running": True, "started": False}
    idle = IDLE_DEFAULT if idle is None else idle
    log_path = f"{root}/.specweave/cache/sw-registry/watcher.log"
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "sw_registry.watcher", "run", "--root", root, "--idle-timeout", str(idle), "--json"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True, cwd=root,
        )
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        found = current(root)
        if found is not None:  # ours, or one a concurrent start made first (ours then stops: already running)
            return {**found, "running": True, "started": found.get("pid") == child.pid}
        if child.poll() is not None:
            break
        time.sleep(0.02)
    else:
        child.kill()
    child.wait()
    raise RegistryError(f"the watcher did not start: {_last_error(log_path)}", hint=f"its log: {log_path}",
                        code="config_error")


def _last_error(log_path: str) -> str:
    """The message of the last error envelope the watcher wrote to its log (``run --json``)."""
    import json

    with open(log_path, "rb") as log:
        lines = log.read()[-8000:].decode("utf-8", "replace").strip().splitlines()
    for line in reversed(lines):
        try:
            return str(json.loads(line)["error"]["message"])
        except (ValueError, KeyError, TypeError):
            continue
    return lines[-1] if lines else "no output"


def _app() -> Any:
    """The four commands as a Typer app, with the rest of the CLI's error funnel (cli/output.py)."""
    import typer

    from ..cli.output import emit

    app = typer.Typer(add_completion=False, no_args_is_help=True, help=(__doc__ or "").split("\n")[0],
                      rich_markup_mode=None, pretty_exceptions_enable=False,  # as cli/app.py: plain help text
                      context_settings={"help_option_names": ["-h", "--help"]})
    root_opt = typer.Option(None, "--root", help="the project folder (default: found from the current folder)")
    idle_opt = typer.Option(None, "--idle-timeout", min=0.0, help="stop after this many seconds without a read "
                            "(default 8 hours; 0: never)")
    json_opt = typer.Option(False, "--json", help="print the JSON envelope")

    def show(command: str, as_json: bool, data: dict[str, Any]) -> None:
        emit(as_json, data, lambda out: out.print(_human(command, data), markup=False, highlight=False))

    @app.command("start", help="Start a watcher in the background; return once it answers.")
    def start_cmd(root: str | None = root_opt, idle_timeout: float | None = idle_opt,
                  json: bool = json_opt) -> None:
        show("start", json, start(project(root), _finite(idle_timeout)))

    @app.command("run", help="Run the watcher in this process until it stops.")
    def run_cmd(root: str | None = root_opt, idle_timeout: float | None = idle_opt, json: bool = json_opt,
                auto: bool = typer.Option(False, "--auto", help="as a read starts it (SW_REGISTRY_WATCHER): stop "
                                          "at once when it cannot vouch for the registry's files")) -> None:
        found = project(root)
        idle = _finite(idle_timeout)
        why = run(found, IDLE_DEFAULT if idle is None else idle, auto)
        show("run", json, {"root": found, "running": False, "stopped": why})

    @app.command("status", help="Say whether a watcher runs, and what it watches.")
    def status_cmd(root: str | None = root_opt, json: bool = json_opt) -> None:
        found = project(root)
        running = current(found)
        show("status", json, {**(running or {"root": found}), "running": running is not None})

    @app.command("stop", help="Stop the watcher.")
    def stop_cmd(root: str | None = root_opt, json: bool = json_opt) -> None:
        from ..store.watch_client import ask

        found = project(root)
        show("stop", json, {"root": found, "running": False,
                            "stopped": ask(found, b"stop\n", limit=1 << 20) is not None})

    return app


def _finite(idle: float | None) -> float | None:
    if idle is not None and not 0 <= idle < float("inf"):  # click's range lets inf and nan through
        raise RegistryError("--idle-timeout must be a finite number of seconds", code="usage",
                            hint="pass --idle-timeout 0 for a watcher that never stops on its own")
    return idle


def _human(command: str, data: dict[str, object]) -> str:
    if command == "run":
        return f"sw-registry watcher of {data['root']} stopped: {data['stopped']}"
    if command == "stop":
        return f"stopped the watcher of {data['root']}" if data["stopped"] else f"no watcher of {data['root']} runs"
    if not data.get("running"):
        return f"no watcher of {data['root']} runs"
    usable = "vouches for the registry's files" if data.get("usable") else f"cannot vouch: {data.get('reason')}"
    verb = "started" if data.get("started") else "running"
    if data.get("started_by") == "a read":
        verb += ", started by a read"
    return f"watcher of {data['root']} {verb} (pid {data['pid']}, {data['folders']} folders): {usable}"


def main(argv: list[str] | None = None) -> int:
    import typer

    from ..cli.output import run as funnel

    command = typer.main.get_command(_app())

    def invoke(args: list[str]) -> Any:
        return command.main(args=args, prog_name="python -m sw_registry.watcher", standalone_mode=False)

    return funnel(sys.argv[1:] if argv is None else argv, invoke)
