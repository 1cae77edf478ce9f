"""A write's patch of the derived files (store/derived_patch.py) gives byte for byte what a full render of every
version gives, whatever changed: versions added, removed, restaged, deprecated, relabelled, their lineage edited
(shared upstream nodes and edges appearing and disappearing, parents), in any number (issue 10)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sw_registry.store import derived as D
from sw_registry.store import derived_patch as P
from sw_registry.store.records import summarize

INC_REL, INC_ID = ".specweave/increments/0042-x", "0042-x"
NAMES = ("a", "b", "model-c")
VERSIONS = ("0.1.0", "1.0.0", "1.0.1", "1.2.0", "2.0.0", "10.0.0", "2.0.0-rc.1")
STAGES = ("dev", "staging", "production", "archived")
# few values, so that versions share upstream nodes and edges (and a change can drop or add a shared one)
UPSTREAM = st.one_of(st.none(), st.sampled_from(["", "v1", "v2", "exp-1", "d é", 'q"uote']))


@st.composite
def metas(draw: Any) -> dict[str, Any]:
    lineage = {"data": draw(UPSTREAM), "feature_engineering": draw(UPSTREAM), "experiment": draw(UPSTREAM)}
    if draw(st.booleans()):
        lineage["parent"] = f"{draw(st.sampled_from(NAMES))}@{draw(st.sampled_from(VERSIONS))}"
    meta: dict[str, Any] = {
        "name": draw(st.sampled_from(NAMES)),
        "version": draw(st.sampled_from(VERSIONS)),
        "stage": draw(st.sampled_from(STAGES)),
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": draw(st.sampled_from(["x@y", None, "é\u2028"])),
        "artifact": {"path": "model.pkl", "sha256": "0" * 64, "size_bytes": draw(st.integers(0, 9))},
        "tags": draw(st.lists(st.sampled_from(["t", "prod", "ü"]), max_size=2)),
        "lineage": {k: v for k, v in lineage.items() if v is not None},
    }
    if draw(st.booleans()):
        meta["deprecation"] = {"reason": "old"}
    return meta


def records_of(by_folder: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for folder, meta in by_folder.items():
        rel = f"{INC_REL}/models/{folder}/metadata.json"
        out[rel] = summarize(meta, rel)
    return out


def versions() -> Any:
    """Folder -> metadata; one folder per (name, version), as the registry lays them out."""
    return st.lists(metas(), max_size=12).map(lambda ms: {f"{m['name']}-v{m['version']}": m for m in ms})


@settings(max_examples=300, deadline=None)
@given(before=versions(), after=versions(), keep=st.lists(st.booleans(), min_size=12, max_size=12))
def test_a_patch_is_exactly_the_full_render(before: dict[str, Any], after: dict[str, Any], keep: list[bool]) -> None:
    # the new state: some old versions unchanged, the others removed or replaced by ``after``'s
    kept = {f: m for (f, m), k in zip(before.items(), keep) if k}
    new = {**after, **kept}
    old_recs, new_recs = records_of(before), records_of(new)
    old_fps = {rel: (1, 0, 0) for rel in old_recs}
    files, entries, conflict = P.full(INC_REL, INC_ID, old_fps, old_recs)
    assert not conflict
    new_fps = {rel: (1, 0, 0) if before.get(rel.split("/")[-2]) == new[rel.split("/")[-2]] else (2, 0, 0)
               for rel in new_recs}
    changed = {rel: rec for rel, rec in new_recs.items() if new_fps[rel] != (1, 0, 0) or rel not in old_recs}
    gone = set(old_recs) - set(new_recs)
    cat_rel, lin_rel = list(files)
    got = P.patch(INC_ID, entries, files[cat_rel], files[lin_rel], changed, new_fps, gone)
    wanted = D.derived_files(INC_REL, INC_ID, [new_recs[rel] for rel in sorted(new_recs)])
    assert got is not None
    assert got[0] == wanted[cat_rel]
    assert got[1] == wanted[lin_rel]
    assert set(got[2]) == set(new_recs)
    # and the entries it leaves patch the next change just as well: remove everything
    again = P.patch(INC_ID, got[2], got[0], got[1], {}, {}, set(new_recs))
    assert again is not None
    assert again[:2] == tuple(D.derived_files(INC_REL, INC_ID, []).values())


def test_previous_files_that_do_not_line_up_with_the_entries_are_not_patched() -> None:
    recs = records_of({"a-v1.0.0": {"name": "a", "version": "1.0.0", "lineage": {"data": "d"}}})
    files, entries, _ = P.full(INC_REL, INC_ID, dict.fromkeys(recs, (1, 0, 0)), recs)
    cat, lin = files.values()
    empty_cat, empty_lin = D.derived_files(INC_REL, INC_ID, []).values()
    assert P.patch(INC_ID, entries, empty_cat, lin, {}, dict.fromkeys(recs, (1, 0, 0)), set()) is None
    assert P.patch(INC_ID, entries, cat, empty_lin, {}, dict.fromkeys(recs, (1, 0, 0)), set()) is None


def test_a_node_two_versions_label_differently_is_left_to_the_full_render() -> None:
    """model 'a' version 'b@c' and model 'a@b' version 'c' (only hand-edited metadata has such names) share the
    node id model:a@b@c with two labels: the full render's first-version-wins decides, never a patch."""
    one = records_of({"a-vb@c": {"name": "a", "version": "b@c"}})
    files, entries, conflict = P.full(INC_REL, INC_ID, dict.fromkeys(one, (1, 0, 0)), one)
    assert not conflict
    other = records_of({"x-v1": {"name": "a@b", "version": "c"}})
    cat, lin = files.values()
    assert P.patch(INC_ID, entries, cat, lin, other, dict.fromkeys(other, (1, 0, 0)), set()) is None
    both = {**one, **other}
    assert P.full(INC_REL, INC_ID, dict.fromkeys(both, (1, 0, 0)), both)[2]
