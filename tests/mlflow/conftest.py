"""A real MLflow tracking server on loopback for the mirror tests (SPEC §11), one per test session.

``mlflow server`` (from the ``mlflow`` package in the test extra) runs with a sqlite backend and an artifact
root in a temp folder, on a free loopback port. Its start-up takes seconds (tens of seconds on a busy
machine), so the process is launched when pytest collects this folder, and boots while the tests collected
before it run; the ``mlflow_server`` fixture waits until it answers ``/health`` and stops it at the end.

``mlflow_proxy`` puts a loopback TCP relay in front of the server: the same URL for the client throughout,
with a ``stop()`` that makes the server unreachable (connection refused, as a stopped server) and a
``start()`` that brings it back — without paying for a second server start-up.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 300  # seconds; a loaded 2-core CI machine has been seen to need over 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="sw-registry-mlflow-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = time.monotonic()
        self.ready_after: float | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "SW_REGISTRY_"))}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mlflow",
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    "1",
                    "--backend-store-uri",
                    f"sqlite:///{self.folder / 'mlflow.db'}",
                    "--default-artifact-root",
                    (self.folder / "artifacts").as_uri(),
                ],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its workers form one process group, stopped together
            )
        atexit.register(self.stop)

    def wait(self) -> str:
        assert self.proc is not None
        # the server starts when pytest collects this folder and boots while earlier tests run: a suite slower
        # than STARTUP_TIMEOUT must still get its answer, so the wait always gets a grace period of its own
        deadline = max(self.started + STARTUP_TIMEOUT, time.monotonic() + 60)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                if resp.status == 200:
                    self.ready_after = self.ready_after or time.monotonic() - self.started
                    return self.url
            time.sleep(0.2)
        pytest.fail(f"mlflow server did not answer within {STARTUP_TIMEOUT}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _launch() -> MlflowServer | None:
    from importlib import metadata

    try:
        metadata.version("mlflow")  # the full package (it provides `mlflow server`); cheaper than importing it
    except metadata.PackageNotFoundError:
        return None
    server = MlflowServer()
    server.start()
    return server


_SERVER = _launch()  # at collection: the server boots while earlier tests run


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[str]:
    """The tracking server's URL, once it answers."""
    if _SERVER is None:
        pytest.fail(
            "the MLflow tests need the 'mlflow' package (it provides 'mlflow server'): pip install -e '.[test]'"
        )
    yield _SERVER.wait()
    _SERVER.stop()


class _Relay(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Proxy:
    """A loopback TCP relay to the server: ``stop()`` refuses connections, ``start()`` relays again."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: _Relay | None = None
        self.open: set[socket.socket] = set()  # live connections: stop() cuts them, as a dying server does

    def start(self) -> None:
        target, live = self.target, self.open

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(target) as upstream:
                    live.update((upstream, self.request))
                    pump = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
                    pump.start()
                    _copy(self.request, upstream)
                    pump.join()

        self.server = _Relay(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for sock in list(self.open):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.open.clear()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@pytest.fixture
def mlflow_proxy(mlflow_server: str) -> Iterator[Proxy]:
    proxy = Proxy(int(mlflow_server.rsplit(":", 1)[1]))
    proxy.start()
    yield proxy
    proxy.stop()
