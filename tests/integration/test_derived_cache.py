"""A write updates model_catalog.yaml and lineage_graph.json from a per-version cache (store/derived.py).

Whatever happened in between (a hand edit committed by the user, a checkout, a merge, a rebase), the files a
write leaves must be byte for byte what a full render from every metadata.json on disk gives. Correctness only.
"""

from __future__ import annotations

import json
from pathlib import Path

from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store.derived import derived_files
from sw_registry.store.files import parse_metadata
from sw_registry.store.index import summarize
from tests.conftest import INCREMENT, git

MODELS = Path(".specweave/increments") / INCREMENT / "models"


def full_render(project: Path) -> dict[str, bytes]:
    """The derived files rendered from scratch, with no cache: every metadata.json parsed from disk."""
    layout = Layout(project)
    out: dict[str, bytes] = {}
    for inc in layout.increments():
        records = []
        for meta in sorted((project / inc.rel / "models").glob("*/metadata.json")):
            rel = meta.relative_to(project).as_posix()
            records.append(summarize(parse_metadata(meta.read_bytes(), rel), rel))
        out.update(derived_files(inc.rel, inc.id, records))
    return out


def assert_derived_fresh(project: Path) -> None:
    for rel, data in full_render(project).items():
        assert (project / rel).read_bytes() == data, rel


def test_derived_files_stay_exact_through_hand_edits_checkout_merge_and_rebase(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    for version in ("1.0.0", "1.1.0"):
        reg.register_model("a", str(make_artifact()), version=version, tags=["t"])
    reg.register_model("b", str(make_artifact()), version="2.0.0", data_version="d1")
    assert_derived_fresh(project)  # the cache is filled

    # a hand edit of another model's metadata, committed by the user without the tool
    path = project / MODELS / "b-v2.0.0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["tags"] = ["edited-by-hand"]
    meta["lineage"] = {**(meta.get("lineage") or {}), "data": "d2"}
    path.write_text(json.dumps(meta, indent=2) + "\n")
    git(project, "commit", "-q", "-am", "hand edit")
    reg.promote_model("a", "1.0.0", to_stage="staging")
    assert_derived_fresh(project)
    assert b"edited-by-hand" in (project / MODELS.parent / "registry" / "model_catalog.yaml").read_bytes()

    # a branch with its own versions, then back: versions appear and disappear under the cache
    git(project, "checkout", "-q", "-b", "side")
    reg.register_model("b", str(make_artifact()), version="2.1.0")
    reg.promote_model("b", "2.1.0", to_stage="staging")
    assert_derived_fresh(project)
    git(project, "checkout", "-q", "main")
    reg.promote_model("a", "1.1.0", to_stage="staging")
    assert_derived_fresh(project)
    assert b"2.1.0" not in (project / MODELS.parent / "registry" / "model_catalog.yaml").read_bytes()

    # a merge (the derived files conflict: the user takes theirs and re-renders nothing by hand)
    proc = git(project, "merge", "-q", "--no-ff", "-m", "merge side", "side", check=False)
    if (project / ".git" / "MERGE_HEAD").exists():
        git(project, "checkout", "-q", "--theirs", "--", str(MODELS.parent / "registry"))
        git(project, "add", "-A", ".specweave")
        git(project, "commit", "-q", "--no-edit")
    del proc
    reg.register_model("a", str(make_artifact()), version="1.2.0")
    assert_derived_fresh(project)

    # a rebase rewrites a registry commit and the files it touched
    git(project, "checkout", "-q", "-b", "topic", "HEAD~1")
    reg.register_model("c", str(make_artifact()), version="0.1.0")
    git(project, "rebase", "-q", "main")
    reg.promote_model("c", "0.1.0", to_stage="staging")
    assert_derived_fresh(project)


def test_a_missing_or_damaged_cache_is_rebuilt(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("a", str(make_artifact()), version="1.0.0")
    cache = Layout(project).cache_dir / "derived"
    files = list(cache.glob("*.marshal"))
    assert files, "a write keeps the cache"
    files[0].write_bytes(b"not marshal")
    reg.register_model("a", str(make_artifact()), version="1.0.1")
    assert_derived_fresh(project)
    for f in cache.glob("*.marshal"):
        f.unlink()
    reg.promote_model("a", "1.0.1", to_stage="staging")
    assert_derived_fresh(project)


def test_durable_files_are_fsynced_before_the_commit_lands(project: Path, make_artifact, monkeypatch) -> None:
    """The fsync of metadata.json, features.yaml and requirements.txt runs in the background from the moment each
    is written (it overlaps the derived files and the commit's objects); each still happens before HEAD moves."""
    import os

    reg = ModelRegistry(root=project)
    reg.register_model("a", str(make_artifact()), version="1.0.0")
    head_before = git(project, "rev-parse", "HEAD").strip()
    real_fsync = os.fsync
    seen: list[tuple[str, str]] = []

    def recording_fsync(fd: int) -> None:
        seen.append((os.readlink(f"/proc/self/fd/{fd}"), git(project, "rev-parse", "HEAD").strip()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    reg.register_model("a", str(make_artifact()), version="1.0.1")
    synced = {Path(p).name: head for p, head in seen if "/models/a-v1.0.1/" in p}
    assert set(synced) == {"metadata.json", "features.yaml", "requirements.txt"}
    assert set(synced.values()) == {head_before}  # all before the commit
    assert git(project, "rev-parse", "HEAD").strip() != head_before
