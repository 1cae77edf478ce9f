"""gitops/packfile.py stores a big file's blob in a pack of its own, as ``git add`` does for a file over
``core.bigFileThreshold``: git reads it, verifies it, finds it by id, and its next ``git gc`` reuses the stored
bytes instead of deflating them again."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sw_registry.gitops import packfile
from tests.conftest import git


def repo(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


def data_file(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.write(os.urandom(min(size, 1 << 16)))
        fh.truncate(size)  # the rest zeros: it would deflate to almost nothing
    return path


def packs(root: Path) -> set[str]:
    return {p.name for p in (root / ".git" / "objects" / "pack").glob("pack-*.pack")}


def test_the_pack_is_one_git_verifies_and_reads(tmp_path: Path) -> None:
    root = repo(tmp_path / "r")
    src = data_file(tmp_path / "big.bin", (3 << 20) + 5)
    oid = packfile.write_file_pack(root / ".git" / "objects", str(src), src.stat().st_size)
    assert oid == git(root, "hash-object", str(src)).strip()
    (name,) = packs(root)
    out = git(root, "verify-pack", "-v", f".git/objects/pack/{name[:-5]}.idx")
    assert f"{oid} blob   {src.stat().st_size}" in out
    assert subprocess.run(["git", "cat-file", "blob", oid], cwd=root, capture_output=True).stdout == src.read_bytes()
    assert (root / ".git" / "objects" / "pack" / name).stat().st_size > src.stat().st_size  # stored, not deflated
    git(root, "fsck", "--strict", "--no-progress")
    assert not [p for p in (root / ".git" / "objects" / "pack").iterdir() if p.name.startswith("tmp_")]


def test_an_object_git_has_gets_no_second_pack(tmp_path: Path) -> None:
    root = repo(tmp_path / "r")
    src = data_file(tmp_path / "big.bin", (1 << 20) + 3)
    objects = root / ".git" / "objects"
    first = packfile.write_file_pack(objects, str(src), src.stat().st_size)
    before = packs(root)
    assert packfile.write_file_pack(objects, str(src), src.stat().st_size) == first
    assert packs(root) == before
    loose_src = tmp_path / "small.bin"
    loose_src.write_bytes(b"loose already\n" * 100_000)
    oid = git(root, "hash-object", "-w", str(loose_src)).strip()  # a loose object
    assert packfile.write_file_pack(objects, str(loose_src), loose_src.stat().st_size) == oid
    assert packs(root) == before


def test_git_gc_reuses_the_stored_bytes(tmp_path: Path) -> None:
    """As with git add's own pack: gc copies the object as it is stored, it does not deflate it again."""
    root = repo(tmp_path / "r")
    src = root / "big.bin"
    data_file(src, 4 << 20)
    oid = packfile.write_file_pack(root / ".git" / "objects", str(src), src.stat().st_size)
    git(root, "update-index", "--add", "--cacheinfo", f"100644,{oid},big.bin")
    git(root, "commit", "-q", "-m", "big")
    git(root, "gc", "-q")
    sizes = {p.name: p.stat().st_size for p in (root / ".git" / "objects" / "pack").glob("pack-*.pack")}
    assert max(sizes.values()) > 4 << 20, sizes  # still stored: 4 MiB of mostly zeros would deflate to ~70 KiB
    assert subprocess.run(["git", "cat-file", "blob", oid], cwd=root, capture_output=True).stdout == src.read_bytes()
