"""A big artifact (over gitops.BIG_FILE_BYTES) is copied by the kernel, handed to ``git add`` at once, and hashed by
us while git hashes it (store/artifacts.py ``copy_artifact(big=, copied=)``, Transaction.stage_big): git's hash is
the slow one, and it no longer waits for ours. What is committed and indexed is what ``git add`` of the file makes;
a write that fails after git began leaves git's index as it found it."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest

from sw_registry.gitops import BIG_FILE_BYTES
from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git, run_cli

MODELS = f".specweave/increments/{INCREMENT}/models"


def big_file(path: Path) -> Path:
    """Just over the threshold: 1 MiB of random bytes, then zeros (sparse, quick to make)."""
    with open(path, "wb") as fh:
        fh.write(os.urandom(1 << 20))
        fh.truncate(BIG_FILE_BYTES + (1 << 20) + 3)
    return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def test_a_big_artifact_is_committed_and_indexed_as_git_add_makes_it(project: Path, tmp_path: Path) -> None:
    art = big_file(tmp_path / "model.bin")
    trace = tmp_path / "trace.txt"
    r = run_cli(project, "registry-register", "m", "--artifact", str(art), "--version", "1.0.0", "--json",
                env={"GIT_TRACE": str(trace)})
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)["data"]
    assert data["artifact"]["sha256"] == sha256_of(art)
    assert data["artifact"]["size_bytes"] == art.stat().st_size
    rel = f"{MODELS}/m-v1.0.0/model.bin"
    expected = git(tmp_path, "hash-object", str(art)).strip()
    assert git(project, "rev-parse", f"HEAD:{rel}").strip() == expected
    # the index has git add's entry, stat data and all: plumbing that trusts the stat data sees nothing changed
    assert git(project, "diff-files", "--name-only") == ""
    assert git(project, "diff-index", "--cached", "--name-only", "HEAD") == ""
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    # git was given the artifact alone, before the rest of the version was staged
    adds = [line for line in trace.read_text().splitlines() if " add " in line and "built-in" in line]
    assert any(line.endswith(f"-- {rel}") for line in adds), adds
    git(project, "fsck", "--strict", "--no-progress")


def test_a_write_that_fails_after_git_began_leaves_the_index_as_it_was(project: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "mine.txt").write_text("the user's own staged work\n")
    git(project, "add", "mine.txt")
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    head = git(project, "rev-parse", "HEAD")
    import sw_registry.ops.register as register

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom after the artifact was handed to git")

    monkeypatch.setattr(register, "refresh_derived", boom)
    with pytest.raises(RuntimeError, match="boom"):
        ModelRegistry(root=project).register_model("m", str(big_file(tmp_path / "model.bin")), version="1.0.0")
    assert git(project, "rev-parse", "HEAD") == head
    assert not (project / MODELS / "m-v1.0.0").exists()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == status
    assert git(project, "diff", "--cached", "--name-only") == "mine.txt\n"
    assert not (project / ".git" / "index.lock").exists()


def test_the_copy_falls_back_to_read_and_write_where_the_kernel_will_not_copy(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from sw_registry.store import artifacts

    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(3 * artifacts.CHUNK + 17))

    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    handed: list[tuple[Path, int]] = []
    seen: list[tuple[int, int]] = []
    art = artifacts.copy_artifact(src, tmp_path / "dest.bin", lambda done, total: seen.append((done, total)),
                                  big=1024, copied=lambda path, size: handed.append((path, size)))
    assert (tmp_path / "dest.bin").read_bytes() == src.read_bytes()
    assert art["sha256"] == sha256_of(src) and art["size_bytes"] == src.stat().st_size
    assert handed == [(tmp_path / "dest.bin", src.stat().st_size)]
    size = src.stat().st_size
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (size, size)


def test_a_small_file_keeps_the_single_pass(tmp_path: Path) -> None:
    from sw_registry.store import artifacts

    src = tmp_path / "small.bin"
    src.write_bytes(b"small")
    handed: list[object] = []
    art = artifacts.copy_artifact(src, tmp_path / "dest.bin", big=1024, copied=lambda *a: handed.append(a))
    assert handed == [] and art["sha256"] == sha256_of(src)
