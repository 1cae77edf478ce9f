"""gitops/loose.py writes loose objects git reads as its own: every size (a small object's zlib window is cut to
its size), every loose level, an object whose folder does not exist yet, and a temporary name already taken."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sw_registry.gitops import loose


def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
    return tmp_path / "r"


@pytest.mark.parametrize("level", [-1, 0, 1, 9])
def test_objects_of_every_size_read_back_through_git(tmp_path: Path, level: int) -> None:
    root = repo(tmp_path)
    objects = root / ".git" / "objects"
    for size in (0, 1, 300, 502, 503, 504, 4096, 32_759, 32_760, 32_761, 100_000):
        body = (os.urandom(size // 2 + 1).hex().encode() + b"x")[:size]
        oid = loose.write_object(objects, "blob", body, level)
        expected = subprocess.run(["git", "hash-object", "--stdin"], cwd=root, input=body, capture_output=True,
                                  check=True).stdout.decode().strip()
        assert oid == expected
        stored = subprocess.run(["git", "cat-file", "blob", oid], cwd=root, capture_output=True, check=True).stdout
        assert stored == body
    subprocess.run(["git", "fsck", "--strict", "--no-progress", "--unreachable"], cwd=root, check=True,
                   capture_output=True)
    assert not list(objects.rglob("tmp_obj_*"))


def test_a_small_object_compresses_as_well_as_with_zlibs_default_window(tmp_path: Path) -> None:
    import zlib

    body = b'{"name": "m", "version": "1.0.0", "stage": "dev"}\n' * 40
    raw = f"blob {len(body)}\0".encode() + body
    assert len(loose._deflate(raw, 1)) <= len(zlib.compress(raw, 1)) * 1.1
    assert zlib.decompress(loose._deflate(raw, 1)) == raw


def test_a_taken_temporary_name_is_skipped(tmp_path: Path) -> None:
    root = repo(tmp_path)
    objects = root / ".git" / "objects"
    body = b"hello\n"
    oid = subprocess.run(["git", "hash-object", "--stdin"], cwd=root, input=body, capture_output=True,
                         check=True).stdout.decode().strip()
    # the next names write_object tries (in the objects folder itself), as a killed process of the same pid may
    # have left them
    start = next(loose._TEMPS) + 1
    taken = [objects / f"tmp_obj_{os.getpid()}_{n}" for n in range(start, start + 20)]
    for path in taken:
        path.write_bytes(b"junk")
    assert loose.write_object(objects, "blob", body, 1) == oid
    assert subprocess.run(["git", "cat-file", "blob", oid], cwd=root, capture_output=True, check=True).stdout == body
    assert all(p.read_bytes() == b"junk" for p in taken)  # never touched


def test_an_object_in_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    root = repo(tmp_path)
    objects = root / ".git" / "objects"
    oid = loose.write_object(objects, "blob", b"fresh\n", 1)
    assert (objects / oid[:2] / oid[2:]).is_file()
    assert not list(objects.rglob("tmp_obj_*"))
