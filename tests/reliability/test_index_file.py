"""gitops/index_file.py writes git's index for a commit with a big file: byte for byte what ``git update-index --add
--remove --info-only`` writes, or nothing at all (``update`` returns False) where git must; and a registered big
artifact is committed and indexed without git hashing it again."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from sw_registry.gitops import index_file, open_repo
from tests.conftest import INCREMENT, git, run_cli

MODELS = f".specweave/increments/{INCREMENT}/models"
PAST = time.time_ns() - 60 * 1_000_000_000  # a minute ago: no entry is "racily clean"


def aged(path: Path) -> None:
    os.utime(path, ns=(PAST, PAST))


def repo_with_history(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    files = {"a.txt": "a\n", "d/b.txt": "b\n", "d/e/c.txt": "c\n", "z.txt": "z\n", "d/gone.txt": "g\n"}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        aged(path)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")  # git commit writes the cache tree (TREE)
    return root


def change(root: Path) -> tuple[list[str], list[str]]:
    """Some paths changed, added (in a new folder too) and removed; returns (files, gone)."""
    for rel, text in {"d/b.txt": "b2\n", "d/new.txt": "n\n", "n/m/x.bin": "x" * 5000, "d/e/c.txt": "c2\n"}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        aged(path)
    (root / "d/gone.txt").unlink()
    return ["d/b.txt", "d/new.txt", "n/m/x.bin", "d/e/c.txt"], ["d/gone.txt", "never/was.txt"]


def ours(root: Path, files: list[str]) -> list[tuple[str, int, str, os.stat_result]]:
    out = []
    for rel in files:
        st = os.lstat(root / rel)
        oid = git(root, "hash-object", "-w", rel).strip()
        out.append((rel, index_file.index_mode(st), oid, st))
    return out


def gits_and_ours(root: Path, files: list[str], gone: list[str]) -> tuple[bytes, bytes]:
    index = root / ".git" / "index"
    before = index.read_bytes() if index.exists() else None
    entries = ours(root, files)  # hash-object -w: the blobs exist, as direct.py writes them
    listed = "".join(p + "\0" for p in [*files, *gone])
    subprocess.run(["git", "update-index", "--add", "--remove", "--info-only", "-z", "--stdin"], cwd=root,
                   input=listed.encode(), check=True)
    theirs = index.read_bytes()
    if before is None:
        index.unlink()
    else:
        index.write_bytes(before)
    assert index_file.update(open_repo(root), entries, gone) is True
    return theirs, index.read_bytes()


def test_the_index_is_byte_for_byte_what_git_update_index_writes(tmp_path: Path) -> None:
    root = repo_with_history(tmp_path / "r")
    assert b"TREE" in (root / ".git" / "index").read_bytes()
    theirs, mine = gits_and_ours(root, *change(root))
    assert mine == theirs
    assert git(root, "status", "--porcelain") == "M  d/b.txt\nM  d/e/c.txt\nD  d/gone.txt\nA  d/new.txt\nA  n/m/x.bin\n"


def test_a_version_3_index_is_written_as_git_writes_it(tmp_path: Path) -> None:
    root = repo_with_history(tmp_path / "r")
    git(root, "update-index", "--skip-worktree", "z.txt")  # an extended flag elsewhere: version 3
    assert int.from_bytes((root / ".git" / "index").read_bytes()[4:8], "big") == 3
    theirs, mine = gits_and_ours(root, *change(root))
    assert mine == theirs


def test_an_empty_or_missing_index_is_made_as_git_makes_it(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "f.txt").write_text("f\n")
    aged(root / "f.txt")
    theirs, mine = gits_and_ours(root, ["f.txt"], [])
    assert mine == theirs


def test_optional_extensions_about_the_work_tree_are_dropped_and_git_rebuilds_them(tmp_path: Path) -> None:
    root = repo_with_history(tmp_path / "r")
    git(root, "config", "core.untrackedCache", "true")
    git(root, "status", "--porcelain")  # writes the untracked cache (UNTR)
    assert b"UNTR" in (root / ".git" / "index").read_bytes()
    files, gone = change(root)
    assert index_file.update(open_repo(root), ours(root, files), gone) is True
    data = (root / ".git" / "index").read_bytes()
    assert b"UNTR" not in data
    (root / "untracked.txt").write_text("u\n")
    assert git(root, "status", "--porcelain") == (
        "M  d/b.txt\nM  d/e/c.txt\nD  d/gone.txt\nA  d/new.txt\nA  n/m/x.bin\n?? untracked.txt\n")
    assert b"UNTR" in (root / ".git" / "index").read_bytes()  # git rebuilt it


@pytest.mark.parametrize("setup", ["split index", "version 4", "unmerged", "locked", "folder becomes file"])
def test_what_git_must_do_is_left_to_git_untouched(tmp_path: Path, setup: str) -> None:
    root = repo_with_history(tmp_path / "r")
    files, gone = change(root)
    if setup == "split index":
        git(root, "update-index", "--split-index")
    elif setup == "version 4":
        git(root, "update-index", "--index-version", "4")
    elif setup == "unmerged":
        blob = git(root, "hash-object", "-w", "a.txt").strip()
        subprocess.run(["git", "update-index", "--index-info"], cwd=root, check=True,
                       input=f"0 {'0' * 40}\ta.txt\n100644 {blob} 1\ta.txt\n100644 {blob} 2\ta.txt\n".encode())
    elif setup == "locked":
        (root / ".git" / "index.lock").write_text("")
    elif setup == "folder becomes file":
        (root / "d/e/c.txt").unlink()
        (root / "d/e").rmdir()
        (root / "d/e").write_text("now a file\n")
        files = ["d/e"]
    before = (root / ".git" / "index").read_bytes()
    assert index_file.update(open_repo(root), ours(root, files), gone) is False
    assert (root / ".git" / "index").read_bytes() == before
    assert (root / ".git" / "index.lock").exists() is (setup == "locked")


def test_a_racily_clean_entry_of_another_file_is_still_seen_changed(tmp_path: Path) -> None:
    """x.txt is changed within the second git's index was written in (same size, same mtime): only git's "racily
    clean" rule sees it, by comparing its mtime with the index's. A newer index must not hide the change: its entry
    is written with size 0, as git writes it, so the next git hashes the file again."""
    root = repo_with_history(tmp_path / "r")
    x, index = root / "x.txt", root / ".git" / "index"
    for _attempt in range(5):  # the mtime and git's index write must fall in the same second
        x.write_text("before\n")
        tick = time.time_ns() // 1_000_000_000 * 1_000_000_000 + 999_999_999  # the end of this second
        os.utime(x, ns=(tick, tick))
        git(root, "add", "x.txt")
        if index.stat().st_mtime_ns // 1_000_000_000 == tick // 1_000_000_000:
            break
    else:
        pytest.fail("could not write git's index within one second")
    x.write_text("after!\n")  # same size
    os.utime(x, ns=(tick, tick))  # same mtime: the stat data matches the entry
    while time.time_ns() // 1_000_000_000 <= tick // 1_000_000_000:
        time.sleep(0.05)  # our index is written in a later second: without size 0 the entry would look clean
    (root / "y.txt").write_text("y\n")
    aged(root / "y.txt")
    assert index_file.update(open_repo(root), ours(root, ["y.txt"]), []) is True
    assert "AM x.txt" in git(root, "status", "--porcelain").splitlines()


def test_a_big_artifact_is_committed_and_indexed_without_git_hashing_it(project: Path, tmp_path: Path) -> None:
    from sw_registry.gitops.direct import BIG_FILE_BYTES

    (project / "mine.txt").write_text("the user's own staged work\n")
    git(project, "add", "mine.txt")
    (project / "unstaged.txt").write_text("untracked\n")
    art = tmp_path / "model.bin"
    with open(art, "wb") as fh:
        fh.write(os.urandom(1 << 20))
        fh.truncate(BIG_FILE_BYTES + (1 << 20) + 3)
    trace = tmp_path / "trace.txt"
    r = run_cli(project, "registry-register", "m", "--artifact", str(art), "--version", "1.0.0", "--json",
                env={"GIT_TRACE": str(trace)})
    assert r.returncode == 0, r.stdout + r.stderr
    rel = f"{MODELS}/m-v1.0.0/model.bin"
    expected = git(tmp_path, "hash-object", str(art)).strip()
    assert git(project, "rev-parse", f"HEAD:{rel}").strip() == expected
    assert json.loads(r.stdout)["data"]["artifact"]["size_bytes"] == art.stat().st_size
    traced = trace.read_text()
    assert " add " not in traced and "update-index" not in traced  # no git process hashed it
    packs = {p: git(project, "verify-pack", "-v", str(p)) for p in (project / ".git/objects/pack").glob("*.idx")}
    (own,) = [p for p, out in packs.items() if expected in out]
    assert "non delta: 1 object" in packs[own]  # in a pack of its own, as git add stores a big file
    assert own.with_suffix(".pack").stat().st_size > art.stat().st_size  # stored without zlib
    # the index has the entry git add would make, stat data and all: stat-trusting plumbing sees it clean
    assert git(project, "diff-files", "--name-only") == ""
    assert git(project, "diff-index", "--cached", "--name-only", "HEAD") == "mine.txt\n"  # still staged, not ours
    assert git(project, "status", "--porcelain", "--untracked-files=all") == "A  mine.txt\n?? unstaged.txt\n"
    assert "mine.txt" not in git(project, "show", "--name-only", "--format=", "HEAD")
    git(project, "fsck", "--strict", "--no-progress")


def test_a_big_artifact_in_an_index_git_must_write_still_lands(project: Path, tmp_path: Path) -> None:
    from sw_registry.gitops.direct import BIG_FILE_BYTES

    git(project, "update-index", "--index-version", "4")
    art = tmp_path / "model.bin"
    with open(art, "wb") as fh:
        fh.write(b"head")
        fh.truncate(BIG_FILE_BYTES + 7)
    r = run_cli(project, "registry-register", "m", "--artifact", str(art), "--version", "1.0.0", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(project, "rev-parse", f"HEAD:{MODELS}/m-v1.0.0/model.bin").strip() == git(
        tmp_path, "hash-object", str(art)).strip()
