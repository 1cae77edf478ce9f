"""A write checks and reads only what it touches (issue 10): the narrowed dirty check (store/write_check.py), the
write's lazily checked index and the per-increment record cache stay correct whatever git or a person does
meanwhile: a hand edit, a checkout, a merge, a rebase. Correctness only, never timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sw_registry import versions as V
from sw_registry.errors import RegistryError
from sw_registry.ops.register import _bump_basis
from sw_registry.registry import ModelRegistry
from sw_registry.store import snapshot_file
from sw_registry.store.records import sort_key
from tests.conftest import git, make_project

OLD, NEW = "0001-old", "0002-new"
INCS = Path(".specweave/increments")


def refusal(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError) as exc:
        call()
    return exc.value.code


@pytest.fixture
def two(tmp_path: Path, make_artifact) -> tuple[Path, ModelRegistry]:  # type: ignore[no-untyped-def]
    """Models m and other, each with a version in both increments; the last write left a stat snapshot."""
    project = make_project(tmp_path / "two", increments=(OLD, NEW), active=NEW)
    reg = ModelRegistry(root=project)
    for name in ("m", "other"):
        reg.register_model(name, str(make_artifact(f"{name} a".encode())), version="1.0.0", increment=OLD)
        reg.register_model(name, str(make_artifact(f"{name} b".encode())), version="1.0.1", increment=NEW)
    reg.promote_model("m", "1.0.1", to_stage="staging")  # lands through the narrowed check
    return project, reg


def meta_path(project: Path, inc: str, name: str, version: str) -> Path:
    return project / INCS / inc / "models" / f"{name}-v{version}" / "metadata.json"


def edit_in_place(path: Path, old: bytes, new: bytes) -> bytes:
    original = path.read_bytes()
    with open(path, "r+b") as fh:  # same inode: only the stat tells
        fh.write(original.replace(old, new, 1))
    return original


def test_the_narrowed_check_refuses_every_change_in_what_the_write_reads_or_rewrites(two, make_artifact) -> None:
    project, reg = two
    layout = reg.ctx.layout
    landed = iter(range(100))

    def refused_then_lands(undo, *writes) -> None:  # type: ignore[no-untyped-def]
        for write in writes:
            assert snapshot_file.load(layout) is not None  # the narrowed check is the one that refuses
            assert refusal(write) == "dirty_registry"
            undo()
            reg.register_model("m", str(make_artifact(f"landed {next(landed)}".encode())), bump="patch")
        assert git(project, "status", "--porcelain") == ""

    promote = lambda: reg.promote_model("m", "1.0.1", to_stage="production")  # noqa: E731
    register = lambda: reg.register_model("m", str(make_artifact(b"c")), bump="patch")  # noqa: E731

    # the model's own version in an increment the write does not rewrite
    path = meta_path(project, OLD, "m", "1.0.0")
    original = edit_in_place(path, b'"description": ""', b'"description": "x"')
    refused_then_lands(lambda: path.write_bytes(original), promote)

    # another model's version in an increment whose derived files the write rewrites
    other = meta_path(project, NEW, "other", "1.0.1")
    for write in (promote, register):
        kept = edit_in_place(other, b'"description": ""', b'"description": "x"')
        refused_then_lands(lambda: other.write_bytes(kept), write)  # noqa: B023

    # a new folder in a models/ folder of an increment the write does not rewrite
    stray = project / INCS / OLD / "models" / "notes"
    stray.mkdir()
    (stray / "x.txt").write_text("mine\n")
    refused_then_lands(lambda: ((stray / "x.txt").unlink(), stray.rmdir()), promote)

    # registry.yaml by hand: refused with the registry-policy --commit hint
    policy = project / ".specweave" / "registry.yaml"
    before = policy.read_text() if policy.exists() else None
    policy.write_text((before or "") + "\n# mine\n")
    with pytest.raises(RegistryError) as exc:
        promote()
    assert exc.value.code == "dirty_registry" and "registry-policy --commit" in (exc.value.hint or "")
    if before is None:
        policy.unlink()
    else:
        policy.write_text(before)
    promote()  # clean again: the write lands
    assert git(project, "status", "--porcelain") == ""


def test_a_change_outside_the_write_stays_the_users_own_and_untouched(two) -> None:
    """Another model's version in an increment the write neither reads nor rewrites is not checked (README): the
    write lands without it, and the user's change is left exactly as it was, uncommitted."""
    project, reg = two
    path = meta_path(project, OLD, "other", "1.0.0")
    edit_in_place(path, b'"description": ""', b'"description": "mine"')
    edited = path.read_bytes()
    reg.promote_model("m", "1.0.1", to_stage="production")
    assert path.read_bytes() == edited
    assert git(project, "status", "--porcelain").split() == ["M", str(path.relative_to(project))]
    shown = git(project, "show", "HEAD:" + str(path.relative_to(project)))
    assert '"description": ""' in shown  # the commit has HEAD's version of it, not the user's
    # a read of that model, or a write of it, sees the change: the write is refused as before
    assert refusal(lambda: reg.promote_model("other", "1.0.0", to_stage="staging")) == "dirty_registry"


def test_the_write_index_follows_checkout_merge_and_rebase(two, make_artifact) -> None:
    project, reg = two

    def versions(name: str) -> list[str]:
        return [v.version for v in reg.list_versions(model=name)]

    git(project, "checkout", "-q", "-b", "side")
    side = reg.register_model("m", str(make_artifact(b"side")), bump="minor")  # 1.1.0 on side
    assert side.version == "1.1.0"
    git(project, "checkout", "-q", "main")  # the folder of 1.1.0 is gone: the next version is 1.1.0 again
    assert reg.register_model("m", str(make_artifact(b"main")), bump="patch", increment=OLD).version == "1.0.2"
    assert "1.1.0" not in versions("m")
    git(project, "merge", "-q", "--no-ff", "-m", "merge side", "side")  # the merge brings 1.1.0 back
    assert reg.register_model("m", str(make_artifact(b"after merge")), bump="patch").version == "1.1.1"
    assert versions("m") == ["1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.1.1"]

    git(project, "checkout", "-q", "-b", "topic", "HEAD~1")
    reg.register_model("m", str(make_artifact(b"topic")), version="2.0.0", increment=OLD)
    git(project, "checkout", "-q", "main")
    reg.register_model("other", str(make_artifact(b"other on main")), bump="patch")
    git(project, "checkout", "-q", "topic")
    git(project, "rebase", "-q", "main")  # topic's version now sits on main's history
    assert reg.register_model("m", str(make_artifact(b"rebased")), bump="major").version == "3.0.0"
    assert versions("m")[-3:] == ["1.1.1", "2.0.0", "3.0.0"]
    assert [v.version for v in reg.list_versions(model="other")] == ["1.0.0", "1.0.1", "1.0.2"]
    assert git(project, "status", "--porcelain") == ""


def test_the_record_cache_follows_a_hand_edit_committed_with_git(two) -> None:
    project, reg = two
    path = meta_path(project, OLD, "m", "1.0.0")
    meta = json.loads(path.read_text())
    meta["tags"] = ["by-hand"]
    path.write_text(json.dumps(meta, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "tag by hand")
    reg.promote_model("m", "1.0.0", to_stage="staging")  # HEAD moved: the full check, then the write
    got = {v.version: v for v in reg.list_versions(model="m")}
    assert got["1.0.0"].stage == "staging" and "by-hand" in got["1.0.0"].metadata["tags"]
    assert got["1.0.1"].stage == "archived"  # displaced from staging


@pytest.mark.parametrize(
    "existing",
    [[], ["1.0.0"], ["1.0.0", "2.0.0rc1"], ["2.0.0rc1"], ["2.0.0rc1", "2.0.0rc2"], ["1.2.3", "1.10.0", "1.9.9"],
     ["0.1.0", "3.0.0a1", "2.5.0", "3.0.0"]],
)
def test_the_version_choice_from_the_highest_versions_equals_the_one_from_all(existing: list[str]) -> None:
    recs = sorted(({"version": v, "key": sort_key(v)} for v in existing), key=lambda r: r["key"])
    basis = _bump_basis(recs)  # type: ignore[arg-type]
    for kind in ("major", "minor", "patch"):
        assert V.choose(basis, None, kind, "none") == V.choose(existing, None, kind, "none")
    if existing:
        assert V.breaks(basis, "9.0.0", "major") == V.breaks(existing, "9.0.0", "major")
        assert V.breaks(basis, "0.0.1", "major") == V.breaks(existing, "0.0.1", "major")


def test_the_kept_trees_of_the_last_commit_never_hide_anyone_elses_commit(two, make_artifact) -> None:
    """The trees a registry commit keeps (gitops/commits.py) serve only a commit made on that very commit."""
    project, reg = two
    (project / "notes.txt").write_text("mine\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "-q", "-m", "my notes")
    reg.register_model("m", str(make_artifact(b"after my commit")), bump="patch")
    assert "notes.txt" in git(project, "ls-tree", "--name-only", "HEAD")
    (project / "notes.txt").write_text("amended\n")
    git(project, "commit", "-q", "-a", "--amend", "--no-edit")  # the registry's own commit, amended by hand
    reg.register_model("m", str(make_artifact(b"after the amend")), bump="patch")
    assert git(project, "show", "HEAD:notes.txt") == "amended\n"
    git(project, "reset", "-q", "--hard", "HEAD~1")
    reg.register_model("m", str(make_artifact(b"after the reset")), bump="patch", increment=OLD)
    assert git(project, "show", "HEAD:notes.txt") == "amended\n"
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "fsck", "--no-progress", "--connectivity-only") == ""
