"""A real S3-compatible server process on loopback (moto's server mode), for the object-store tests.

``S3Server.start()`` runs ``python -m moto.server`` on a free 127.0.0.1 port and waits until it answers;
``stop()`` ends that process. Its recorder (``/moto-api/recorder/…``) logs every request the server received,
which is how a test sees from the server's side whether an upload happened.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class S3Server:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.recording = workdir / "moto_recording"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        env = {**os.environ, **CREDENTIALS, "MOTO_RECORDER_FILEPATH": str(self.recording)}
        self.log = open(self.workdir / "moto.log", "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = (self.workdir / "moto.log").read_text()
                    raise RuntimeError(f"moto server did not start: {log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_bucket(self) -> str:
        name = f"models-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> dict[str, dict[str, Any]]:
        out = self.client().list_objects_v2(Bucket=bucket).get("Contents", [])
        return {o["Key"]: o for o in out}

    # -- the server's own request log --------------------------------------------------
    def _api(self, action: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/recorder/{action}", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def start_recording(self) -> None:
        self._api("reset-recording")
        self._api("start-recording")

    def stop_recording(self) -> list[dict[str, Any]]:
        """The requests the server received since ``start_recording``: [{method, url}]."""
        self._api("stop-recording")
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/download-recording", timeout=10) as resp:
            text = resp.read().decode()
        return [{"method": r["method"], "url": r["url"]} for r in map(json.loads, filter(None, text.splitlines()))]
