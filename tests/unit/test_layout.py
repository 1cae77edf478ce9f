"""Where the registry lives (SPEC §2): root discovery, increment resolution, the active increment.

These build plain folders; only the git-top-level fallback and the create-on-register case need git.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sw_registry.errors import RegistryError
from sw_registry.layout import Layout, find_root
from tests.conftest import INCREMENT, git


def specweave(root: Path, *increments: str, statuses: dict[str, str] | None = None) -> Layout:
    """A .specweave/ tree with the given increment folders (paths like '_archive/0017-churn')."""
    (root / ".specweave" / "increments").mkdir(parents=True, exist_ok=True)
    for rel in increments:
        folder = root / ".specweave" / "increments" / rel
        folder.mkdir(parents=True)
        status = (statuses or {}).get(rel.rsplit("/", 1)[-1])
        if status is not None:
            (folder / "metadata.json").write_text(json.dumps({"status": status}))
    return Layout(root.resolve())


def set_active_state(root: Path, ids: list[str]) -> None:
    state = root / ".specweave" / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "active-increment.json").write_text(json.dumps({"ids": ids}))


def registry_error(fn, *args, **kw) -> RegistryError:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError) as exc:
        fn(*args, **kw)
    return exc.value


# -- root discovery ------------------------------------------------------------------------


def test_root_option_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    specweave(a)
    specweave(b)
    monkeypatch.setenv("SW_REGISTRY_ROOT", str(b))
    assert find_root(a, cwd=str(b)) == a.resolve()


def test_env_root_is_used_without_the_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    specweave(a)
    specweave(b)
    monkeypatch.setenv("SW_REGISTRY_ROOT", str(b))
    assert find_root(None, cwd=str(a)) == b.resolve()


def test_walks_up_to_the_folder_holding_specweave(tmp_path: Path) -> None:
    specweave(tmp_path, INCREMENT)
    deep = tmp_path / "src" / "pkg" / "sub"
    deep.mkdir(parents=True)
    assert find_root(None, cwd=str(deep)) == tmp_path.resolve()
    inside = tmp_path / ".specweave" / "increments" / INCREMENT
    assert find_root(None, cwd=str(inside)) == tmp_path.resolve()


def test_walks_up_from_the_process_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sw_registry.registry import ModelRegistry

    specweave(tmp_path, INCREMENT)
    deep = tmp_path / "notebooks"
    deep.mkdir()
    monkeypatch.chdir(deep)
    assert ModelRegistry().root == tmp_path.resolve()


def test_nearest_specweave_wins_over_the_git_top_level(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    project = tmp_path / "services" / "fraud"
    specweave(project, INCREMENT)
    (project / "src").mkdir()
    assert find_root(None, cwd=str(project / "src")) == project.resolve()


def test_git_top_level_is_the_root_when_there_is_no_specweave(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(None, cwd=str(deep)) == repo.resolve()


# -- increments ----------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["42", "0042", "0042-fraud-detection", " 42 "])
def test_increment_accepts_number_padded_number_and_full_id(tmp_path: Path, ref: str) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", "0043-churn", "0142-other")
    inc = layout.resolve_increment(ref)
    assert inc.id == "0042-fraud-detection"
    assert inc.rel == ".specweave/increments/0042-fraud-detection"


@pytest.mark.parametrize("group", ["_archive", "_abandoned", "_paused"])
def test_archived_abandoned_and_paused_increments_are_searched(tmp_path: Path, group: str) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", f"{group}/0017-churn")
    for ref in ("17", "0017", "0017-churn"):
        inc = layout.resolve_increment(ref)
        assert inc.id == "0017-churn"
        assert inc.rel == f".specweave/increments/{group}/0017-churn"
    assert "0017-churn" in [i.id for i in layout.increments()]


def test_an_existing_archived_full_id_is_found_not_created_again(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "_archive/0017-churn")
    inc = layout.resolve_increment("0017-churn", create=True)
    assert inc.rel == ".specweave/increments/_archive/0017-churn"


def test_other_underscore_folders_are_ignored(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", "_templates/0018-template", "_drafts/0019-draft")
    assert [i.id for i in layout.increments()] == ["0042-fraud-detection"]
    assert registry_error(layout.resolve_increment, "18").code == "not_found"
    assert registry_error(layout.resolve_increment, "0019-draft").code == "not_found"


def test_folders_that_are_not_increment_ids_are_ignored(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", "notes", "42-short", "00042-long")
    (layout.increments_dir / "0050-a-file").write_text("not a folder")
    assert [i.id for i in layout.increments()] == ["0042-fraud-detection"]


def test_an_ambiguous_number_is_refused_naming_both(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", "_archive/0042-old-fraud")
    err = registry_error(layout.resolve_increment, "42")
    assert err.code == "invalid_input" and err.exit_code == 2
    assert "0042-fraud-detection" in err.message and "0042-old-fraud" in err.message


@pytest.mark.parametrize("ref", ["7", "0007", "0007-nope"])
def test_an_unknown_increment_is_not_found(tmp_path: Path, ref: str) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection")
    err = registry_error(layout.resolve_increment, ref)
    assert err.code == "not_found" and err.exit_code == 3
    assert "0042-fraud-detection" in f"{err.message} {err.hint}"  # it names what does exist


@pytest.mark.parametrize("ref", ["fraud", "0042_fraud", "0042-Fraud", "../0042-x"])
def test_a_malformed_increment_reference_is_invalid_input(tmp_path: Path, ref: str) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection")
    assert registry_error(layout.resolve_increment, ref).code == "invalid_input"


def test_a_new_full_id_resolves_to_a_new_folder_when_creating(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection")
    inc = layout.resolve_increment("0100-new-model", create=True)
    assert (inc.id, inc.rel) == ("0100-new-model", ".specweave/increments/0100-new-model")
    assert not (tmp_path / inc.rel).exists()  # resolving alone writes nothing


# -- the active increment --------------------------------------------------------------------


def test_active_increment_comes_from_specweave_state_first(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", "0043-churn",
                       statuses={"0042-fraud-detection": "active", "0043-churn": "active"})
    set_active_state(tmp_path, ["0043-churn", "0042-fraud-detection"])
    assert layout.active_increment().id == "0043-churn"


def test_active_increment_falls_back_to_metadata_status(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0041-done", "0042-fraud-detection", "0043-planned",
                       statuses={"0041-done": "completed", "0042-fraud-detection": "active", "0043-planned": "planned"})
    assert layout.active_increment().id == "0042-fraud-detection"


def test_in_progress_counts_as_active(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0041-done", "0042-fraud-detection",
                       statuses={"0041-done": "completed", "0042-fraud-detection": "in-progress"})
    assert layout.active_increment().id == "0042-fraud-detection"


def test_an_empty_state_file_falls_back_to_metadata(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", statuses={"0042-fraud-detection": "active"})
    set_active_state(tmp_path, [])
    assert layout.active_increment().id == "0042-fraud-detection"


def test_two_active_increments_are_invalid_input_naming_the_candidates(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0042-fraud-detection", "0043-churn",
                       statuses={"0042-fraud-detection": "active", "0043-churn": "in-progress"})
    err = registry_error(layout.active_increment)
    assert err.code == "invalid_input" and err.exit_code == 2
    text = f"{err.message} {err.hint}"
    assert "0042-fraud-detection" in text and "0043-churn" in text


def test_no_active_increment_is_invalid_input_naming_the_candidates(tmp_path: Path) -> None:
    layout = specweave(tmp_path, "0041-done", "0042-fraud-detection",
                       statuses={"0041-done": "completed", "0042-fraud-detection": "completed"})
    err = registry_error(layout.active_increment)
    assert err.code == "invalid_input"
    text = f"{err.message} {err.hint}"
    assert "0041-done" in text and "0042-fraud-detection" in text


def test_register_into_a_new_full_id_creates_the_increment(project: Path, make_artifact) -> None:
    from sw_registry.registry import ModelRegistry

    mv = ModelRegistry(root=project).register_model("churn-model", str(make_artifact(b"x")),
                                                    increment="0100-churn-model")
    assert mv.metadata["increment"] == "0100-churn-model"
    folder = project / ".specweave" / "increments" / "0100-churn-model" / "models" / "churn-model-v1.0.0"
    assert (folder / "metadata.json").is_file()
    tracked = git(project, "ls-files", ".specweave/increments/0100-churn-model").split()
    assert ".specweave/increments/0100-churn-model/models/churn-model-v1.0.0/metadata.json" in tracked


def test_registry_paths_are_recognised_in_every_increment_group(tmp_path: Path) -> None:
    layout = specweave(tmp_path)
    yes = [
        ".specweave/registry.yaml",
        ".specweave/increments/0042-fraud-detection/models/m-v1.0.0/metadata.json",
        ".specweave/increments/0042-fraud-detection/registry/model_catalog.yaml",
        ".specweave/increments/0042-fraud-detection/experiments/x/params.json",
        ".specweave/increments/_archive/0017-churn/models/m-v1.0.0/model.pkl",
        ".specweave/docs/internal/architecture/model-registry.md",
    ]
    no = [
        ".specweave/increments/0042-fraud-detection/spec.md",
        ".specweave/increments/0042-fraud-detection/metadata.json",
        ".specweave/state/active-increment.json",
        ".specweave/cache/sw-registry/index-worktree.marshal",
        ".specweave/increments/_templates/0017-churn/models/m-v1.0.0/model.pkl",
        "src/models/x.py",
    ]
    assert [p for p in yes if not layout.is_registry_path(p)] == []
    assert [p for p in no if layout.is_registry_path(p)] == []


def test_git_is_available() -> None:
    # the layout tests above that need git would fail confusingly without it
    assert subprocess.run(["git", "--version"], capture_output=True).returncode == 0


def test_discovery_stops_at_the_git_top_level(tmp_path) -> None:
    from sw_registry.layout import find_root

    (tmp_path / ".specweave").mkdir()  # a stray one above the repository
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src" / "deep").mkdir(parents=True)
    assert find_root(cwd=str(repo / "src" / "deep")) == repo.resolve()
