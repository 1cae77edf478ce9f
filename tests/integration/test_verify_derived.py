"""registry-verify renders each increment's derived files from that increment's own metadata.json files, one
increment at a time (ops/verify.py ``_stale_derived``): byte for byte what the index-based render (``derived_of``,
what reindex and every write produce) gives, so a registry the product wrote verifies clean and a hand edit of a
derived file does not."""

from __future__ import annotations

import json
from pathlib import Path

from sw_registry.layout import Layout
from sw_registry.ops.common import derived_of
from sw_registry.ops.verify import _stale_derived
from sw_registry.store.index import WorkTreeSource, load_index
from tests.conftest import NEW_INCREMENT, OLD_INCREMENT, promoted_registry, run_cli


def rich_registry(tmp_path: Path, make_artifact) -> Path:
    reg = promoted_registry(tmp_path, make_artifact)
    reg.register_model("m", str(make_artifact(b"c")), version="1.1.0", increment=NEW_INCREMENT, parent="m@1.0.1",
                       data_version="v7", tags=["ünïcode", "b"], metrics={"accuracy": 0.9})
    reg.register_model("m", str(make_artifact(b"d")), version="1.10.0", increment=NEW_INCREMENT)  # 1.10 > 1.9
    reg.register_model("m", str(make_artifact(b"e")), version="1.9.0", increment=NEW_INCREMENT)
    reg.register_model("aaa", str(make_artifact(b"f")), version="2.0.0-rc.1", increment=OLD_INCREMENT)
    reg.deprecate_model("m", "1.0.0", reason="old")
    return reg.root


def test_the_per_increment_render_is_the_index_render(tmp_path: Path, make_artifact) -> None:
    root = rich_registry(tmp_path, make_artifact)
    layout = Layout(root)
    source = WorkTreeSource(layout)
    expected = {rel: data for rel, data, _ in derived_of(layout, load_index(source))}
    assert len(expected) == 4
    for rel, data in expected.items():
        assert (root / rel).read_bytes() == data
    assert _stale_derived(layout, source) == []
    assert run_cli(root, "registry-verify", "--json").returncode == 0


def test_a_hand_edited_or_missing_derived_file_is_stale(tmp_path: Path, make_artifact) -> None:
    root = rich_registry(tmp_path, make_artifact)
    catalog = root / ".specweave" / "increments" / NEW_INCREMENT / "registry" / "model_catalog.yaml"
    catalog.write_text(catalog.read_text().replace("1.9.0", "1.9.1", 1))
    lineage = root / ".specweave" / "increments" / OLD_INCREMENT / "registry" / "lineage_graph.json"
    lineage.unlink()
    r = run_cli(root, "registry-verify", "--json")
    assert r.returncode == 4
    stale = {p["path"] for p in json.loads(r.stdout)["error"]["details"]["problems"] if p["code"] == "stale_derived"}
    assert stale == {str(catalog.relative_to(root)), str(lineage.relative_to(root))}


def test_every_increments_render_holds_one_increment_at_a_time_and_reads_what_changed(
    tmp_path: Path, make_artifact, monkeypatch
) -> None:
    """``derived_of`` over every increment (registry-reindex) takes each increment's records from that increment's
    cache files alone and keeps none (``Index.in_increment(keep=False)``): the same records as the index's own, a
    version whose cache file is gone read again, and no model's records left in the index afterwards."""
    from sw_registry.store import index as index_module

    root = rich_registry(tmp_path, make_artifact)
    layout = Layout(root)
    kept = load_index(WorkTreeSource(layout))
    expected = {inc.id: kept.in_increment(inc.id) for inc in layout.increments()}
    lean = load_index(WorkTreeSource(layout))
    gone = list(layout.cache_dir.glob(f"records-*/m/*{NEW_INCREMENT}.marshal"))
    assert len(gone) == 1
    gone[0].unlink()
    parsed: list[str] = []
    real = index_module._parse
    monkeypatch.setattr(index_module, "_parse", lambda source, rel: parsed.append(rel) or real(source, rel))
    for inc in layout.increments():
        assert lean.in_increment(inc.id, keep=False) == expected[inc.id] != []
    assert parsed and all(f"/{NEW_INCREMENT}/models/m-v" in rel for rel in parsed)
    assert lean._records == {}
    rendered = {rel: data for rel, data, _ in derived_of(layout, lean)}
    assert lean._records == {}
    assert rendered == {rel: data for rel, data, _ in derived_of(layout, kept, {i.id for i in layout.increments()})}
