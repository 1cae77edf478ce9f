"""The opt-in watcher (sw_registry/watcher): its commands and exit codes, when it stops, when it cannot vouch for
the registry's files, and that what it says moves with every change it must see. Real processes and real inotify
events throughout; the only fed event is a queue overflow, which cannot be caused here without a system setting."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from sw_registry.store import watch_client
from sw_registry.watcher import inotify
from sw_registry.watcher.tree import Tree
from tests.conftest import INCREMENT, git, make_project, run_cli
from tests.watching import gone, running, status, watcher

NAME = "m"


@pytest.fixture
def reg(project: Path, make_artifact: Callable[..., Path]) -> ModelRegistry:
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    return reg


def version_dir(project: Path, version: str = "1.0.0") -> Path:
    return project / ".specweave" / "increments" / INCREMENT / "models" / f"{NAME}-v{version}"


def test_start_status_and_stop_from_the_command_line(project: Path, reg: ModelRegistry) -> None:
    assert status(project) == {"root": str(project.resolve()), "running": False}
    with running(project) as first:
        assert first["started"] is True and first["usable"] is True and first["reason"] is None
        assert first["folders"] == 6  # the project, .specweave, increments, the increment, models/, one version
        again = json.loads(watcher(project, "start", "--json").stdout)["data"]
        assert again["started"] is False and again["pid"] == first["pid"]  # one watcher a project
        assert again["idle_timeout"] == 8 * 3600
        other = watcher(project, "start", "--idle-timeout", "60", "--json")  # not silently kept at 8 hours
        assert other.returncode == 5 and json.loads(other.stdout)["error"]["code"] == "already_exists"
        assert (project / watch_client.MARKER).read_text().strip() == str(first["pid"])
        human = watcher(project, "status")
        assert human.returncode == 0 and f"pid {first['pid']}" in human.stdout
        r = watcher(project, "run")  # a second watcher of the same folder is refused
        assert r.returncode == 5 and "already running" in r.stderr
        stop = json.loads(watcher(project, "stop", "--json").stdout)["data"]
        assert stop == {"root": str(project.resolve()), "running": False, "stopped": True}
        assert gone(first["pid"])
    assert not (project / watch_client.MARKER).exists()
    assert git(project, "status", "--porcelain") == ""  # its marker and log live in the ignored cache
    assert "no watcher" in watcher(project, "stop").stdout
    assert watch_client.state(str(project.resolve())) is None


@pytest.mark.parametrize(("args", "code", "exit_code"), [
    (("restart", "--json"), "usage", 2),
    (("start", "--idle-timeout", "soon", "--json"), "usage", 2),
    (("start", "--idle-timeout=-1", "--json"), "usage", 2),
    (("start", "--idle-timeout", "inf", "--json"), "usage", 2),
    (("run", "--idle-timeout", "nan", "--json"), "usage", 2),
    (("status", "--json", "--root"), "usage", 2),
    (("status", "--verbose", "--json"), "usage", 2),
    (("stop", "--idle-timeout", "5", "--json"), "usage", 2),
])
def test_a_wrong_command_line_is_a_usage_error(project: Path, args: tuple[str, ...], code: str, exit_code: int
                                              ) -> None:
    r = watcher(project, *args)
    assert r.returncode == exit_code and r.stderr == ""
    assert json.loads(r.stdout)["error"]["code"] == code


def test_a_watcher_that_cannot_start_says_why(project: Path, reg: ModelRegistry) -> None:
    """Another process holds the socket's name and never answers: ``start`` waits for no answer, its child is
    refused the name, and the error says what the child said (exit 2, config_error), with the log's path."""
    import socket

    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        name = watch_client.socket_name(str(project.resolve()))
        assert name is not None
        squatter.bind(name)
        squatter.listen(1)
        r = watcher(project, "start", "--json")
        assert r.returncode == 2, r.stdout
        err = json.loads(r.stdout)["error"]
        assert err["code"] == "config_error" and "already running" in err["message"]
        assert "watcher.log" in err["hint"]
        assert watch_client.state(str(project.resolve())) is None
    finally:
        squatter.close()


def test_a_folder_without_a_registry_is_not_found(tmp_path: Path) -> None:
    r = watcher(tmp_path, "start", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["error"]["code"] == "not_found"
    assert not (tmp_path / ".specweave").exists()  # nothing written


def test_every_change_to_a_version_folder_moves_the_answer_and_a_spec_edit_does_not(
    project: Path, reg: ModelRegistry, make_artifact: Callable[..., Path]
) -> None:
    root = str(project.resolve())
    with running(project):
        seen = [watch_client.state(root)]

        def moved() -> bool:
            seen.append(watch_client.state(root))
            return seen[-1] != seen[-2]

        meta = version_dir(project) / "metadata.json"
        (project / ".specweave" / "increments" / INCREMENT / "spec.md").write_text("# edited\n")
        assert not moved() and seen[-1] is not None
        meta.write_bytes(meta.read_bytes())  # in place, the same bytes
        assert moved()
        st = meta.stat()
        os.utime(meta, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))  # only the times
        assert moved()
        reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")  # a folder made after the start
        assert moved()
        new_meta = version_dir(project, "1.1.0") / "metadata.json"
        new_meta.write_bytes(new_meta.read_bytes() + b" ")  # inside that new folder: watched too
        assert moved()
        shutil.rmtree(version_dir(project, "1.1.0"))
        assert moved()
        archive = project / ".specweave" / "increments" / "_archive"
        archive.mkdir()
        assert moved()
        (project / ".specweave" / "increments" / INCREMENT).rename(archive / INCREMENT)
        assert moved()
        moved_meta = archive / INCREMENT / "models" / f"{NAME}-v1.0.0" / "metadata.json"
        moved_meta.write_bytes(moved_meta.read_bytes())  # the moved folder, watched where it is now
        assert moved()
        assert status(project)["folders"] == 7  # _archive too; the moved folders once each


def test_a_version_folder_linked_from_elsewhere_is_watched_where_it_points(
    project: Path, reg: ModelRegistry, tmp_path: Path
) -> None:
    """A version folder may be a symbolic link to a folder (the memo follows it): one linked in after the start is
    watched at its target, so a change made there moves the answer too."""
    root = str(project.resolve())
    target = tmp_path / "outside" / f"{NAME}-v1.1.0"
    shutil.copytree(version_dir(project), target)
    with running(project):
        before = watch_client.state(root)
        version_dir(project, "1.1.0").symlink_to(target, target_is_directory=True)
        linked = watch_client.state(root)
        assert linked != before
        (target / "metadata.json").write_bytes((target / "metadata.json").read_bytes())
        assert watch_client.state(root) not in (linked, None)


def test_a_replaced_specweave_folder_stops_it(project: Path, reg: ModelRegistry) -> None:
    """Moving .specweave aside and putting a copy in its place leaves the watched folders where nobody reads them:
    the watcher stops rather than vouch for the copy, and reads check every file again."""
    with running(project) as found:
        (project / ".specweave").rename(project / ".specweave-old")
        shutil.copytree(project / ".specweave-old", project / ".specweave")
        assert gone(found["pid"])
    assert watch_client.state(str(project.resolve())) is None


def test_a_linked_metadata_file_makes_it_stand_aside(project: Path, reg: ModelRegistry, tmp_path: Path) -> None:
    """A metadata.json that is a symbolic link, or has a second hard link, can change without an event in its
    version folder: the watcher says it cannot vouch, and the memo checks every file (still exact)."""
    meta = version_dir(project) / "metadata.json"
    elsewhere = tmp_path / "elsewhere.json"
    os.link(meta, elsewhere)
    with running(project) as found:
        assert found["usable"] is False and "hard links" in found["reason"]
        assert watch_client.state(str(project.resolve())) is None
    elsewhere.unlink()
    with running(project) as found:
        assert found["usable"] is True
        shutil.move(meta, elsewhere)
        meta.symlink_to(elsewhere)
        after = status(project)
        assert after["usable"] is False and "symbolic link" in after["reason"]


def test_a_folder_on_a_file_system_not_known_to_be_local_makes_it_stand_aside(
        project: Path, reg: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    """statfs of the test's own folder is asked for real; an nfs (0x6969) or FUSE (0x65735546) answer is fed (and
    no answer), since neither can be mounted here: on them a change made elsewhere raises no event."""
    assert inotify.fs_type(str(project)) in inotify.LOCAL_FILE_SYSTEMS
    real = inotify.fs_type
    for foreign, said in ((0x6969, "0x6969"), (0x65735546, "0x65735546"), (None, "an unknown")):
        monkeypatch.setattr(inotify, "fs_type", lambda path, kind=foreign: kind)
        tree = Tree(str(project.resolve()))
        try:
            assert tree.reason is not None and "not one known to be local" in tree.reason and said in tree.reason
            assert tree.state == "-"
        finally:
            tree.close()
    monkeypatch.setattr(inotify, "fs_type", real)
    tree = Tree(str(project.resolve()))
    try:
        assert tree.reason is None
    finally:
        tree.close()


def test_it_stops_when_the_registry_goes_or_its_marker_is_removed_or_it_idles(project: Path, reg: ModelRegistry
                                                                                ) -> None:
    with running(project) as found:
        (project / watch_client.MARKER).unlink()
        assert gone(found["pid"])
    with running(project, "--idle-timeout", "0.2") as found:
        assert gone(found["pid"])
    log = (project / ".specweave" / "cache" / "sw-registry" / "watcher.log").read_text()
    assert "its marker file was removed" in log and "no request for 0.2 s" in log  # why each stopped
    with running(project) as found:
        shutil.rmtree(project / ".specweave" / "increments")
        assert gone(found["pid"])


def test_a_killed_watcher_leaves_reads_exact_and_a_new_one_starts(project: Path, reg: ModelRegistry) -> None:
    """kill -9 leaves the marker behind: reads find no answer and check every file; ``start`` starts a new one."""
    root = str(project.resolve())
    with running(project) as found:
        time.sleep(0.1)  # past the memo's racy window: the next read keeps its output, with the watcher's answer
        assert run_cli(project, "registry-list", "--json").json["data"]["models"][0]["staging"] is None
        os.kill(found["pid"], 9)
        assert gone(found["pid"])
        assert (project / watch_client.MARKER).exists() and watch_client.state(root) is None
        assert status(project)["running"] is False
        meta = version_dir(project) / "metadata.json"
        text = meta.read_text()
        assert '"stage": "dev"' in text
        meta.write_text(text.replace('"stage": "dev"', '"stage": "staging"'))  # a hand edit in place, unwatched now
        assert run_cli(project, "registry-list", "--json").json["data"]["models"][0]["staging"] == "1.0.0"
        with running(project) as second:
            assert second["started"] is True and second["pid"] != found["pid"]
            assert watch_client.state(root) is not None


def test_a_project_path_longer_than_a_socket_path_is_watched(tmp_path: Path, make_artifact: Callable[..., Path]
                                                            ) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "project"
    deep.mkdir(parents=True)
    make_project(deep)
    ModelRegistry(root=deep).register_model(NAME, str(make_artifact(b"x")), version="1.0.0")
    with running(deep) as found:
        assert found["root"] == str(deep.resolve()) and found["usable"] is True
        assert watch_client.state(str(deep.resolve())) is not None


def test_a_queue_overflow_gives_a_new_epoch_and_a_fresh_scan(project: Path, reg: ModelRegistry,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    tree = Tree(str(project.resolve()))
    try:
        before, folders = tree.state, len(tree.folders)
        real = tree.events.read
        monkeypatch.setattr(tree.events, "read", lambda: [(-1, inotify.Q_OVERFLOW, ""), *real()])
        tree.take_in()
        assert tree.state.split(":")[0] != before.split(":")[0] and len(tree.folders) == folders
    finally:
        tree.close()


def test_a_marker_on_a_system_without_peer_credentials_is_no_watcher(project: Path, reg: ModelRegistry,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A marker file that reached a machine where the watcher cannot run (a folder synced from Linux to macOS):
    reads ask nothing and check every file."""
    import _socket

    with running(project):
        root = str(project.resolve())
        assert watch_client.state(root) is not None
        monkeypatch.delattr(_socket, "SO_PEERCRED")
        assert watch_client.state(root) is None
