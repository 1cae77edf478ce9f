"""Refusals that must touch nothing (issue 2): invalid names, and damaged metadata named in the error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (content) and folder (None) under root, .git included."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root) + "/"] = None
        for f in filenames:
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


@pytest.mark.parametrize("name", ["../x", "A B", "", "../../etc/passwd", "a..b", ".hidden", "x/y", "abc\n"])
def test_an_invalid_name_writes_nothing_and_exits_2(run, project: Path, make_artifact, name: str) -> None:
    art = make_artifact(b"weights")
    before = snapshot(project)
    head = git(project, "rev-parse", "HEAD")
    r = run("registry-register", name, "--artifact", str(art), "--version", "1.0.0", "--json")
    assert r.returncode == 2, r.stdout + r.stderr
    assert json.loads(r.stdout)["error"]["code"] == "invalid_name"
    assert r.stderr == ""
    assert snapshot(project) == before  # not a file, not a folder, not a git object
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
    # nothing escaped the project either
    assert not (project.parent / "x").exists() and not (project.parent / "x-v1.0.0").exists()


def test_an_invalid_name_in_human_mode_also_writes_nothing(cli, project: Path, make_artifact) -> None:
    before = snapshot(project)
    r = cli("registry-register", "../x", "--artifact", str(make_artifact()))
    assert r.returncode == 2
    assert "invalid_name" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(project) == before


def test_the_api_refuses_an_invalid_name_before_touching_files(project: Path, make_artifact) -> None:
    before = snapshot(project)
    with pytest.raises(Exception) as exc:
        ModelRegistry(root=project).register_model("../evil", {"weights": [1, 2]}, version="1.0.0")
    assert getattr(exc.value, "code", None) == "invalid_name"
    assert snapshot(project) == before


METADATA_REL = f".specweave/increments/{INCREMENT}/models/fraud-model-v1.0.0/metadata.json"


@pytest.fixture
def damaged(project: Path, make_artifact) -> Path:
    """fraud-model 1.0.0 registered, then its metadata.json cut in half (committed, so it is not 'dirty')."""
    reg = ModelRegistry(root=project)
    reg.register_model("fraud-model", str(make_artifact()), version="1.0.0", metadata={"accuracy": 0.9})
    reg.list_models()  # fill the read cache first: a stale cache must not hide the damage
    path = project / METADATA_REL
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    git(project, "commit", "-q", "-am", "damage outside the tool")
    return project


@pytest.mark.parametrize(
    "args",
    [
        ("registry-list",),
        ("registry-list", "--all-versions"),
        ("registry-info", "fraud-model"),
        ("registry-info", "fraud-model", "--version", "1.0.0"),
        ("registry-register", "other-model", "--artifact", "{art}"),
    ],
)
def test_corrupted_metadata_is_integrity_naming_the_file(run, damaged: Path, make_artifact,
                                                         args: tuple[str, ...]) -> None:
    art = str(make_artifact())
    head = git(damaged, "rev-parse", "HEAD")
    r = run(*[a.replace("{art}", art) for a in args], "--json")
    assert r.returncode == 4, r.stdout + r.stderr
    assert r.stderr == ""
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "integrity"
    assert METADATA_REL in err["message"]
    assert git(damaged, "rev-parse", "HEAD") == head


def test_corrupted_metadata_in_human_mode_names_the_file_without_traceback(cli, damaged: Path) -> None:
    r = cli("registry-list")
    assert r.returncode == 4
    assert METADATA_REL in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize("content", ["[]", '{"name": "fraud-model"}', "", '"just a string"', "{\"name\": 1, "])
def test_metadata_that_is_not_a_metadata_object_is_integrity(project: Path, make_artifact, content: str) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("fraud-model", str(make_artifact()), version="1.0.0")
    (project / METADATA_REL).write_text(content)
    with pytest.raises(Exception) as exc:
        ModelRegistry(root=project).list_models()
    assert getattr(exc.value, "code", None) == "integrity"
    assert METADATA_REL in str(exc.value)


@pytest.mark.parametrize(
    ("policy", "key"),
    [
        ("colour: blue\n", "colour"),
        ("models:\n  fraud-model:\n    owner: [a, b]\n", "owner"),
        ("large_artifact_warn_mb: lots\n", "large_artifact_warn_mb"),
        ("models: {fraud-model: {owner: a@example.com\n", "registry.yaml"),  # does not parse
    ],
)
def test_an_invalid_registry_yaml_is_config_error_naming_the_key(run, project: Path, policy: str, key: str) -> None:
    (project / ".specweave" / "registry.yaml").write_text(policy)
    r = run("registry-list", "--json")
    assert r.returncode == 2, r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "config_error"
    assert key in err["message"]
    assert r.stderr == ""


def test_a_window_without_a_trigger_is_refused_and_writes_nothing(run, project: Path) -> None:
    head = git(project, "rev-parse", "HEAD")
    r = run("registry-policy", "fraud", "--owner", "o@example.com", "--window", "24h", "--json")
    assert r.returncode == 2, r.stdout + r.stderr
    assert json.loads(r.stdout)["error"]["code"] == "usage"
    assert git(project, "rev-parse", "HEAD") == head
    assert not (project / ".specweave" / "registry.yaml").exists()
