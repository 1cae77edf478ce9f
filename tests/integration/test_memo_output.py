"""A read answered from the memo prints the kept bytes (store/memo_file.py: sendfile from the memo file, or a
write where stdout does not take it) to whatever stdout is: a pipe, a file, a file opened to append (which
sendfile refuses), a stream of another encoding, a pipe closed early. Real CLI processes; each hit is checked to
be one (the memo entry's output is replaced by a marker first), and its bytes against the command's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from sw_registry.store import memo_file

NAME = "m"
READ = [sys.executable, "-m", "sw_registry", "registry-info", NAME, "--json"]


@pytest.fixture
def kept(project: Path, make_artifact: Callable[..., Path]) -> tuple[Path, bytes]:
    """A registry with a model whose info is ~130 KB (more than a pipe holds), its memo entry, and the bytes the
    command itself prints; the entry's output is then replaced by a marker of the same shape and size class."""
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"one")), version="1.0.0",
                       metrics={f"metric_{i}": i / 7 for i in range(4000)})
    time.sleep(0.06)
    first = subprocess.run(READ, cwd=project, capture_output=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert len(first.stdout) > 100_000
    (memo,) = (project / ".specweave/cache/sw-registry/reads").glob("*info*")
    entry = memo_file.read_entry(str(memo))
    assert entry is not None and entry[2] == first.stdout
    marker = json.dumps({"ok": True, "data": {"from": "the memo", "pad": "é" * 100_000}}).encode() + b"\n"
    key, tok, _text, check, files, watch = entry
    memo.write_bytes(memo_file.dump(key, tok, check, watch, marker, files))
    return project, marker


def test_a_hit_to_a_pipe_and_to_a_file(kept: tuple[Path, bytes], tmp_path: Path) -> None:
    project, marker = kept
    piped = subprocess.run(READ, cwd=project, capture_output=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout == marker and piped.stderr == b""
    out = tmp_path / "out.json"
    with open(out, "wb") as fh:
        fh.write(b"before\n")
        fh.flush()
        assert subprocess.run(READ, cwd=project, stdout=fh, timeout=60).returncode == 0
    assert out.read_bytes() == b"before\n" + marker  # written at the file's offset, which moved past it


def test_a_hit_to_a_file_opened_to_append_which_sendfile_refuses(kept: tuple[Path, bytes], tmp_path: Path) -> None:
    project, marker = kept
    out = tmp_path / "log.json"
    for _ in range(2):  # as `>> log.json` twice
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            assert subprocess.run(READ, cwd=project, stdout=fd, timeout=60).returncode == 0
        finally:
            os.close(fd)
    assert out.read_bytes() == marker * 2


def test_a_hit_to_a_stream_of_another_encoding_is_decoded_and_written(kept: tuple[Path, bytes]) -> None:
    project, marker = kept
    env = {**os.environ, "PYTHONIOENCODING": "utf-16"}
    r = subprocess.run(READ, cwd=project, capture_output=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout.decode("utf-16") == marker.decode("utf-8")


@pytest.mark.parametrize("memo", ["on", "off"])
def test_a_pipe_closed_early_ends_the_read_with_nothing_on_stderr(kept: tuple[Path, bytes],
                                                                            memo: str) -> None:
    """From the memo (sendfile met EPIPE) and from the command (its write did): no traceback, nor Python's
    "Exception ignored" from the flush at exit; the memo's answer exits 1 as the funnel reports a closed pipe."""
    project, _marker = kept
    proc = subprocess.Popen(READ, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "SW_REGISTRY_READ_CACHE": memo})
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)
    proc.stdout.close()  # as `| head -c 10`
    err = proc.stderr.read()
    code = proc.wait(timeout=60)
    assert err == b"" and code in ((1,) if memo == "on" else (0, 1)), (code, err.decode())
