"""HEAD's branch moved by sw-registry itself (gitops/refs.py) as ``git update-ref -m MSG HEAD NEW OLD`` moves it:
the ref, packed-refs and both reflogs byte for byte what git writes (two repositories built alike, one moved by
us, one by git), git's lock files honoured, git's compare-and-swap, and git's own way wherever git would do
something more (a reference-transaction hook, a detached HEAD, a chain of symbolic refs, reftable...)."""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sw_registry.errors import GitError
from sw_registry.gitops import git_env, gitvars, open_repo, refs
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.transaction import transaction
from tests.conftest import INCREMENT, git
from tests.reliability.test_direct_commit import traced

DATES = {"GIT_AUTHOR_DATE": "1700000000 +0100", "GIT_COMMITTER_DATE": "1700000100 +0100"}
MESSAGE = "commit: registry: register m v1.0.0"


def build(path: Path, setup: Callable[[Path], Path | None]) -> tuple[Path, str, str]:
    """A repository with one commit and a second commit object on no ref; ``setup`` may change it and return the
    work tree to move the branch of (a linked worktree). Returns (work tree, HEAD, the new commit)."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text("a\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "first")
    where = setup(path) or path
    old = git(where, "rev-parse", "HEAD").strip()
    new = git(where, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "second").strip()
    return where, old, new


def files(repo: Path) -> dict[str, tuple[bytes, int]]:
    """Every ref, log, lock and packed-refs file of ``repo``'s git dir: its bytes and permission bits."""
    out = {}
    top = repo / ".git"
    for folder, _dirs, names in os.walk(top):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), top).replace(os.sep, "/")
            if rel.startswith(("objects/", "hooks/", "info/")) or rel in ("index", "config", "description"):
                continue
            if rel.startswith("worktrees/") and rel.rsplit("/", 1)[1] in ("gitdir", "index", "commondir"):
                continue
            st = os.lstat(os.path.join(folder, name))
            out[rel] = ((top / rel).read_bytes(), stat.S_IMODE(st.st_mode))
    return out


def ours(where: Path, old: str, new: str, message: str = MESSAGE) -> str | None:
    repo = open_repo(where)
    vars = gitvars.start(where).result()
    assert vars is not None
    how = refs.plan(repo, vars.config, old)
    assert how is not None, "this case must not go git's way"
    committer = gitvars.ident_line(vars, "committer", git_env(), time.time())
    assert committer is not None
    return refs.move(repo, how, old, new, committer, message)


def _nothing(path: Path) -> None:
    return None


def _packed(path: Path) -> None:
    git(path, "pack-refs", "--all")
    assert not (path / ".git/refs/heads/main").exists()


def _no_logs(path: Path) -> None:
    shutil.rmtree(path / ".git/logs")


def _logs_off(path: Path) -> None:
    git(path, "config", "core.logAllRefUpdates", "false")


def _logs_off_none_there(path: Path) -> None:
    _logs_off(path)
    _no_logs(path)


def _logs_always(path: Path) -> None:
    git(path, "config", "core.logAllRefUpdates", "always")
    _no_logs(path)


def _branch_in_folder(path: Path) -> None:
    git(path, "switch", "-q", "-c", "team/feature-1.x")


def _packed_in_folder(path: Path) -> None:
    _branch_in_folder(path)
    git(path, "pack-refs", "--all")
    assert not (path / ".git/refs/heads/team").exists()  # git makes the folder again for the lock, as do we


def _umask_kept(path: Path) -> None:
    _no_logs(path)  # the logs and the ref are created under a group-writable umask by both (the test sets it)


def _linked_worktree(path: Path) -> Path:
    git(path, "worktree", "add", "-q", "-b", "side", str(path / "wt"))
    return path / "wt"


@pytest.mark.parametrize(
    "setup",
    [_nothing, _packed, _no_logs, _logs_off, _logs_off_none_there, _logs_always, _branch_in_folder,
     _packed_in_folder, _umask_kept, _linked_worktree],
)
@pytest.mark.parametrize("message", [MESSAGE, "  commit:\tsubject  with\r\n runs \t "])
def test_the_ref_and_both_logs_are_what_git_update_ref_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: Callable[[Path], Path | None], message: str
) -> None:
    for key, value in DATES.items():
        monkeypatch.setenv(key, value)
    a, old, new = build(tmp_path / "a", setup)
    b, old_b, new_b = build(tmp_path / "b", setup)
    assert (old, new) == (old_b, new_b)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    mask = os.umask(0o002) if setup is _umask_kept else None
    try:
        assert ours(a, old, new, message) is None
        git(b, "update-ref", "-m", message, "HEAD", new, old)
    finally:
        if mask is not None:
            os.umask(mask)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert git(a, "rev-parse", "HEAD").strip() == new
    git(tmp_path / "a", "fsck", "--strict", "--no-progress")


@pytest.mark.parametrize("setup", [_nothing, _packed])
def test_a_ref_moved_by_someone_else_is_refused_as_update_ref_refuses_it(tmp_path: Path, setup) -> None:
    where, old, new = build(tmp_path / "a", setup)
    other = git(where, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "theirs").strip()
    git(where, "update-ref", "HEAD", other, old)
    if setup is _packed:
        git(where, "pack-refs", "--all")
    before = files(where)
    refused = ours(where, old, new)
    assert refused == f"fatal: cannot lock ref 'HEAD': is at {other} but expected {old}"
    assert files(where) == before  # nothing written, no lock left


@pytest.mark.parametrize("lock", ["HEAD.lock", "refs/heads/main.lock"])
def test_a_held_lock_refuses_the_move_and_leaves_everything(tmp_path: Path, lock: str) -> None:
    where, old, new = build(tmp_path / "a", _nothing)
    git(where, "config", "core.filesRefLockTimeout", "20")  # git waits this long for a lock, as we do
    (where / ".git" / lock).write_text("someone's\n")
    before = files(where)
    refused = ours(where, old, new)
    assert refused is not None and f"Unable to create '{where / '.git' / lock}': File exists." in refused
    assert files(where) == before  # their lock is theirs; nothing else changed


def test_a_write_refused_by_a_held_branch_lock_is_undone_whole(project: Path, make_artifact) -> None:
    """The lock git holds while it moves the branch: our write waits git's timeout, then fails as update-ref
    would, and everything it did is undone (files, index, journal); the lock stays its owner's."""
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"one")), version="1.0.0")
    head = git(project, "rev-parse", "HEAD").strip()
    git(project, "config", "core.filesRefLockTimeout", "10")
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    lock = project / ".git/refs/heads/main.lock"
    lock.write_text("held\n")
    rel = f".specweave/increments/{INCREMENT}/models/m-v1.0.0/notes.md"
    with pytest.raises(GitError, match=r"main\.lock"), transaction(Layout(project), actor=None) as tx:
        tx.write(rel, b"mine\n")
        tx.commit("registry: test", {"Event": "test"})
    assert git(project, "rev-parse", "HEAD").strip() == head
    assert lock.read_text() == "held\n" and not (project / ".git/HEAD.lock").exists()
    assert not (project / rel).exists() and git(project, "ls-files", "--", rel) == ""
    assert not (project / ".git/sw-registry.journal").exists()
    assert git(project, "status", "--porcelain", "--untracked-files=all") == status
    lock.unlink()
    reg.register_model("m", str(make_artifact(b"two")), version="1.0.1")
    git(project, "fsck", "--strict", "--no-progress")


def test_a_registry_write_moves_the_branch_without_update_ref(project: Path, make_artifact, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    env, log = traced(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    head = git(project, "rev-parse", "HEAD").strip()
    ModelRegistry(root=project).register_model("m", str(make_artifact(b"one")), version="1.0.0")
    assert "update-ref" not in log.read_text()
    new = git(project, "rev-parse", "HEAD").strip()
    line = (project / ".git/logs/refs/heads/main").read_text().splitlines()[-1]
    assert line.startswith(f"{head} {new} Alice <alice@example.com> ")
    assert line.endswith("\tcommit: registry: register m v1.0.0")
    assert (project / ".git/logs/HEAD").read_text().splitlines()[-1] == line
    git(project, "fsck", "--strict", "--no-progress")


def _hook(project: Path) -> None:
    hook = project / ".git/hooks/reference-transaction"
    hook.write_text(f'#!/bin/sh\necho "$1" >> "{project / ".git/ref-hook.txt"}"\ncat > /dev/null\n')
    hook.chmod(0o755)


def _symref_chain(project: Path) -> None:
    head = git(project, "rev-parse", "HEAD").strip()
    git(project, "update-ref", "refs/heads/real", head)
    (project / ".git/refs/heads/main").write_text("ref: refs/heads/real\n")


@pytest.mark.parametrize("setup", [_hook, _symref_chain])
def test_what_git_does_more_goes_through_update_ref(project: Path, make_artifact, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, setup) -> None:
    setup(project)
    env, log = traced(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    ModelRegistry(root=project).register_model("m", str(make_artifact(b"one")), version="1.0.0")
    assert "update-ref" in log.read_text()
    assert git(project, "log", "-1", "--format=%s").strip() == "registry: register m v1.0.0"
    if setup is _hook:
        assert (project / ".git/ref-hook.txt").read_text().split() == ["prepared", "committed"]
    else:
        assert (project / ".git/refs/heads/main").read_text() == "ref: refs/heads/real\n"
    git(project, "fsck", "--strict", "--no-progress")


def test_a_detached_head_goes_through_update_ref(project: Path, make_artifact) -> None:
    git(project, "switch", "-q", "--detach")
    repo = open_repo(project)
    vars = gitvars.start(project).result()
    assert vars is not None
    assert refs.plan(repo, vars.config, git(project, "rev-parse", "HEAD").strip()) is None
    ModelRegistry(root=project, allow_detached=True).register_model("m", str(make_artifact(b"one")), version="1.0.0")
    assert git(project, "log", "-1", "--format=%s").strip() == "registry: register m v1.0.0"
    assert git(project, "reflog", "-1", "--format=%gs").strip() == "commit: registry: register m v1.0.0"


@pytest.mark.parametrize(
    "config",
    [{"extensions.refstorage": "reftable"}, {"core.sharedrepository": "group"}, {"core.bare": "true"},
     {"core.bare": None}, {"core.logallrefupdates": "sometimes"}, {"core.filesreflocktimeout": "1k"},
     {"core.fsync": "reference"}, {"extensions.worktreeconfig": "true"}],
)
def test_settings_git_reads_otherwise_go_through_update_ref(project: Path, config: dict[str, str | None]) -> None:
    repo = open_repo(project)
    head = git(project, "rev-parse", "HEAD").strip()
    assert refs.plan(repo, {"core.bare": "false"}, head) is not None
    assert refs.plan(repo, {"core.bare": "false", **config}, head) is None


@pytest.mark.parametrize("head", ["ref: refs/heads/a..b\n", "ref: refs/tags/v1\n", "ref: refs/heads/x.lock\n",
                                  "ref: HEAD\n", "0" * 40 + "\n"])
def test_a_head_we_would_have_to_read_like_git_goes_through_update_ref(project: Path, head: str) -> None:
    old = git(project, "rev-parse", "HEAD").strip()
    repo = open_repo(project)
    (project / ".git/HEAD").write_text(head)
    assert refs.plan(repo, {}, old) is None


def test_the_reflog_message_is_normalised_as_git_does() -> None:
    assert refs.reflog_message("  a\t\tb \r\n c  ") == "a b c"
    assert refs.reflog_message("x\x0by") == "x\x0by"  # a vertical tab is no space to git


KILLED_MID_MOVE = """
import os, signal, sys, time
from pathlib import Path
from sw_registry.gitops import git_env, gitvars, open_repo, refs
where, old, new = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
repo, vars = open_repo(where), gitvars.start(where).result()
how = refs.plan(repo, vars.config, old)
committer = gitvars.ident_line(vars, "committer", git_env(), time.time())
real = refs._append_log
def signalled(*args):
    os.kill(os.getpid(), signal.SIGTERM)  # arrives while both lock files are held
    real(*args)
refs._append_log = signalled
print(refs.move(repo, how, old, new, committer, "commit: x"), flush=True)
print("still running")
"""


def test_a_sigterm_while_the_locks_are_held_lands_once_they_are_gone(tmp_path: Path) -> None:
    """git removes its lock files when a signal ends it; we hold the signal until the move is done: the ref moved,
    both logs written, no lock left behind to block every later git command."""
    import signal
    import subprocess
    import sys

    where, old, new = build(tmp_path / "a", _nothing)
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_MOVE, str(where), old, new], capture_output=True,
                          text=True)
    assert proc.returncode == -signal.SIGTERM, proc.stdout + proc.stderr
    assert "still running" not in proc.stdout
    assert git(where, "rev-parse", "HEAD").strip() == new
    assert not list((where / ".git").rglob("*.lock"))
    assert (where / ".git/logs/HEAD").read_text().splitlines()[-1].endswith("\tcommit: x")
    assert (where / ".git/logs/refs/heads/main").read_text().splitlines()[-1].endswith("\tcommit: x")
