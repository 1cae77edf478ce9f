"""registry-verify reads the commits without Registry-* trailers through ``history.unmarked_log``: streamed from a
``git log`` without ``--reverse`` (which made git hold the whole history) and keeping only those commits. It must
give exactly what filtering ``registry_log`` gives, in the same order."""

from __future__ import annotations

import json
from pathlib import Path

from sw_registry.gitops import open_repo
from sw_registry.gitops.history import registry_log, unmarked_log
from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git, run_cli

MODELS = f".specweave/increments/{INCREMENT}/models"


def test_the_unmarked_commits_are_registry_logs_without_trailers(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"one")), version="1.0.0")
    # a hand edit committed without trailers, a rename of registry files, a merge, then more registry commits
    meta = project / MODELS / "m-v1.0.0" / "metadata.json"
    doc = json.loads(meta.read_text())
    doc["description"] = "edited by hand, ünïcödé"
    meta.write_text(json.dumps(doc, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "hand edit\n\nRegistry-Event is not a trailer here: it is in the body\nok")
    git(project, "checkout", "-q", "-b", "side")
    (project / ".specweave" / "notes.md").write_text("side\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "side work")
    git(project, "checkout", "-q", "main")
    reg.register_model("m", str(make_artifact(b"two")), version="1.0.1")
    git(project, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    git(project, "mv", f".specweave/increments/{INCREMENT}", ".specweave/increments/0043-moved")
    git(project, "commit", "-q", "-m", "archive the increment")
    for _ in range(3):
        (project / ".specweave" / "notes.md").write_text("x" * 70_000 + str(_))  # records over a 64 KiB read
        git(project, "commit", "-q", "-am", "big notes " + "y" * 70_000)
    repo = open_repo(project)
    expected = [c for c in registry_log(repo) if not c["event"]]
    got = unmarked_log(repo)
    assert got == expected
    assert [c["commit"] for c in got][:2] == [c["commit"] for c in expected][:2]
    assert len(got) >= 7
    r = run_cli(project, "registry-verify", "--json")
    assert r.returncode == 4
    codes = [p["code"] for p in json.loads(r.stdout)["error"]["details"]["problems"]]
    assert "unaudited_commit" in codes


def test_an_empty_history_has_no_unmarked_commits(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".specweave").mkdir()
    assert unmarked_log(open_repo(root)) == []
