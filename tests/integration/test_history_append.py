"""deployment_history.md is append-only prose (SPEC §2): a stage change appends its row in place (issue 10), the file
neither read nor rewritten whole; a failed write cuts it back; a file that cannot be appended to exactly (no final
line break, a link, none yet) is read and rewritten whole as before."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git

HISTORY = Path(".specweave/increments") / INCREMENT / "registry" / "deployment_history.md"


@pytest.fixture
def reg(project: Path, make_artifact) -> ModelRegistry:  # type: ignore[no-untyped-def]
    reg = ModelRegistry(root=project)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        reg.register_model("m", str(make_artifact(version.encode())), version=version)
    reg.promote_model("m", "1.0.0", to_stage="staging")  # the file is made: header and first row
    return reg


def rows(data: bytes) -> list[str]:
    return [line for line in data.decode().splitlines() if line.startswith("| 20")]


def test_a_stage_change_appends_its_row_in_place(project: Path, reg: ModelRegistry) -> None:
    path = project / HISTORY
    before, inode = path.read_bytes(), path.stat().st_ino
    reg.promote_model("m", "1.1.0", to_stage="staging")  # and 1.0.0 archived: two rows, one write: both appended
    after = path.read_bytes()
    assert path.stat().st_ino == inode and after.startswith(before)
    assert [r.split(" | ")[2:5] for r in rows(after[len(before) :])] == [
        ["v1.1.0", "dev", "staging"], ["v1.0.0", "staging", "archived"]
    ]
    assert rows(after)[0] == rows(before)[0] and len(rows(after)) == 3
    assert git(project, "show", f"HEAD:{HISTORY.as_posix()}").encode() == after
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_failed_write_cuts_the_appended_file_back(project: Path, reg: ModelRegistry) -> None:
    path = project / HISTORY
    before, inode, head = path.read_bytes(), path.stat().st_ino, git(project, "rev-parse", "HEAD")
    hook = project / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(RegistryError):
        reg.promote_model("m", "1.1.0", to_stage="staging")
    assert path.read_bytes() == before and path.stat().st_ino == inode
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    hook.unlink()
    reg.promote_model("m", "1.1.0", to_stage="staging")
    assert len(rows(path.read_bytes())) == 3


def test_a_file_without_a_final_line_break_is_rewritten_whole(project: Path, reg: ModelRegistry) -> None:
    path = project / HISTORY
    before = path.read_bytes().rstrip(b"\n") + b"\n\nA note without a final line break"
    path.write_bytes(before)
    git(project, "commit", "-qam", "a note")
    reg.promote_model("m", "1.1.0", to_stage="staging")
    after = path.read_bytes()
    assert after.startswith(before + b"\n| 20") and after.count(b"\n") == before.count(b"\n") + 3


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_link_is_never_appended_through(project: Path, reg: ModelRegistry) -> None:
    """A deployment_history.md that is a symbolic link: its target is left alone, the link replaced by the file."""
    path = project / HISTORY
    target = project / "notes" / "history-copy.md"
    target.parent.mkdir()
    target.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(os.path.relpath(target, path.parent))
    git(project, "add", "-A")
    git(project, "commit", "-qm", "history as a link")
    kept = target.read_bytes()
    reg.promote_model("m", "1.1.0", to_stage="staging")
    assert target.read_bytes() == kept
    assert not path.is_symlink() and path.read_bytes().startswith(kept) and len(rows(path.read_bytes())) == 3
