"""The write's stat snapshot file (store/worktree_state.py): a write marshals it while git updates its index and
adds the index's stat after (``dumped`` + ``save_dumped``); ``load`` reads that and the one-piece ``save`` alike."""

from __future__ import annotations

from pathlib import Path

from sw_registry.gitops import open_repo
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store import worktree_state as W


def test_both_layouts_load_to_the_same_snapshot(project: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    layout, repo = Layout(project), open_repo(project)
    after_write = W.load(layout)
    assert after_write is not None and after_write["index"] == W.index_fp(repo)
    assert after_write["head"] == repo.head_commit() and after_write["format"][0] == W.STATE_FORMAT
    snapshot = W.scan(layout, layout.docs_rel(None), repo)
    W.save(layout, snapshot)
    assert W.load(layout) == snapshot
    W.save_dumped(layout, W.dumped(snapshot), repo)
    assert W.load(layout) == snapshot


def test_a_truncated_file_is_no_snapshot(project: Path, make_artifact) -> None:
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    layout = Layout(project)
    path = layout.cache_dir / W.FILE_NAME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 3])
    assert W.load(layout) is None


def test_a_snapshot_without_the_index_stat_is_no_snapshot(project: Path, make_artifact) -> None:
    """A file some other layout wrote (the dict alone): the next write checks in full rather than fail."""
    import marshal

    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    layout = Layout(project)
    snapshot = W.load(layout)
    assert snapshot is not None
    (layout.cache_dir / W.FILE_NAME).write_bytes(marshal.dumps({k: v for k, v in snapshot.items() if k != "index"}))
    assert W.load(layout) is None
    ModelRegistry(root=project).promote_model("m", "1.0.0", to_stage="staging")
    assert W.load(layout) is not None
