"""The seq -> commit map's delta (store/seqcache.py, issue 10): a write appends its seqs instead of rewriting the map;
the answer is always what a full walk of git log gives, whatever the delta holds (cut short, stale, grown large)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sw_registry.gitops import open_repo
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store import seqcache
from tests.conftest import git

NAME = "m"


def commits(reg: ModelRegistry) -> list[tuple[int, str | None]]:
    return [(e.seq, e.commit) for e in reg.history(NAME).events]


def truth(project: Path) -> dict[int, str]:
    return open_repo(project).seq_commits(NAME)


def assert_matches_git(project: Path, reg: ModelRegistry) -> None:
    full = truth(project)
    found = commits(reg)
    assert found and found == [(seq, full.get(seq)) for seq, _ in found]
    assert dict(found) == full


@pytest.fixture
def reg(project: Path, make_artifact) -> ModelRegistry:  # type: ignore[no-untyped-def]
    reg = ModelRegistry(root=project)
    reg.register_model(NAME, str(make_artifact(b"one")), version="1.0.0")
    assert_matches_git(project, reg)  # builds the map
    return reg


def test_a_write_appends_its_seqs_and_leaves_the_map_alone(project: Path, reg: ModelRegistry, make_artifact) -> None:
    layout = Layout(project)
    base = seqcache._path(layout, NAME)
    before = base.read_bytes()
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")
    reg.promote_model(NAME, "1.1.0", to_stage="staging")
    assert base.read_bytes() == before  # not rewritten
    head, added, size = seqcache._chain(layout, NAME, seqcache._read_base(layout, NAME, whole=False)[0])  # type: ignore[index]
    assert size > 0 and head == git(project, "rev-parse", "HEAD").strip()
    assert [sorted(seqs) for seqs in added] == [[2], [3]]
    loaded = seqcache._load(layout, NAME)
    assert loaded is not None and loaded["seqs"] == truth(project)
    assert_matches_git(project, reg)


def test_a_delta_cut_short_is_read_up_to_the_cut(project: Path, reg: ModelRegistry, make_artifact) -> None:
    """A write killed in the middle of its append: the records before it count, the map is brought up to date."""
    layout = Layout(project)
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")
    reg.register_model(NAME, str(make_artifact(b"three")), version="1.2.0")
    delta = seqcache._delta_path(layout, NAME)
    raw = delta.read_bytes()
    delta.write_bytes(raw[:-3])
    assert seqcache._load(layout, NAME)["head"] == git(project, "rev-parse", "HEAD~1").strip()  # type: ignore[index]
    reg.register_model(NAME, str(make_artifact(b"four")), version="1.3.0")  # does not chain: nothing appended
    assert delta.read_bytes() == raw[:-3]
    assert_matches_git(project, reg)  # from git log since the last record that chained; the map rewritten
    assert not delta.exists()


def test_a_record_that_does_not_chain_is_passed_over(project: Path, reg: ModelRegistry, make_artifact) -> None:
    """A record for another parent (left by a rebuild that raced a write) changes nothing."""
    import marshal

    layout = Layout(project)
    bogus = marshal.dumps(("0" * 40, "1" * 40, {1: "1" * 40, 99: "1" * 40}))
    seqcache._delta_path(layout, NAME).write_bytes(len(bogus).to_bytes(4, "little") + bogus)
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")
    assert_matches_git(project, reg)
    assert 99 not in seqcache._load(layout, NAME)["seqs"]  # type: ignore[index]


def test_a_large_delta_is_folded_into_the_map(
    project: Path, reg: ModelRegistry, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = Layout(project)
    monkeypatch.setattr(seqcache, "COMPACT_BYTES", 1)
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")  # appended (the delta was empty)
    assert seqcache._delta_path(layout, NAME).exists()
    reg.register_model(NAME, str(make_artifact(b"three")), version="1.2.0")  # folded: the map rewritten
    assert not seqcache._delta_path(layout, NAME).exists()
    base = seqcache._read_base(layout, NAME, whole=True)
    assert base is not None and base[0] == git(project, "rev-parse", "HEAD").strip() and base[1] == truth(project)
    assert_matches_git(project, reg)


def test_checkout_reset_and_amend_after_appended_writes(project: Path, reg: ModelRegistry, make_artifact) -> None:
    """The delta's commits are checked like the map's: a reset or an amended commit is rebuilt from git."""
    reg.register_model(NAME, str(make_artifact(b"two")), version="1.1.0")
    git(project, "checkout", "-q", "-b", "side")
    reg.register_model(NAME, str(make_artifact(b"three")), version="1.2.0")
    git(project, "checkout", "-q", "main")
    assert_matches_git(project, reg)
    git(project, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    assert_matches_git(project, reg)
    reg.register_model(NAME, str(make_artifact(b"four")), version="1.3.0")
    git(project, "commit", "-q", "--amend", "-m", "registry: register m v1.3.0 (amended)\n\n"
        "Registry-Event: register\nRegistry-Model: m\nRegistry-Version: 1.3.0\nRegistry-Seq: 4")
    assert_matches_git(project, reg)
    reg.register_model(NAME, str(make_artifact(b"five")), version="1.4.0")
    git(project, "reset", "-q", "--hard", "HEAD~1")
    assert_matches_git(project, reg)


class Walks:
    """How each full walk of git log for the map was made: "started" (early, ``PendingSeqs``) or "asked" (when
    needed, ``Repo.seq_commits``), and the started walks themselves (to look at their git processes)."""

    def __init__(self) -> None:
        self.how: list[str] = []
        self.started: list[object] = []


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Walks:
    from sw_registry.gitops import history
    from sw_registry.gitops.repo import Repo

    seen = Walks()
    start = history.PendingSeqs.__init__
    ask = Repo.seq_commits

    def started(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.how.append("started")
        seen.started.append(self)
        start(self, *args, **kwargs)

    def asked(self, name, since=None):  # type: ignore[no-untyped-def]
        seen.how.append("asked" if since is None else "since")
        return ask(self, name, since)

    monkeypatch.setattr(history.PendingSeqs, "__init__", started)
    monkeypatch.setattr(Repo, "seq_commits", asked)
    return seen


def test_with_no_map_saved_the_walk_starts_before_the_metadata_is_read_and_is_used(
    project: Path, reg: ModelRegistry, make_artifact, walks: Walks
) -> None:
    """A fresh clone or a deleted cache: history starts git's walk first, so it runs while the index reads the files,
    and takes its answer (one walk, not two); the answer is a full walk's."""
    import shutil

    reg.promote_model(NAME, "1.0.0", to_stage="staging")
    shutil.rmtree(Layout(project).cache_dir)
    walks.how.clear()
    found = commits(ModelRegistry(root=project))
    assert walks.how == ["started"]
    assert dict(found) == truth(project) and len(found) == 2
    walks.how.clear()
    assert commits(ModelRegistry(root=project)) == found
    assert walks.how == []  # the map was saved: no walk at all


def test_a_started_walk_is_not_used_when_head_moved_before_the_answer(
    project: Path, reg: ModelRegistry, make_artifact, walks: Walks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD moved between the start of the walk and its use (a write of another process): the map is made as of
    the HEAD found then, by a walk of its own."""
    import shutil

    from sw_registry.ops import history as ops_history

    shutil.rmtree(Layout(project).cache_dir / "seq-commits")
    real = ops_history._start_seq_commits

    def start_then_commit(ctx, repo, name):  # type: ignore[no-untyped-def]
        pending = real(ctx, repo, name)
        reg.promote_model(NAME, "1.0.0", to_stage="staging")  # HEAD moves after the walk began
        return pending

    monkeypatch.setattr(ops_history, "_start_seq_commits", start_then_commit)
    walks.how.clear()
    found = commits(ModelRegistry(root=project))
    assert walks.how == ["started", "asked"]
    assert dict(found) == truth(project) and len(found) == 2


def test_history_of_an_unknown_model_stops_the_walk_it_started(project: Path, reg: ModelRegistry, walks: Walks) -> None:
    from sw_registry.errors import RegistryError

    walks.how.clear()
    with pytest.raises(RegistryError) as exc:
        ModelRegistry(root=project).history("no-such-model")
    assert exc.value.code == "not_found"
    assert walks.how == ["started"]
    (pending,) = walks.started
    assert pending._proc.poll() is not None  # type: ignore[attr-defined]
