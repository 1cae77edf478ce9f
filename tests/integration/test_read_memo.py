"""The read memo (store/readcache.py) never answers from a stale output: each kind of change git or a folder
listing shows (a write, ``git add`` of a hand edit, checkout, merge, rebase, reset, stash, a version folder added
by hand, an increment archived, registry.yaml edited) makes the next read run the command again.

To see which way a read went, the tests plant a marker in every memo entry: a read that prints the marker was
answered from the memo. Correctness only, never timing (the only sleep lets a change age past the racy window)."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sw_registry.registry import ModelRegistry
from sw_registry.store import memo_file, readcache
from tests.cli.inprocess import run_main
from tests.conftest import INCREMENT, Result, git, run_cli
from tests.watching import running

NAME = "m"
MODELS = Path(".specweave/increments") / INCREMENT / "models"
MARKER = '{"ok": true, "data": "from the memo"}\n'
READS = [
    ("registry-list", "--json"),
    ("registry-info", NAME, "--json"),
    ("registry-get", NAME, "--stage", "staging", "--json"),
    ("registry-history", NAME, "--json"),
]


def memo_dir(project: Path) -> Path:
    return project / ".specweave" / "cache" / "sw-registry" / "reads"


def settle() -> None:
    """Let the last change age past the racy window, so the next read may keep its output."""
    time.sleep(readcache.RACY_NS / 1e9 + 0.03)


def plant(project: Path) -> int:
    """Replace the output kept in every memo entry by MARKER (key, token, artifact check and file stats kept)."""
    files = list(memo_dir(project).glob("*.marshal"))
    for path in files:
        entry = memo_file.read_entry(str(path))
        assert entry is not None, path
        key, tok, _text, check, stats, watch = entry
        path.write_bytes(memo_file.dump(key, tok, check, watch, MARKER.encode(), stats))
    return len(files)


def truth(project: Path, *args: str) -> Result:
    return run_main(project, *args, env={"SW_REGISTRY_READ_CACHE": "off"})


def read_all(project: Path) -> list[str]:
    outs = []
    for args in READS:
        r = run_main(project, *args)
        assert r.returncode == 0, r.stdout
        outs.append(r.stdout)
    return outs


def assert_fresh(project: Path) -> None:
    """Every read prints what it prints with the memo off (so nothing came from a planted entry)."""
    for args, out in zip(READS, read_all(project)):
        assert out != MARKER, f"{args[0]} answered from a stale memo"
        assert json.loads(out) == json.loads(truth(project, *args).stdout), args[0]


@pytest.fixture(params=[False, True], ids=["stats", "watcher"])
def watching(request: pytest.FixtureRequest, project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Each change test twice: the memo checking every file's stat, and a watcher (sw_registry/watcher) running
    from before the registry is built. With the watcher, the memo's stat check is made to say "changed", so a read
    answered from the memo was vouched for by the watcher alone, and each change must reach it."""
    if not request.param:
        yield False
        return
    monkeypatch.setattr(readcache, "_files_unchanged", lambda files: False)
    with running(project) as found:
        assert found["usable"] is True
        yield True


@pytest.fixture
def reg(project: Path, make_artifact: Callable[..., Path]) -> ModelRegistry:
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    return reg


def armed(project: Path) -> None:
    """Reads run once (keeping their outputs), and the memo is shown to answer them, then planted."""
    settle()
    read_all(project)
    assert plant(project) == len(READS)
    assert read_all(project) == [MARKER] * len(READS)


def test_an_unchanged_registry_is_answered_from_the_memo_with_the_same_bytes(project: Path, reg: ModelRegistry
                                                                              ) -> None:
    settle()
    first = [run_cli(project, *args) for args in READS]  # real processes: the console script's path
    again = [run_cli(project, *args) for args in READS]
    assert [r.stdout for r in again] == [r.stdout for r in first]
    assert all(r.returncode == 0 and r.stderr == "" for r in again)
    assert len(list(memo_dir(project).glob("*.marshal"))) == len(READS)
    assert git(project, "status", "--porcelain") == ""  # the memo lives in the ignored cache


def test_writes_and_git_commands_make_the_next_read_fresh(watching: bool, project: Path, reg: ModelRegistry,
                                                          make_artifact: Callable[..., Path]) -> None:
    armed(project)
    reg.register_model(NAME, str(make_artifact(b"three")), version="1.2.0")  # a registry write
    assert_fresh(project)

    armed(project)
    git(project, "checkout", "-q", "-b", "side")
    reg.promote_model(NAME, "1.1.0", to_stage="staging")
    armed(project)
    git(project, "checkout", "-q", "main")  # checkout: back to 1.0.0 in staging
    assert_fresh(project)
    assert json.loads(read_all(project)[2])["data"]["version"] == "1.0.0"

    armed(project)
    git(project, "merge", "-q", "--no-ff", "-m", "merge side", "side")  # merge
    assert_fresh(project)
    assert json.loads(read_all(project)[2])["data"]["version"] == "1.1.0"

    git(project, "checkout", "-q", "-b", "topic")
    reg.deprecate_model(NAME, "1.2.0", reason="superseded")
    git(project, "checkout", "-q", "main")
    (project / "notes.txt").write_text("unrelated\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "-q", "-m", "unrelated work on main")
    git(project, "checkout", "-q", "topic")
    armed(project)
    git(project, "rebase", "-q", "main")  # rebase: the same files, new commit ids in history
    assert_fresh(project)

    armed(project)
    git(project, "reset", "-q", "--hard", "HEAD~1")  # reset
    assert_fresh(project)


def test_a_hand_edit_in_place_is_seen_at_once_by_every_read(watching: bool, project: Path, reg: ModelRegistry) -> None:
    """Issue 10: a cache is stale after a hand edit, even one that leaves git's index and every folder alone."""
    path = project / MODELS / "m-v1.1.0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["metrics"] = {"accuracy": 0.5}
    armed(project)
    path.write_text(json.dumps(meta, indent=2) + "\n")  # in place: no folder listing or git file changes
    assert reg.info(NAME).to_dict()["versions"][1]["metrics"] == {"accuracy": 0.5}
    assert_fresh(project)  # the four memoised --json reads too, before any git add
    assert json.loads(read_all(project)[1])["data"]["versions"][1]["metrics"] == {"accuracy": 0.5}
    human = run_main(project, "registry-info", NAME, "--version", "1.1.0")
    assert "accuracy=0.5" in human.stdout

    armed(project)
    git(project, "checkout", "-q", "--", str(path))  # the edit goes away again: the restored file is seen too
    assert_fresh(project)
    assert json.loads(read_all(project)[1])["data"]["versions"][1]["metrics"] != {"accuracy": 0.5}

    armed(project)  # an in-place edit that keeps size and mtime still changes ctime
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace(b"1.1.0", b"1.1.0", 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert_fresh(project)


def test_a_metadata_file_removed_or_put_back_in_its_folder_is_seen(watching: bool, project: Path, reg: ModelRegistry
                                                                  ) -> None:
    """The memo keeps each models folder's version names and their metadata.json stats: a file removed from a
    version folder that stays (no change to the models folder) or put back with the same bytes is seen."""
    path = project / MODELS / "m-v1.1.0" / "metadata.json"
    data = path.read_bytes()
    armed(project)
    path.unlink()  # the version folder stays: only its own listing changes
    assert_fresh(project)
    assert [v["version"] for v in json.loads(read_all(project)[1])["data"]["versions"]] == ["1.0.0"]

    armed(project)
    path.write_bytes(data)  # the same bytes back: a new file
    assert_fresh(project)
    assert [v["version"] for v in json.loads(read_all(project)[1])["data"]["versions"]] == ["1.0.0", "1.1.0"]


def test_folder_changes_and_the_policy_file_make_the_next_read_fresh(watching: bool, project: Path,
                                                                     reg: ModelRegistry) -> None:
    armed(project)
    copy = project / MODELS / "m-v1.3.0"  # a version folder added by hand (not committed, not staged)
    shutil.copytree(project / MODELS / "m-v1.1.0", copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta.update(version="1.3.0", stage="dev")
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert_fresh(project)
    assert json.loads(read_all(project)[0])["data"]["models"][0]["latest"] == "1.3.0"
    shutil.rmtree(copy)

    reg.update_policy(NAME, owner="abc@example.com")
    armed(project)
    policy = project / ".specweave" / "registry.yaml"
    policy.write_text(policy.read_text().replace("abc@", "xyz@"))  # edited in place, same size
    assert_fresh(project)
    assert json.loads(read_all(project)[1])["data"]["owner"] == "xyz@example.com"

    armed(project)
    archive = project / ".specweave" / "increments" / "_archive"
    archive.mkdir()
    (project / ".specweave" / "increments" / INCREMENT).rename(archive / INCREMENT)  # SpecWeave archives it
    assert_fresh(project)


def test_an_entry_kept_before_a_watcher_started_takes_its_answer_after_one_stat_check(
    project: Path, reg: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries kept with no watcher running are checked by their stats once a watcher runs, and kept again with its
    answer, so the read after that skips the stats; a hand edit is still seen."""
    settle()
    expected = read_all(project)
    checks: list[int] = []
    real = readcache._files_unchanged
    monkeypatch.setattr(readcache, "_files_unchanged", lambda files: checks.append(1) or real(files))
    with running(project):
        assert read_all(project) == expected and len(checks) == len(READS)
        assert all(memo_file.read_entry(str(p))[5] for p in memo_dir(project).glob("*.marshal"))  # type: ignore[index]
        assert read_all(project) == expected and len(checks) == len(READS)  # on the watcher's word alone
        meta = project / MODELS / "m-v1.1.0" / "metadata.json"
        meta.write_bytes(meta.read_bytes().replace(b'"dev"', b'"DEV"', 1))
        assert_fresh(project)


def test_get_hashes_the_artifact_again_before_answering_from_the_memo(project: Path, reg: ModelRegistry) -> None:
    settle()
    args = ("registry-get", NAME, "--stage", "staging", "--json")
    assert run_main(project, *args).returncode == 0
    assert run_main(project, *args).returncode == 0  # from the memo
    artifact = project / MODELS / "m-v1.0.0" / "model.pkl"
    artifact.write_bytes(b"ONE")  # same size, other bytes, in place: no folder or git change
    r = run_cli(project, *args)
    assert (r.returncode, r.json["error"]["code"]) == (4, "integrity")
    assert r.stderr == ""


@pytest.mark.parametrize("case", ["rev", "human", "date", "no git", "racy", "off"])
def test_what_the_memo_never_keeps(project: Path, reg: ModelRegistry, case: str, monkeypatch: pytest.MonkeyPatch
                                   ) -> None:
    args: tuple[Any, ...] = ("registry-info", NAME, "--json")
    if case == "date":
        reg.promote_model(NAME, "1.0.0", to_stage="production")
        args = ("registry-get", NAME, "--date", "2999-01-01", "--json")
    settle()
    if case == "rev":
        args = (*args, "--rev", "HEAD")
    elif case == "human":
        args = ("registry-info", NAME)
    elif case == "no git":
        shutil.rmtree(project / ".git")
    elif case == "racy":
        monkeypatch.setattr(readcache, "RACY_NS", 10**18)
    elif case == "off":
        monkeypatch.setenv("SW_REGISTRY_READ_CACHE", "off")
    for _ in range(2):
        assert run_main(project, *args).returncode == 0
    assert not memo_dir(project).exists()


def test_a_failed_read_keeps_nothing_and_leaves_nothing_pending(project: Path, reg: ModelRegistry) -> None:
    settle()
    r = run_main(project, "registry-info", "no-such-model", "--json")
    assert r.returncode == 3
    assert readcache._pending is None
    assert run_main(project, "registry-promote", NAME, "1.1.0", "--to", "staging", "--json").returncode == 0
    assert not memo_dir(project).exists()


def test_the_root_is_found_as_the_full_path_finds_it(project: Path, reg: ModelRegistry, tmp_path: Path) -> None:
    settle()
    inside = project / ".specweave" / "increments"
    link = tmp_path / "link"
    link.symlink_to(project)
    expected = truth(project, "registry-get", NAME, "--version", "1.0.0", "--json").stdout
    for cwd, extra in ((inside, ()), (tmp_path, ("--root", str(link))), (tmp_path, ("--root", "link"))):
        for _ in range(2):
            r = run_main(cwd, "registry-get", NAME, "--stage", "production", "--json", *extra)
            assert r.returncode == 3  # nothing in production
            r = run_main(cwd, "registry-get", NAME, "--json", "--version", "1.0.0", *extra)
            assert r.returncode == 0
            assert json.loads(r.stdout)["data"]["path"] == json.loads(expected)["data"]["path"]


def test_an_unusable_root_is_left_to_the_command(project: Path, reg: ModelRegistry) -> None:
    for root in ("bad\0root", "\udcff"):
        r = run_main(project, "registry-info", NAME, "--json", "--root", root)
        assert r.returncode in (2, 3), r.stdout
        assert json.loads(r.stdout)["ok"] is False
        assert readcache._pending is None


def test_json_from_the_environment_shares_the_memo_of_json_from_the_option(project: Path, reg: ModelRegistry
                                                                           ) -> None:
    armed(project)
    r = run_main(project, "registry-info", NAME, env={"SW_REGISTRY_JSON": "1"})
    assert r.stdout == MARKER  # the same document either way, so the same entry
    r = run_main(project, "registry-history", NAME, "--format", "json")
    assert json.loads(r.stdout)["data"]["name"] == NAME  # another line (--format json): its own entry


def test_with_many_files_a_forked_child_stats_half_and_an_edit_in_either_half_is_seen(
    project: Path, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``FORK_MIN_FILES`` metadata files (4,000), a memo hit's stat pass is split in two, the second half of the
    folders stat'ed by a forked child (``forks.all_in_two``). Here the limit is lowered to 1 and the versions spread
    over two increments, so each half holds one folder: an edit in place in either half is seen. (The test process
    may run threads of other tests, which would make ``forks.can_fork`` say no: its rule is tested on its own.)"""
    from sw_registry.layout import Layout
    from sw_registry.store import forks

    layout = Layout(project)
    other = "0002-second"
    (layout.increments_dir / other).mkdir()
    (layout.increments_dir / other / "spec.md").write_text("# second\n")
    reg = ModelRegistry(root=project)
    for i, inc in enumerate((INCREMENT, other, INCREMENT, other)):
        reg.register_model(NAME, str(make_artifact(f"v{i}".encode())), version=f"1.0.{i}", increment=inc)
    reg.promote_model(NAME, "1.0.3", to_stage="staging")
    monkeypatch.setattr(readcache, "FORK_MIN_FILES", 1)
    monkeypatch.setattr(forks, "can_fork", lambda n_items, minimum: n_items >= minimum)
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    settle()
    read_all(project)
    assert plant(project) == len(READS)
    forked.clear()
    assert read_all(project) == [MARKER] * len(READS)  # every hit checked in two halves
    assert len(forked) == len(READS)
    for folder in (project / MODELS / "m-v1.0.0", layout.increments_dir / other / "models" / "m-v1.0.1"):
        meta = folder / "metadata.json"
        data = meta.read_bytes()
        meta.write_bytes(data.replace(b'"dev"', b'"DEV"', 1))  # in place: same inode, same size
        assert run_main(project, "registry-list", "--json").stdout != MARKER  # seen, whichever half holds it
        meta.write_bytes(data)
        settle()
        read_all(project)
        plant(project)


def test_a_second_process_is_used_only_with_enough_files_a_second_core_and_no_other_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``forks.can_fork``: a fork copies only the calling thread (a lock another thread held would stay held in the
    child), so it says no while another thread runs; and below the minimum, or on one core."""
    import subprocess
    import sys
    import threading

    from sw_registry.store import forks

    alone = "import os; os.cpu_count = lambda: 2; from sw_registry.store import forks; print(forks.can_fork(10, 10))"
    assert subprocess.run([sys.executable, "-c", alone], capture_output=True, text=True).stdout == "True\n"
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert not forks.can_fork(9, 10)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert not forks.can_fork(10, 10)
    finally:
        release.set()
        other.join()
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not forks.can_fork(10, 10)
    assert forks.halves([1, 2, 3, 4], lambda n: 1) == 2 and forks.halves([5, 1, 1, 1, 1], lambda n: n) == 1
    assert forks.all_in_two([1, 2, 3, 4], lambda n: 1, lambda part: sum(part) < 100)
    assert not forks.all_in_two([1, 2, 3, 400], lambda n: 1, lambda part: sum(part) < 100)  # the child's half
    assert not forks.all_in_two([400, 2, 3, 4], lambda n: 1, lambda part: sum(part) < 100)  # this process's half


def test_map_in_two_gives_what_one_process_gives_with_the_second_half_from_a_child() -> None:
    """``forks.map_in_two``: the second half (by weight) is worked by a forked child, whose list comes back in order;
    a child whose work fails has its half done again here; one item is worked here alone."""
    from sw_registry.store import forks

    me = os.getpid()

    def where(part: Any) -> list[tuple[int, bool]]:
        return [(n, os.getpid() == me) for n in part]

    got = forks.map_in_two(list(range(6)), lambda n: 1, where)
    assert [n for n, _ in got] == list(range(6))
    assert [here for _, here in got] == [True] * 3 + [False] * 3  # the child did the second half

    def fails_in_a_child(part: Any) -> list[tuple[int, bool]]:
        if os.getpid() != me:
            raise OSError("a folder the child could not open")
        return where(part)

    assert forks.map_in_two(list(range(6)), lambda n: 1, fails_in_a_child) == [(n, True) for n in range(6)]
    assert forks.map_in_two([7], lambda n: 1, where) == [(7, True)]


def test_a_memo_miss_with_many_files_takes_its_stats_in_two_processes_as_in_one(
    project: Path, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``FORK_MIN_FILES`` files, a read the memo misses takes the stats it keeps in two processes
    (``forks.map_in_two``): the same stats as in one, and the memo it keeps answers the next read."""
    from sw_registry.layout import Layout
    from sw_registry.store import forks

    layout = Layout(project)
    other = "0002-second"
    (layout.increments_dir / other).mkdir()
    (layout.increments_dir / other / "spec.md").write_text("# second\n")
    reg = ModelRegistry(root=project)
    for i, inc in enumerate((INCREMENT, other, INCREMENT)):
        reg.register_model(NAME, str(make_artifact(f"v{i}".encode())), version=f"1.0.{i}", increment=inc)
    models = sorted(str(p) for p in layout.increments_dir.glob("*/models"))
    alone = readcache.version_files(models, None)
    monkeypatch.setattr(readcache, "FORK_MIN_FILES", 1)
    monkeypatch.setattr(forks, "can_fork", lambda n_items, minimum: n_items >= minimum)
    halves: list[int] = []
    real = forks.map_in_two
    monkeypatch.setattr(forks, "map_in_two", lambda *a: halves.append(1) or real(*a))
    assert readcache.version_files(models, None) == alone and halves == [1]
    settle()
    first = run_main(project, "registry-list", "--json").stdout
    assert plant(project) == 1 and len(halves) == 2
    assert run_main(project, "registry-list", "--json").stdout == MARKER
    assert json.loads(first)["data"]


def test_a_memo_file_of_another_shape_is_a_miss_not_a_crash(project: Path, make_artifact) -> None:
    """A memo entry whose stat list or artifact check is not what a read writes (damaged, or written by hand) makes
    the read run the command again, with its true answer and exit 0."""
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    settle()
    expected = read_all(project)
    bad: list[tuple[Any, Any]] = [
        (marshal.dumps((("folder", 7, ()),)), None), (marshal.dumps((1, 2)), None), (b"\xff not marshal", None),
        (None, ("only", "two")),
    ]
    kept = {path: memo_file.read_entry(str(path)) for path in memo_dir(project).glob("*.marshal")}
    for bad_files, bad_check in bad:
        for path, entry in kept.items():
            assert entry is not None
            key, tok, _text, check, files, watch = entry
            path.write_bytes(memo_file.dump(key, tok, check if bad_check is None else bad_check, watch,
                                            MARKER.encode(), files if bad_files is None else bad_files))
        assert read_all(project) == expected
    # files that are not laid out as the memo writes them: cut short, another format's, a header that lies
    whole = {path: memo_file.dump(e[0], e[1], e[3], e[5], MARKER.encode(), e[4]) for path, e in kept.items() if e}
    for damage in (lambda b: b[: len(b) - 1], lambda b: b[:6], lambda b: b"swm5" + b[4:], lambda b: b + b"x",
                   lambda b: b[:4] + (10**6).to_bytes(4, "little") + b[8:], lambda b: b"",
                   lambda b: marshal.dumps(("k", (), b"text", None, b"", None))):
        for path, data in whole.items():
            path.write_bytes(damage(data))
        assert read_all(project) == expected
