"""Registry commits whose objects sw-registry writes itself (gitops/direct.py): the same commit ``git commit-tree``
makes, a repository ``git fsck --strict`` finds clean, an index as ``git add`` leaves it, the user's own work
untouched, and git's own way wherever git would do something of its own (attributes, signing, hooks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git, run_cli

MODELS = f".specweave/increments/{INCREMENT}/models"


def traced(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``git`` logs each call's arguments (one line each) before running the real git."""
    folder = tmp_path / "tracebin"
    folder.mkdir(exist_ok=True)
    log = tmp_path / "git-calls.txt"
    real = shutil.which("git")
    script = folder / "git"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, log


def commit_tree_id(project: Path, commit: str, env: dict[str, str]) -> str:
    """The id ``git commit-tree`` gives ``commit``'s tree, parents and message under ``env`` (dates and idents)."""
    raw = subprocess.run(["git", "cat-file", "commit", commit], cwd=project, capture_output=True, check=True).stdout
    header, _, message = raw.partition(b"\n\n")
    lines = header.decode().splitlines()
    tree = lines[0].split()[1]
    parents = [a for line in lines if line.startswith("parent ") for a in ("-p", line.split()[1])]
    proc = subprocess.run(["git", "commit-tree", tree, *parents], cwd=project, input=message, capture_output=True,
                          env={**os.environ, **env}, check=True)
    return proc.stdout.decode().strip()


def ident_of(project: Path, commit: str, who: str) -> str:
    raw = git(project, "cat-file", "commit", commit)
    return next(line[len(who) + 1 :] for line in raw.splitlines() if line.startswith(who + " "))


@pytest.mark.parametrize(
    "env",
    [
        {"GIT_AUTHOR_DATE": "1700000000 +0200", "GIT_COMMITTER_DATE": "2023-11-14T22:13:20Z"},
        {"GIT_AUTHOR_NAME": " ;Ann <a> \"Lee\". ", "GIT_AUTHOR_EMAIL": "<ann@example.com>.",
         "GIT_AUTHOR_DATE": "@1700000001 -0730", "GIT_COMMITTER_DATE": "1700000002 +0000"},
    ],
)
def test_the_commit_is_the_one_git_commit_tree_makes(project: Path, make_artifact, tmp_path: Path,
                                                     env: dict[str, str]) -> None:
    trace_env, log = traced(tmp_path)
    for i in range(2):
        r = run_cli(project, "registry-register", "m", "--artifact", str(make_artifact(f"v{i}")), "--bump", "patch",
                    "--json", env={**env, **trace_env})
        assert r.returncode == 0, r.stdout + r.stderr
    calls = log.read_text()
    assert "commit-tree" not in calls and " add " not in f" {calls}" and "mktree" not in calls  # we wrote it
    head = git(project, "rev-parse", "HEAD").strip()
    assert commit_tree_id(project, head, env) == head
    assert commit_tree_id(project, head + "~1", env) == git(project, "rev-parse", "HEAD~1").strip()
    git(project, "fsck", "--strict", "--no-progress")


def test_identities_from_git_config_and_the_local_time_zone(project: Path, make_artifact, tmp_path: Path) -> None:
    """No identity in the environment: git's config gives it, and the date is now in the local zone (TZ)."""
    git(project, "config", "user.name", "Config Person")
    git(project, "config", "user.email", "config@example.com")
    git(project, "config", "committer.name", "The Committer")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    proc = subprocess.run([sys.executable, "-m", "sw_registry", "registry-register", "m", "--artifact",
                           str(make_artifact()), "--json"], cwd=project, capture_output=True, text=True,
                          env={**clean, "TZ": "IST-5:30"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head = git(project, "rev-parse", "HEAD").strip()
    author, committer = ident_of(project, head, "author"), ident_of(project, head, "committer")
    assert author.startswith("Config Person <config@example.com> ") and author.endswith(" +0530")
    assert committer.startswith("The Committer <config@example.com> ")
    dates = {"GIT_AUTHOR_DATE": author.rsplit(" ", 2)[1] + " +0530",
             "GIT_COMMITTER_DATE": committer.rsplit(" ", 2)[1] + " +0530"}
    rebuilt = commit_tree_id(project, head, {**dates, "GIT_AUTHOR_NAME": "Config Person",
                                             "GIT_AUTHOR_EMAIL": "config@example.com",
                                             "GIT_COMMITTER_NAME": "The Committer",
                                             "GIT_COMMITTER_EMAIL": "config@example.com"})
    assert rebuilt == head


def test_the_index_is_what_git_add_leaves_and_the_users_work_is_untouched(project: Path, make_artifact) -> None:
    (project / "notes.txt").write_text("v1\n")
    (project / "src.py").write_text("a = 1\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "user files")
    (project / "notes.txt").write_text("v2 staged\n")
    git(project, "add", "notes.txt")
    (project / "src.py").write_text("a = 2  # unstaged\n")
    before_staged = git(project, "diff", "--cached", "--", "notes.txt", "src.py")
    before_unstaged = git(project, "diff", "--", "notes.txt", "src.py")
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"one")), version="1.0.0")
    reg.register_model("m", str(make_artifact(b"two")), version="1.0.1")
    reg.promote_model("m", "1.0.1", to_stage="staging")
    # plumbing that trusts the index's stat data (no refresh) sees our paths clean: they carry git add's stat data
    assert git(project, "diff-files", "--name-only") == "src.py\n"
    assert git(project, "diff-index", "--cached", "--name-only", "HEAD") == "notes.txt\n"
    assert git(project, "status", "--porcelain") == "M  notes.txt\n M src.py\n"
    assert git(project, "diff", "--cached", "--", notes := "notes.txt", "src.py") == before_staged
    assert git(project, "diff", "--", notes, "src.py") == before_unstaged
    # every registry entry of the index is HEAD's, as a fresh ``git add`` of the files would make it
    ours = git(project, "ls-files", "-s", "--", ".specweave")
    assert ours == git(project, "ls-tree", "-r", "--format=%(objectmode) %(objectname) 0\t%(path)", "HEAD",
                       "--", ".specweave")
    git(project, "fsck", "--strict", "--no-progress")


def test_a_ref_moved_after_the_objects_were_written_is_refused_and_everything_restored(project: Path,
                                                                                       make_artifact) -> None:
    """HEAD moved by someone else between our read and update-ref: the write is refused, its commit is in no
    history and its file in no index; what it left on disk is its journal's, which --repair puts back."""
    from sw_registry.errors import GitError
    from sw_registry.layout import Layout
    from sw_registry.transaction import transaction

    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"one")), version="1.0.0")
    status_before = git(project, "status", "--porcelain")
    rel = f"{MODELS}/m-v1.0.0/notes.md"
    with pytest.raises(GitError, match="commit failed"), transaction(Layout(project), actor=None) as tx:
        tx.write(rel, b"mine\n")
        tx.before_commit.append(lambda: git(project, "commit", "-q", "--allow-empty", "-m", "someone else"))
        tx.commit("registry: test", {"Event": "test"})
    assert git(project, "log", "--format=%s").startswith("someone else\nregistry: register m v1.0.0\n")
    assert git(project, "ls-files", "--", rel) == ""
    reg.repair()
    assert not (project / rel).exists()
    assert git(project, "status", "--porcelain") == status_before
    git(project, "fsck", "--strict", "--no-progress")


def test_attributes_send_the_commit_through_git_so_filters_apply(project: Path, tmp_path: Path) -> None:
    """A clean filter (as git-lfs installs) changes what git stores: such a commit goes git's way."""
    (project / ".gitattributes").write_text("*.txt filter=upper\n")
    git(project, "config", "filter.upper.clean", "tr a-z A-Z")
    git(project, "config", "filter.upper.smudge", "cat")
    git(project, "add", ".gitattributes")
    git(project, "commit", "-q", "-m", "attributes")
    art = tmp_path / "weights.txt"
    art.write_text("lower case\n")
    ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")
    assert git(project, "show", f"HEAD:{MODELS}/m-v1.0.0/weights.txt") == "LOWER CASE\n"
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.parametrize(("level", "small"), [("0", False), ("9", True)])
def test_loose_objects_honour_core_loose_compression(project: Path, tmp_path: Path, level: str, small: bool) -> None:
    git(project, "config", "core.looseCompression", level)
    art = tmp_path / "zeros.bin"
    art.write_bytes(b"\0" * 300_000)
    ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")
    oid = git(project, "rev-parse", f"HEAD:{MODELS}/m-v1.0.0/zeros.bin").strip()
    size = (project / ".git" / "objects" / oid[:2] / oid[2:]).stat().st_size
    assert (size < 10_000) is small
    git(project, "fsck", "--strict", "--no-progress")



def test_a_file_over_the_stream_size_is_stored_as_git_hash_object_stores_it(project: Path, tmp_path: Path) -> None:
    """Files over loose.STREAM_ABOVE are hashed and compressed in one pass, in chunks: the id is git's own, the
    object reads back byte for byte, and no temporary object file is left in the objects folder."""
    from sw_registry.gitops.loose import STREAM_ABOVE

    art = tmp_path / "big.bin"
    art.write_bytes(os.urandom(STREAM_ABOVE) * 2 + b"tail")  # two chunks and a bit
    expected = subprocess.run(["git", "hash-object", str(art)], cwd=project, capture_output=True, text=True,
                              check=True).stdout.strip()
    ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")
    assert git(project, "rev-parse", f"HEAD:{MODELS}/m-v1.0.0/big.bin").strip() == expected
    stored = subprocess.run(["git", "cat-file", "blob", expected], cwd=project, capture_output=True, check=True)
    assert stored.stdout == art.read_bytes()
    assert not list((project / ".git" / "objects").rglob("tmp_obj_*"))
    git(project, "fsck", "--strict", "--no-progress")

def test_an_object_git_already_has_is_not_written_again(project: Path, tmp_path: Path) -> None:
    art = tmp_path / "model.bin"
    art.write_bytes(b"the same bytes\n")
    oid = subprocess.run(["git", "hash-object", "-w", str(art)], cwd=project, capture_output=True, text=True,
                         check=True).stdout.strip()
    path = project / ".git" / "objects" / oid[:2] / oid[2:]
    inode = path.stat().st_ino
    ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")
    assert git(project, "rev-parse", f"HEAD:{MODELS}/m-v1.0.0/model.bin").strip() == oid
    assert path.stat().st_ino == inode


def test_core_autocrlf_sends_the_commit_through_git_so_line_endings_are_converted(project: Path,
                                                                                 tmp_path: Path) -> None:
    git(project, "config", "core.autocrlf", "true")
    art = tmp_path / "labels.txt"
    art.write_bytes(b"cat\r\ndog\r\n")
    ModelRegistry(root=project).register_model("m", str(art), version="1.0.0")
    blob = subprocess.run(["git", "cat-file", "blob", f"HEAD:{MODELS}/m-v1.0.0/labels.txt"], cwd=project,
                          capture_output=True, check=True).stdout
    assert blob == b"cat\ndog\n"  # what git add stores under core.autocrlf
    git(project, "fsck", "--strict", "--no-progress")


def test_commit_gpgsign_in_gits_config_changes_nothing_as_with_git_commit_tree(project: Path, make_artifact) -> None:
    """``git commit-tree`` does not read commit.gpgSign (only ``git commit`` does): the registry's commits stay
    unsigned unless registry.yaml requires signing (SPEC §6), with our objects as with git's."""
    git(project, "config", "commit.gpgSign", "true")
    git(project, "config", "gpg.program", "false")  # signing would fail
    made = ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    assert made.commit == git(project, "rev-parse", "HEAD").strip()
    assert "gpgsig" not in git(project, "cat-file", "commit", "HEAD")
    assert git(project, "status", "--porcelain") == ""
