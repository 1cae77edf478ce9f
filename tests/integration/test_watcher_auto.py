"""A watcher started by a read (store/watch_start.py, SW_REGISTRY_WATCHER): when a read starts one and when it
does not, that the read neither waits for it nor hands it its output pipe, that the reads after it skip their stats,
that one which cannot vouch for the files stops and holds off the next start, and that a bad setting is refused.
Real CLI processes and real watcher processes; each test stops what it started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from sw_registry.store import memo_file, watch_client, watch_start
from tests.conftest import INCREMENT, git, run_cli
from tests.watching import gone, watcher

NAME = "m"


@pytest.fixture
def reg(project: Path, make_artifact: Callable[..., Path]) -> ModelRegistry:
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    time.sleep(0.06)  # past the read memo's racy window (readcache.RACY_NS), so the reads here are kept
    return reg


@pytest.fixture
def stopped(project: Path) -> Iterator[None]:
    """Whatever watcher a test's reads started is stopped, and gone, afterwards."""
    yield
    found = watcher(project, "status", "--json")
    pid = json.loads(found.stdout)["data"].get("pid") if found.returncode == 0 else None
    watcher(project, "stop")
    if pid is not None and not gone(int(pid), 10):
        os.kill(int(pid), 9)


def read(project: Path, setting: str) -> subprocess.CompletedProcess[str]:
    """``registry-list --json`` as a CI script runs it: its output captured through pipes, with a timeout, so a
    watcher that kept the pipe open would fail the test rather than go unseen."""
    env = {k: v for k, v in os.environ.items() if k not in watch_start.CI_VARIABLES}
    env["SW_REGISTRY_WATCHER"] = setting
    return subprocess.run([sys.executable, "-m", "sw_registry", "registry-list", "--json"], cwd=project,
                          capture_output=True, text=True, env=env, timeout=60)


def status_when_up(project: Path, within: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        data = json.loads(watcher(project, "status", "--json").stdout)["data"]
        if data["running"]:
            return data
        time.sleep(0.1)
    raise AssertionError(f"no watcher answered; its log: {log_text(project)}")


def log_text(project: Path) -> str:
    log = project / ".specweave/cache/sw-registry/watcher.log"
    return log.read_text() if log.exists() else ""


def hold_off_left(project: Path) -> float:
    """Seconds until the next automatic start may happen (negative: it may now)."""
    return (project / watch_start.NOT_BEFORE).stat().st_mtime - time.time()


def copy_versions(project: Path, count: int) -> None:
    """``count`` more versions of NAME, as hand-copied folders with their metadata.json's version changed."""
    models = project / ".specweave" / "increments" / INCREMENT / "models"
    first = models / f"{NAME}-v1.0.0"
    meta = json.loads((first / "metadata.json").read_text())
    for i in range(1, count + 1):
        folder = models / f"{NAME}-v2.{i // 100}.{i % 100}"
        folder.mkdir()
        for item in first.iterdir():
            if item.name != "metadata.json":
                os.link(item, folder / item.name)
        (folder / "metadata.json").write_text(json.dumps({**meta, "version": f"2.{i // 100}.{i % 100}"}))


def test_the_setting_and_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SW_REGISTRY_WATCHER")
    for name in watch_start.CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert watch_start.mode() == "auto"
    assert not watch_start.wanted(watch_client.AUTO_MIN_FILES - 1) and watch_start.wanted(watch_client.AUTO_MIN_FILES)
    for name in ("CI", "TF_BUILD"):
        for ci, expected in (("true", "off"), ("True", "off"), ("1", "off"), ("false", "auto"), ("0", "auto")):
            monkeypatch.setenv(name, ci)
            assert watch_start.mode() == expected, (name, ci)
        monkeypatch.delenv(name)
    monkeypatch.setenv("JENKINS_URL", "http://jenkins.internal/")
    assert watch_start.mode() == "off"
    monkeypatch.setenv("SW_REGISTRY_WATCHER", "auto")  # said explicitly, it holds in CI too
    assert watch_start.mode() == "auto"
    for value, expected in (("on", "on"), ("ON", "on"), ("1", "on"), ("off", "off"), ("false", "off")):
        monkeypatch.setenv("SW_REGISTRY_WATCHER", value)
        assert watch_start.mode() == expected
        assert watch_start.wanted(1) is (expected == "on")
    monkeypatch.setenv("SW_REGISTRY_WATCHER", "sometimes")
    with pytest.raises(ValueError, match="auto, on or off"):
        watch_start.mode()


def test_a_bad_setting_is_refused_by_every_command(project: Path, reg: ModelRegistry,
                                                   make_artifact: Callable[..., Path]) -> None:
    env = {"SW_REGISTRY_WATCHER": "sometimes"}
    for args in (("registry-list", "--json"), ("registry-info", NAME, "--json"),
                 ("registry-register", NAME, "--artifact", str(make_artifact(b"two")), "--json")):
        r = run_cli(project, *args, env=env)
        assert r.returncode == 2 and r.stderr == "", args
        error = json.loads(r.stdout)["error"]
        assert error["code"] == "usage" and "SW_REGISTRY_WATCHER" in error["message"] and error["hint"]
    assert len(ModelRegistry(root=project).list_versions(model=NAME)) == 1  # the register was refused before any write
    own = subprocess.run([sys.executable, "-m", "sw_registry.watcher", "status", "--json"], cwd=project,
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    assert own.returncode == 2 and json.loads(own.stdout)["error"]["code"] == "usage"  # the watcher's own funnel
    human = run_cli(project, "registry-list", env=env)
    assert human.returncode == 2 and "SW_REGISTRY_WATCHER" in human.stderr and "Traceback" not in human.stderr


def test_on_starts_a_watcher_that_the_next_reads_use(project: Path, reg: ModelRegistry, stopped: None) -> None:
    began = time.monotonic()
    first = read(project, "on")
    assert first.returncode == 0, first.stdout + first.stderr
    assert time.monotonic() - began < 30  # returned while the watcher runs: it did not keep the read's pipes
    up = status_when_up(project)
    assert up["started_by"] == "a read" and up["usable"] is True and up["idle_timeout"] == 8 * 3600
    assert 590 < hold_off_left(project) <= 600
    # the next read keeps the watcher's answer with the memo; the one after is answered without a stat
    assert read(project, "on").stdout == first.stdout
    memo = next((project / ".specweave/cache/sw-registry/reads").iterdir())
    kept = memo_file.read_entry(str(memo))
    assert kept is not None and kept[5] == watch_client.state(str(project.resolve()))
    # and it still sees a hand edit at once
    meta = project / ".specweave" / "increments" / INCREMENT / "models" / f"{NAME}-v1.0.0" / "metadata.json"
    time.sleep(0.06)  # past the memo's racy window
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps({**data, "owner": "carol@example.com", "stage": "staging"}))
    after = json.loads(read(project, "on").stdout)["data"]["models"][0]
    assert after["staging"] == "1.0.0"
    assert git(project, "status", "--porcelain") == " M " + str(meta.relative_to(project)) + "\n"  # not its files


def test_auto_starts_one_for_a_big_registry_only(project: Path, reg: ModelRegistry, stopped: None) -> None:
    for _ in range(3):
        assert read(project, "auto").returncode == 0
    assert not (project / watch_start.NOT_BEFORE).exists() and not (project / watch_client.MARKER).exists()
    copy_versions(project, watch_client.AUTO_MIN_FILES - 1)  # now AUTO_MIN_FILES version folders
    time.sleep(0.06)
    for _ in range(2):
        r = read(project, "auto")
        assert r.returncode == 0 and len(json.loads(r.stdout)["data"]["models"]) == 1, r.stdout
    assert status_when_up(project)["started_by"] == "a read"


@pytest.mark.parametrize("setting", ["off", ""])
def test_off_and_the_ci_default_start_none(project: Path, reg: ModelRegistry, setting: str, stopped: None) -> None:
    """With as many version files as make ``auto`` start one (test_auto_starts_one_for_a_big_registry_only)."""
    copy_versions(project, watch_client.AUTO_MIN_FILES - 1)
    time.sleep(0.06)
    env = {**os.environ, "SW_REGISTRY_WATCHER": setting, "CI": "true"}
    for _ in range(3):
        r = subprocess.run([sys.executable, "-m", "sw_registry", "registry-list", "--json"], cwd=project,
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0
    assert not (project / watch_start.NOT_BEFORE).exists() and not (project / watch_client.MARKER).exists()


def test_a_hand_started_watcher_is_used_whatever_the_setting(project: Path, reg: ModelRegistry,
                                                             stopped: None) -> None:
    r = watcher(project, "start", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["data"]["started_by"] == "hand"
    for _ in range(3):
        assert read(project, "off").returncode == 0
    memo = next((project / ".specweave/cache/sw-registry/reads").iterdir())
    kept = memo_file.read_entry(str(memo))
    assert kept is not None and kept[5] == watch_client.state(str(project.resolve()))


def test_one_that_cannot_vouch_stops_and_holds_off_for_a_day(project: Path, reg: ModelRegistry,
                                                             tmp_path: Path, stopped: None) -> None:
    meta = project / ".specweave" / "increments" / INCREMENT / "models" / f"{NAME}-v1.0.0" / "metadata.json"
    os.link(meta, tmp_path / "backup-metadata.json")  # a second name the watcher would not see changed
    read(project, "on")
    read(project, "on")
    deadline = time.monotonic() + 30
    while "cannot vouch" not in log_text(project) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "hard links" in log_text(project)
    assert not json.loads(watcher(project, "status", "--json").stdout)["data"]["running"]
    assert hold_off_left(project) > 86000
    before = log_text(project)
    for _ in range(2):
        assert read(project, "on").returncode == 0
    time.sleep(1)
    assert log_text(project) == before  # no second try before the day is out
    assert not (project / watch_client.MARKER).exists()


def test_a_killed_watcher_is_started_again_once_the_hold_off_is_past(project: Path, reg: ModelRegistry,
                                                                     stopped: None) -> None:
    read(project, "on")
    read(project, "on")
    pid = int(str(status_when_up(project)["pid"]))
    os.kill(pid, 9)
    assert gone(pid)
    assert (project / watch_client.MARKER).exists()  # kill -9: the marker stays behind
    assert read(project, "on").returncode == 0  # the stale marker is no watcher, and the hold-off is not past
    time.sleep(0.5)
    assert not json.loads(watcher(project, "status", "--json").stdout)["data"]["running"]
    past = time.time() - 1
    os.utime(project / watch_start.NOT_BEFORE, (past, past))
    assert read(project, "on").returncode == 0
    assert int(str(status_when_up(project)["pid"])) != pid
