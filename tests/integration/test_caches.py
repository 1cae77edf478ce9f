"""The caches behind history and the write's dirty check stay correct whatever git or a person does meanwhile:
a hand edit, a checkout, a merge, a rebase, a reset, an amended commit. Correctness only, never timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.gitops import open_repo
from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, git

NAME = "m"
MODELS = Path(".specweave/increments") / INCREMENT / "models"


def history(reg: ModelRegistry) -> list[tuple[int, str, str, str | None, str | None]]:
    return [(e.seq, e.event, e.version, e.commit, e.reason) for e in reg.history(NAME).events]


def assert_history_matches_git(project: Path, reg: ModelRegistry) -> list[tuple[int, str, str, str | None, str | None]]:
    """Every event's commit is what a full walk of git log says (the uncached answer)."""
    truth = open_repo(project).seq_commits(NAME)
    events = history(reg)
    assert events, "no events"
    assert [(seq, commit) for seq, _e, _v, commit, _r in events] == [(seq, truth.get(seq)) for seq, *_ in events]
    return events


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


@pytest.fixture
def reg(project: Path) -> ModelRegistry:
    return ModelRegistry(root=project)


def test_history_follows_checkout_merge_rebase_reset_and_amend(project: Path, reg: ModelRegistry,
                                                                 make_artifact) -> None:
    reg.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    first = head(project)
    assert assert_history_matches_git(project, reg)[0][3] == first  # builds the cache

    git(project, "checkout", "-q", "-b", "side")
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")  # the write extends the cache
    side = head(project)
    assert [e[3] for e in assert_history_matches_git(project, reg)] == [first, side]

    git(project, "checkout", "-q", "main")  # checkout: side's commit is not in this history
    assert [(e[2], e[3]) for e in assert_history_matches_git(project, reg)] == [("1.0.0", first)]

    git(project, "merge", "-q", "--no-ff", "-m", "merge side", "side")  # merge: its commits come in
    assert [e[3] for e in assert_history_matches_git(project, reg)] == [first, side]

    git(project, "checkout", "-q", "-b", "topic")
    reg.register_model(NAME, str(make_artifact(b"three")), version="1.2.0")
    topic = head(project)
    assert assert_history_matches_git(project, reg)[-1][3] == topic
    git(project, "checkout", "-q", "main")
    (project / "notes.txt").write_text("unrelated\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "-q", "-m", "unrelated work on main")
    git(project, "checkout", "-q", "topic")
    git(project, "rebase", "-q", "main")  # rebase: topic's registry commit gets a new id
    rebased = head(project)
    assert rebased != topic
    assert assert_history_matches_git(project, reg)[-1][3] == rebased

    git(project, "commit", "-q", "--amend", "-m", "registry: register m v1.2.0 (amended)\n\n"
        "Registry-Event: register\nRegistry-Model: m\nRegistry-Version: 1.2.0\nRegistry-Seq: 3")
    amended = head(project)
    assert assert_history_matches_git(project, reg)[-1][3] == amended

    git(project, "reset", "-q", "--hard", "HEAD~1")  # reset: the version and its commit are gone
    assert [e[2] for e in assert_history_matches_git(project, reg)] == ["1.0.0", "1.1.0"]


def test_history_sees_a_hand_edit_of_a_metadata_file(project: Path, reg: ModelRegistry, make_artifact) -> None:
    reg.register_model(NAME, str(make_artifact()), version="1.0.0")
    reg.promote_model(NAME, "1.0.0", to_stage="staging", reason="looks good")
    assert history(reg)[-1][4] == "looks good"
    path = project / MODELS / "m-v1.0.0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["stage_history"][-1]["reason"] = "edited by hand"
    path.write_text(json.dumps(meta, indent=2))
    assert history(reg)[-1][4] == "edited by hand"
    git(project, "commit", "-q", "-am", "hand edit")  # a commit without trailers: commit ids stay right
    events = assert_history_matches_git(project, reg)
    assert events[-1][4] == "edited by hand"


def refusal(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError) as exc:
        call()
    return exc.value.code


def test_the_writes_dirty_check_sees_what_git_status_sees(project: Path, reg: ModelRegistry, make_artifact) -> None:
    """After a write the next one trusts a stat snapshot; every kind of change still makes it dirty_registry."""
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0")
    reg.register_model(NAME, str(make_artifact(b"b")), version="1.0.1")
    version = project / MODELS / "m-v1.0.0"

    # a staged hand edit (git's index changed)
    original = (version / "features.yaml").read_bytes()
    (version / "features.yaml").write_bytes(original + b"# staged\n")
    git(project, "add", str(version / "features.yaml"))
    assert refusal(lambda: reg.promote_model(NAME, "1.0.0", to_stage="staging")) == "dirty_registry"
    git(project, "reset", "-q", "HEAD", "--", str(version / "features.yaml"))
    (version / "features.yaml").write_bytes(original)
    reg.promote_model(NAME, "1.0.0", to_stage="staging")  # clean again: the write lands

    # registry.yaml edited in place, same size
    reg.update_policy(NAME, owner="abc@example.com")
    policy = project / ".specweave" / "registry.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("abc@", "xyz@"))
    assert refusal(lambda: reg.promote_model(NAME, "1.0.1", to_stage="staging")) == "dirty_registry"
    policy.write_text(text)

    # a derived file edited in place
    catalog = project / ".specweave" / "increments" / INCREMENT / "registry" / "model_catalog.yaml"
    before = catalog.read_bytes()
    catalog.write_bytes(before.replace(b"stage", b"STAGE", 1))
    assert refusal(lambda: reg.promote_model(NAME, "1.0.1", to_stage="staging")) == "dirty_registry"
    catalog.write_bytes(before)

    # a stray file in a version folder, and a new folder in models/
    (version / "notes.txt").write_text("stray\n")
    assert refusal(lambda: reg.promote_model(NAME, "1.0.1", to_stage="staging")) == "dirty_registry"
    (version / "notes.txt").unlink()
    (project / MODELS / "m-v9.9.9").mkdir()
    (project / MODELS / "m-v9.9.9" / "model.pkl").write_bytes(b"half")
    assert refusal(lambda: reg.promote_model(NAME, "1.0.1", to_stage="staging")) == "dirty_registry"
    (project / MODELS / "m-v9.9.9" / "model.pkl").unlink()
    (project / MODELS / "m-v9.9.9").rmdir()

    # clean again: the write lands and leaves nothing uncommitted
    reg.promote_model(NAME, "1.0.1", to_stage="staging")
    assert git(project, "status", "--porcelain") == ""


def test_the_stat_snapshot_passes_over_only_what_did_not_change(tmp_path: Path, make_artifact) -> None:
    """Older than the racy window, an untouched registry needs no git at all; an edit in place of one metadata.json,
    in an increment the last write did not touch, is still found (store/worktree_state.py compares increments)."""
    import os
    import time

    from sw_registry.layout import Layout
    from sw_registry.store import worktree_state
    from tests.conftest import make_project

    project = make_project(tmp_path / "two", increments=("0001-old", "0002-new"), active="0002-new")
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"a")), version="1.0.0", increment="0001-old")
    reg.register_model(NAME, str(make_artifact(b"b")), version="1.0.1", increment="0002-new")
    an_hour_ago = time.time_ns() - 3600 * 10**9
    for folder, dirs, files in os.walk(project / ".specweave" / "increments"):
        for name in (*dirs, *files):
            os.utime(os.path.join(folder, name), ns=(an_hour_ago, an_hour_ago))
    os.utime(project / ".git" / "index", ns=(an_hour_ago, an_hour_ago))  # else git's index is "racy" itself
    layout, repo = Layout(project), open_repo(project)
    snap = worktree_state.scan(layout, layout.docs_rel(None), repo)
    assert worktree_state.changed(snap, worktree_state.scan(layout, layout.docs_rel(None), repo)) == []
    meta = project / ".specweave/increments/0001-old/models/m-v1.0.0/metadata.json"
    with open(meta, "r+b") as fh:  # in place: same inode, same size, same folder listing
        data = fh.read()
        fh.seek(0)
        fh.write(data.replace(b'"dev"', b'"DEV"', 1))
    os.utime(meta, ns=(an_hour_ago + 10**9, an_hour_ago + 10**9))  # not recent either: only the stat differs
    todo = worktree_state.changed(snap, worktree_state.scan(layout, layout.docs_rel(None), repo))
    assert todo == [".specweave/increments/0001-old/models/m-v1.0.0"]
    assert refusal(lambda: reg.promote_model(NAME, "1.0.1", to_stage="staging")) == "dirty_registry"


def test_after_the_users_own_git_work_a_write_asks_git_only_about_what_moved(
    project: Path, reg: ModelRegistry, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit, ``git add``, ``git rm --cached``, ``git reset --soft`` or checkout of the user's moves HEAD or git's
    index: the next write gives git the paths git says that changed (store/worktree_state.since_git_moved) with
    those whose stat changed, not a full ``git status``; and still refuses exactly what the full one would."""
    from sw_registry.gitops.repo import Repo

    asked: list[list[str] | None] = []
    real = Repo.changed_paths

    def spy(self: Repo, ignored: bool = False, paths: list[str] | None = None) -> list[tuple[str, str]]:
        asked.append(None if paths is None else list(paths))
        return real(self, ignored, paths)

    for i in range(4):
        reg.register_model(NAME, str(make_artifact(f"v{i}".encode())), version=f"1.0.{i}")
    monkeypatch.setattr(Repo, "changed_paths", spy)
    meta = MODELS / "m-v1.0.0" / "metadata.json"

    # an unrelated commit of the user's: HEAD and the index moved, nothing of the registry's changed
    (project / "notes.txt").write_text("mine\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "-q", "-m", "my notes")
    reg.promote_model(NAME, "1.0.1", to_stage="staging")
    assert None not in asked  # no full git status (a path-limited one only when something needs a look)

    # git rm --cached: only the index differs, the file is as it was
    git(project, "rm", "-q", "--cached", str(meta))
    assert refusal(lambda: reg.promote_model(NAME, "1.0.2", to_stage="staging")) == "dirty_registry"
    git(project, "reset", "-q", "HEAD", "--", str(meta))

    # reset --soft past a registry commit: HEAD moved back, its changes now staged, the files untouched
    before = head(project)
    git(project, "reset", "-q", "--soft", "HEAD~1")
    assert refusal(lambda: reg.promote_model(NAME, "1.0.2", to_stage="staging")) == "dirty_registry"
    git(project, "reset", "-q", "--soft", before)

    # the user commits a hand edit of a metadata file themselves: committed, so not dirty
    data = json.loads((project / meta).read_text())
    data["description"] = "edited and committed by hand"
    (project / meta).write_text(json.dumps(data, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "describe v1.0.0")
    asked.clear()
    reg.promote_model(NAME, "1.0.2", to_stage="staging")
    assert None not in asked  # no full git status (a path-limited one only when something needs a look)
    assert reg.get_model(NAME, version="1.0.0").metadata["description"] == "edited and committed by hand"

    # a checkout of a branch where a write happened, and back
    git(project, "checkout", "-q", "-b", "side")
    reg.promote_model(NAME, "1.0.3", to_stage="staging")
    git(project, "checkout", "-q", "main")
    asked.clear()
    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    assert None not in asked  # no full git status (a path-limited one only when something needs a look)
    assert git(project, "status", "--porcelain") == ""
    assert reg.get_model(NAME, version="1.0.0").metadata["stage"] == "staging"
    assert reg.get_model(NAME, version="1.0.3").metadata["stage"] == "dev"  # the side branch's promotion stays there


def test_after_the_users_commit_a_write_reads_its_model_from_the_full_checks_scan(
    project: Path, reg: ModelRegistry, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write after the user's own commit makes the full check (every file stat'ed, git asked about what moved),
    then reads its model as a narrowed write does, trusting that scan (``worktree_state.guard_from``): no read of the
    full index (its records of the written model were 20 MB at 10,002 versions), and a hand edit the user committed
    meanwhile (here: 1.0.1 made staging by hand) is what the write decides from."""
    from sw_registry import transaction

    for i in range(3):
        reg.register_model(NAME, str(make_artifact(f"v{i}".encode())), version=f"1.0.{i}")
    meta = project / MODELS / "m-v1.0.1" / "metadata.json"
    data = json.loads(meta.read_text())
    data["stage"] = "staging"
    meta.write_text(json.dumps(data, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "1.0.1 to staging by hand")
    loads: list[bool] = []
    real = transaction.load_index

    def spy(source, *, use_cache=True, lazy=False):  # type: ignore[no-untyped-def]
        loads.append(lazy)
        return real(source, use_cache=use_cache, lazy=lazy)

    monkeypatch.setattr(transaction, "load_index", spy)
    reg.promote_model(NAME, "1.0.2", to_stage="staging")
    assert loads == [True]  # the write's lazy index only
    monkeypatch.undo()
    stages = {v.version: v.stage for v in reg.list_versions(model=NAME)}
    assert stages == {"1.0.0": "dev", "1.0.1": "archived", "1.0.2": "staging"}  # the hand-made holder displaced
    assert git(project, "status", "--porcelain") == ""
