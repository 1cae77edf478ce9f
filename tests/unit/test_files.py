"""store/files.py: atomic_write's replacement of a file (its old inode released off the write's path), and
copy_json, the deep copy of JSON data a write uses instead of copy.deepcopy (issue 10)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sw_registry.store import files
from sw_registry.store.files import atomic_write, copy_json


def _deleted_links(path: Path) -> list[str]:
    """This process's descriptors still open on a replaced (deleted) file at ``path``."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target == f"{path} (deleted)":
            out.append(target)
    return out


def test_a_replaced_file_is_swapped_whole_and_new_files_and_folders_are_made(tmp_path: Path) -> None:
    target = tmp_path / "registry" / "model_catalog.yaml"
    atomic_write(target, b"first\n")  # its folder does not exist yet: made on the way
    assert target.read_bytes() == b"first\n"
    with open(target, "rb") as reader:  # a reader that opened the old file keeps reading the old bytes
        atomic_write(target, b"second\n" * 1000)
        assert reader.read() == b"first\n"
    assert target.read_bytes() == b"second\n" * 1000
    assert sorted(p.name for p in target.parent.iterdir()) == ["model_catalog.yaml"]  # no temporary file left


@pytest.mark.skipif(not files._O_PATH or not os.path.isdir("/proc/self/fd"), reason="O_PATH and /proc are Linux's")
def test_the_replaced_file_is_released_by_this_process(tmp_path: Path) -> None:
    """The old file is held (O_PATH) across the rename and closed by the releasing thread: no descriptor leaks."""
    target = tmp_path / "lineage_graph.json"
    target.write_bytes(os.urandom(200_000))
    for i in range(5):
        atomic_write(target, os.urandom(200_000 + i), durable=False)
    deadline = time.monotonic() + 30  # the thread closes them as soon as it runs; not a timing assertion
    while _deleted_links(target) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _deleted_links(target) == []
    assert target.stat().st_size == 200_004


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_way_is_replaced_without_blocking(tmp_path: Path) -> None:
    """Holding the old file opens it with O_PATH: a FIFO (or device) there is neither read nor waited on."""
    target = tmp_path / "deployment_history.md"
    os.mkfifo(target)
    atomic_write(target, b"# Deployment history\n")
    assert target.is_file() and target.read_bytes() == b"# Deployment history\n"


def test_copy_json_copies_json_data_deeply() -> None:
    meta = {"name": "m", "metrics": {"auc": 0.9, "n": 3, "ok": True, "none": None}, "tags": ["a", ["b", {"c": 1}]]}
    copied = copy_json(meta)
    assert copied == meta
    copied["metrics"]["auc"] = 0.1
    copied["tags"][1][1]["c"] = 2
    copied["tags"].append("x")
    assert meta == {"name": "m", "metrics": {"auc": 0.9, "n": 3, "ok": True, "none": None},
                    "tags": ["a", ["b", {"c": 1}]]}


def test_copy_json_hands_other_values_to_deepcopy() -> None:
    """A tuple, a set or a dict subclass (the Python API may be given one) is copied as copy.deepcopy copies it."""

    class Tagged(dict):  # type: ignore[type-arg]
        pass

    value = {"t": (1, [2]), "s": {3}, "d": Tagged(k=[4])}
    copied = copy_json(value)
    assert copied == value and type(copied["d"]) is Tagged and type(copied["t"]) is tuple
    copied["t"][1].append(5)
    copied["d"]["k"].append(6)
    assert value == {"t": (1, [2]), "s": {3}, "d": Tagged(k=[4])}
