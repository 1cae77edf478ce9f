"""The write's stat snapshot file (store/worktree_state.py): a write marshals it while git updates its index and
adds the index's stat after (``dumped`` + ``save_dumped``); ``load`` reads that and the one-piece ``save`` alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from sw_registry.gitops import open_repo
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store import snapshot_file as S
from sw_registry.store import worktree_state as W
from tests.conftest import NEW_INCREMENT, OLD_INCREMENT, two_increment_registry


def test_both_layouts_load_to_the_same_snapshot(project: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    layout, repo = Layout(project), open_repo(project)
    after_write = S.load(layout)
    assert after_write is not None and after_write["index"] == W.index_fp(repo)
    assert after_write["head"] == repo.head_commit() and after_write["format"][0] == W.STATE_FORMAT
    snapshot = W.scan(layout, layout.docs_rel(None), repo)
    S.save(layout, snapshot)
    assert S.load(layout) == snapshot
    S.save_dumped(layout, S.dumped(snapshot), repo)
    assert S.load(layout) == snapshot


def test_a_truncated_file_is_no_snapshot(project: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    layout = Layout(project)
    path = layout.cache_dir / S.FILE_NAME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 3])
    assert S.load(layout) is None


def test_a_snapshot_without_the_index_stat_is_no_snapshot(project: Path, make_artifact) -> None:
    """A file some other layout wrote (the dict alone): the next write checks in full rather than fail."""
    import marshal

    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    layout = Layout(project)
    snapshot = S.load(layout)
    assert snapshot is not None
    (layout.cache_dir / S.FILE_NAME).write_bytes(marshal.dumps({k: v for k, v in snapshot.items() if k != "index"}))
    assert S.load(layout) is None
    ModelRegistry(root=project).promote_model("m", "1.0.0", to_stage="staging")
    assert S.load(layout) is not None


def _parts(layout: Layout) -> dict[str, bytes]:
    """Each increment's part as the snapshot file holds it (marshalled on its own, after the rest)."""
    import io
    import marshal

    data = (layout.cache_dir / S.FILE_NAME).read_bytes()
    assert data.startswith(S.TWO_PIECES)
    head = io.BytesIO(data[len(S.TWO_PIECES) + S.INDEX_SLOT :])  # after the index's stat
    sizes = marshal.load(head)["increments"]
    parts, at = {}, head.tell()
    for inc, size in sizes.items():
        parts[inc] = data[len(S.TWO_PIECES) + S.INDEX_SLOT + at : len(S.TWO_PIECES) + S.INDEX_SLOT + at + size]
        at += size
    assert len(S.TWO_PIECES) + S.INDEX_SLOT + at == len(data)
    return parts


def test_a_write_marshals_again_only_the_increments_it_changed(
    tmp_path: Path, make_artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot's save follows what the write changed (issue 10): the part of an increment the write did not
    touch is saved as it was read, and what is loaded back is what a fresh stat of the work tree finds."""
    import marshal
    from types import SimpleNamespace

    reg = two_increment_registry(tmp_path, make_artifact)
    layout = Layout(tmp_path / "p")
    old, new = (next(i.rel for i in layout.increments() if i.rel.endswith(n)) for n in (OLD_INCREMENT, NEW_INCREMENT))
    before = _parts(layout)
    marshalled: list[object] = []

    def dumps(value: object) -> bytes:
        marshalled.append(value)
        return marshal.dumps(value)

    monkeypatch.setattr(S, "marshal", SimpleNamespace(dumps=dumps, loads=marshal.loads, load=marshal.load))
    reg.register_model("other", str(make_artifact(b"o")), version="1.0.0", increment=NEW_INCREMENT)
    after = _parts(layout)
    assert after[old] == before[old] and after[new] != before[new]
    parts = [v for v in marshalled if isinstance(v, dict) and "entries" in v]
    assert len(parts) == 1 and "models/other-v1.0.0" in parts[0]["entries"]
    loaded, scanned = S.load(layout), W.scan(layout, layout.docs_rel(None), open_repo(layout.root))
    assert loaded is not None
    for rel in (old, new):  # entries stat'ed within git's racy window are left out (the next write checks them)
        kept = loaded["increments"][rel]["entries"]
        assert "models/other-v1.0.0" in loaded["increments"][new]["entries"]
        assert kept and all(scanned["increments"][rel]["entries"][key] == entry for key, entry in kept.items())


def test_an_unsealed_snapshot_is_never_trusted(project: Path, make_artifact) -> None:
    """A write saves its snapshot while git updates the index and seals it with the index's stat once git is done;
    killed in between, the snapshot has no index stat: the next write makes the full check, then seals its own."""
    from sw_registry.store import write_check

    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact()), version="1.0.0")
    layout, repo = Layout(project), open_repo(project)
    sealed = S.load(layout)
    assert sealed is not None and sealed["index"] == W.index_fp(repo)
    assert write_check.start(layout, repo, None) is not None  # trusted: the narrowed check
    assert S.save_unsealed(layout, S.dumped(sealed))
    unsealed = S.load(layout)
    assert unsealed is not None and unsealed["index"] is None
    assert {k: v for k, v in unsealed.items() if k != "index"} == {k: v for k, v in sealed.items() if k != "index"}
    assert write_check.start(layout, repo, None) is None  # the full check
    reg.promote_model("m", "1.0.0", to_stage="staging")
    again = S.load(layout)
    assert again is not None and again["index"] == W.index_fp(repo)
