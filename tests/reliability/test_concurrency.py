"""Concurrent writers (SPEC §8): they serialise on one lock, re-read state after taking it, and all land."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git

WRITERS = 8  # SPEC §8: "so 8 writers at once all land"
CATALOG = f".specweave/increments/{INCREMENT}/registry/model_catalog.yaml"


def start_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sw_registry", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, dict, str]]:
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append((p.returncode, json.loads(stdout) if stdout.strip() else {}, stderr))
    return out


def register_commits(project: Path) -> list[str]:
    log = git(project, "log", "--format=%(trailers:key=Registry-Version,valueonly)%x00",
              "--grep=Registry-Event: register")
    return [v.strip() for v in log.split("\0") if v.strip()]


def test_concurrent_writers_all_land_as_separate_commits(project: Path, tmp_path: Path) -> None:
    arts = []
    for i in range(WRITERS):
        art = tmp_path / f"a{i}" / "model.pkl"
        art.parent.mkdir()
        art.write_bytes(f"weights {i}".encode())
        arts.append(art)
    head = git(project, "rev-parse", "HEAD").strip()
    procs = [start_cli(project, "registry-register", "fraud-model", "--artifact", str(arts[i]),
                       "--version", f"1.{i}.0", "--json") for i in range(WRITERS)]
    results = finish(procs)
    assert [(code, doc.get("ok"), err) for code, doc, err in results] == [(0, True, "")] * WRITERS, results
    commits = [doc["data"]["commit"] for _, doc, _ in results]
    assert len(set(commits)) == WRITERS
    # one linear chain of WRITERS commits on top of the old head, each one register
    chain = git(project, "rev-list", f"{head}..HEAD").split()
    assert sorted(chain) == sorted(commits)
    assert git(project, "rev-list", "--merges", f"{head}..HEAD") == ""
    assert sorted(register_commits(project)) == sorted(f"1.{i}.0" for i in range(WRITERS))
    # every write re-read state under the lock: the derived catalog lists every version, seqs are unique
    catalog = yaml.safe_load((project / CATALOG).read_text())
    assert sorted(v["version"] for v in catalog["models"]["fraud-model"]) == sorted(f"1.{i}.0" for i in range(WRITERS))
    seqs = sorted(doc["data"]["stage_history"][0]["seq"] for _, doc, _ in results)
    assert seqs == list(range(1, WRITERS + 1))
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=project, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr


def test_concurrent_bumps_get_distinct_versions(project: Path, tmp_path: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    procs = [start_cli(project, "registry-register", "m", "--artifact", str(make_artifact(f"w{i}".encode())),
                       "--bump", "patch", "--json") for i in range(4)]
    results = finish(procs)
    assert [code for code, _, _ in results] == [0] * 4, results
    versions = sorted(doc["data"]["version"] for _, doc, _ in results)
    assert versions == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sw_registry.gitops import open_repo, write_lock

    with write_lock(open_repo(Path(sys.argv[1]))):
        print("held", flush=True)
        time.sleep(60)
""")


@pytest.fixture
def lock_holder(project: Path) -> Iterator[subprocess.Popen[str]]:
    """A helper process holding the registry write lock until the test ends."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(project)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.strip() == "held", proc.stderr.read() if proc.stderr else ""
        yield proc
    finally:
        proc.kill()
        proc.communicate()


def test_a_write_that_cannot_get_the_lock_is_locked_naming_the_holder(cli, project: Path, make_artifact,
                                                                    lock_holder: subprocess.Popen[str]) -> None:
    head = git(project, "rev-parse", "HEAD")
    r = cli("registry-register", "m", "--artifact", str(make_artifact()), "--json",
            env={"SW_REGISTRY_LOCK_TIMEOUT": "1"})
    assert r.returncode == 5, r.stdout + r.stderr
    assert r.stderr == ""
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "locked"
    assert str(lock_holder.pid) in err["message"]
    assert git(project, "rev-parse", "HEAD") == head
    assert not (project / ".specweave" / "increments" / INCREMENT / "models").exists()


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_lock_timeout_that_is_not_a_number_of_seconds_is_refused(cli, project: Path, make_artifact,
                                                                   value: str) -> None:
    """It fell back to 30 s unsaid (and NaN waited forever); now the write is refused before it touches anything."""
    head = git(project, "rev-parse", "HEAD")
    r = cli("registry-register", "m", "--artifact", str(make_artifact()), "--json",
            env={"SW_REGISTRY_LOCK_TIMEOUT": value})
    assert r.returncode == 2 and r.stderr == "", r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "usage" and "SW_REGISTRY_LOCK_TIMEOUT" in err["message"] and err["hint"]
    assert git(project, "rev-parse", "HEAD") == head
    assert not (project / ".specweave" / "increments" / INCREMENT / "models").exists()


def test_the_lock_is_released_when_its_holder_dies(cli, project: Path, make_artifact,
                                                   lock_holder: subprocess.Popen[str]) -> None:
    lock_holder.kill()
    lock_holder.wait()
    r = cli("registry-register", "m", "--artifact", str(make_artifact()), "--json",
            env={"SW_REGISTRY_LOCK_TIMEOUT": "5"})
    assert r.returncode == 0, r.stdout + r.stderr
