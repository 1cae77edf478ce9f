"""registry-list, registry-info, registry-get, --rev and init through the real CLI (SPEC §7.2, §7.3, §7.13, §7.16).

The registry is set up through the Python API (fast, in-process); the CLI is what is checked: through
its entry point in-process (``run``) for the long tables, and as a real process (``cli``) end to end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import IDENTITY, INCREMENT, Result, error, git, make_project

CHURN_INC = "0043-churn"
LIST_KEYS = {"name", "production", "staging", "latest", "version_count", "primary_metric", "updated_at"}
INFO_VERSION_KEYS = {"version", "stage", "created_at", "increment", "deprecated", "metrics"}
SECTION4_KEYS = {
    "schema_version", "name", "version", "increment", "stage", "created_at", "updated_at", "created_by",
    "description", "tags", "metrics", "hyperparameters", "info", "features", "signature", "lineage",
    "artifact", "approvals", "stage_history", "deprecation",
}


def ok(r: Result) -> Any:
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    return doc["data"]



@pytest.fixture(scope="module")
def zoo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fraud-model 1.0.0 (production), 1.2.0rc1, 1.2.0 (staging), 1.10.0 in 0042; churn-model 1.0.0 in 0043.

    Built once per module (under the same isolated git environment the conftest gives each test) and
    copied for each test, so tests may damage their copy.
    """
    base = tmp_path_factory.mktemp("zoo-template")
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("")
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("SW_REGISTRY_", "GIT_")):
                mp.delenv(key)
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        for key, value in IDENTITY.items():
            mp.setenv(key, value)
        root = make_project(base / "zoo", increments=(INCREMENT, CHURN_INC))
        reg = ModelRegistry(root=root)
        for version, acc, tags in (("1.0.0", 0.80, ["fraud", "baseline"]), ("1.10.0", 0.85, ["fraud"]),
                                   ("1.2.0", 0.83, ["fraud"]), ("1.2.0rc1", 0.82, [])):
            art = base / f"fraud-{version}" / "model.pkl"
            art.parent.mkdir()
            art.write_bytes(f"fraud {version}".encode())
            reg.register_model("fraud-model", str(art), version=version,
                               metadata={"accuracy": acc, "latency_ms": 20}, tags=tags)
        churn = base / "churn.pkl"
        churn.write_bytes(b"churn")
        reg.register_model("churn-model", str(churn), version="1.0.0", increment=CHURN_INC,
                           metadata={"f1": 0.7}, tags=["churn"])
        reg.promote_model("fraud-model", "1.0.0", to_stage="staging")
        reg.promote_model("fraud-model", "1.0.0", to_stage="production")
        reg.promote_model("fraud-model", "1.2.0", to_stage="staging")
    shutil.rmtree(root / ".specweave" / "cache", ignore_errors=True)
    return root


@pytest.fixture
def zoo(zoo_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "zoo"
    shutil.copytree(zoo_template, root, symlinks=True)
    return root



def names(data: dict[str, Any]) -> list[str]:
    return [m["name"] for m in data["models"]]


# -- registry-list ----------------------------------------------------------------------------------


def test_list_one_row_per_model(run, zoo: Path) -> None:
    models = {m["name"]: m for m in ok(run("registry-list", "--json", cwd=zoo))["models"]}
    assert list(models) == ["churn-model", "fraud-model"]
    assert all(set(m) >= LIST_KEYS for m in models.values())
    fraud = models["fraud-model"]
    assert (fraud["production"], fraud["staging"], fraud["latest"], fraud["version_count"]) == (
        "1.0.0", "1.2.0", "1.10.0", 4)
    assert fraud["primary_metric"] == {"name": "accuracy", "value": 0.80}  # of the production version
    assert fraud["updated_at"].endswith("Z")
    churn = models["churn-model"]
    assert (churn["production"], churn["staging"], churn["latest"], churn["version_count"]) == (
        None, None, "1.0.0", 1)
    assert churn["primary_metric"] is None


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"stage": "staging"}, ["fraud-model"]),
        ({"stage": "production"}, ["fraud-model"]),
        ({"stage": "dev"}, ["churn-model", "fraud-model"]),
        ({"stage": "archived"}, []),
        ({"model": "churn-model"}, ["churn-model"]),
        ({"model": "nope"}, []),
        ({"tag": "baseline"}, ["fraud-model"]),
        ({"tag": "churn"}, ["churn-model"]),
        ({"increment": "43"}, ["churn-model"]),
        ({"increment": "0042-fraud-detection"}, ["fraud-model"]),
        ({"stage": "dev", "tag": "churn"}, ["churn-model"]),
        ({"stage": "production", "tag": "churn"}, []),
    ],
)
def test_list_filters(zoo: Path, filters: dict[str, str], expected: list[str]) -> None:
    reg = ModelRegistry(root=zoo)
    stage = filters.pop("stage", None)
    assert [m.name for m in reg.list_models(stage, **filters)] == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--stage", "staging"), ["fraud-model"]),
        (("--model", "churn-model"), ["churn-model"]),
        (("--tag", "baseline"), ["fraud-model"]),
        (("--increment", "43"), ["churn-model"]),
    ],
)
def test_list_filter_options(run, zoo: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert names(ok(run("registry-list", *args, "--json", cwd=zoo))) == expected


@pytest.mark.parametrize("extra", [(), ("--all-versions",)])
def test_a_model_filter_that_is_not_a_name_is_invalid_name(run, zoo: Path, extra: tuple[str, ...]) -> None:
    """SPEC §3: a model name that breaks the rule is refused with invalid_name, as a filter too (not "no model")."""
    for bad in ("Fraud-Model", "../x", "a" * 101):
        error(run("registry-list", "--model", bad, *extra, "--json", cwd=zoo), "invalid_name", 2)
    assert names(ok(run("registry-list", "--model", "no-such-model", "--json", cwd=zoo))) == []  # a name: no match


def test_list_all_versions_gives_full_metadata(run, zoo: Path) -> None:
    data = ok(run("registry-list", "--all-versions", "--json", cwd=zoo))
    assert set(data) == {"versions"}
    refs = sorted((v["name"], v["version"]) for v in data["versions"])
    assert refs == [("churn-model", "1.0.0"), ("fraud-model", "1.0.0"), ("fraud-model", "1.10.0"),
                    ("fraud-model", "1.2.0"), ("fraud-model", "1.2.0rc1")]
    assert all(set(v) >= SECTION4_KEYS for v in data["versions"])

    staged = ok(run("registry-list", "--all-versions", "--model", "fraud-model", "--stage", "dev", "--json", cwd=zoo))
    assert sorted(v["version"] for v in staged["versions"]) == ["1.10.0", "1.2.0rc1"]


def test_list_of_an_empty_registry(run, project: Path) -> None:
    assert ok(run("registry-list", "--json")) == {"models": []}
    assert ok(run("registry-list", "--all-versions", "--json")) == {"versions": []}


def test_reads_work_from_the_files_alone_without_git(cli, zoo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "exported"
    shutil.copytree(zoo, copy, ignore=shutil.ignore_patterns(".git", "cache"))
    models = ok(cli("registry-list", "--json", "--root", str(copy), cwd=tmp_path))["models"]
    assert names({"models": models}) == ["churn-model", "fraud-model"]
    got = ok(cli("registry-get", "fraud-model", "--json", "--root", str(copy), cwd=tmp_path))
    assert got["version"] == "1.0.0" and got["path"].startswith(str(copy.resolve()))


# -- registry-info ----------------------------------------------------------------------------------


def test_info_lists_every_version_in_version_order(run, zoo: Path) -> None:
    data = ok(run("registry-info", "fraud-model", "--json", cwd=zoo))
    assert {"name", "owner", "policy", "stages", "versions"} <= set(data)
    assert data["name"] == "fraud-model"
    assert data["stages"] == {"staging": "1.2.0", "production": "1.0.0"}
    assert [v["version"] for v in data["versions"]] == ["1.0.0", "1.2.0rc1", "1.2.0", "1.10.0"]
    assert all(set(v) >= INFO_VERSION_KEYS for v in data["versions"])
    by_version = {v["version"]: v for v in data["versions"]}
    assert by_version["1.0.0"]["stage"] == "production"
    assert by_version["1.2.0"]["stage"] == "staging"
    assert by_version["1.10.0"] == {**by_version["1.10.0"], "stage": "dev", "increment": INCREMENT,
                                    "deprecated": False, "metrics": {"accuracy": 0.85, "latency_ms": 20}}


def test_info_with_version_gives_that_versions_metadata(run, zoo: Path) -> None:
    data = ok(run("registry-info", "fraud-model", "--version", "v1.2", "--json", cwd=zoo))
    assert set(data) >= SECTION4_KEYS
    assert (data["name"], data["version"], data["stage"]) == ("fraud-model", "1.2.0", "staging")
    on_disk = json.loads((zoo / ".specweave/increments" / INCREMENT / "models/fraud-model-v1.2.0/metadata.json")
                         .read_text())
    assert {k: data[k] for k in on_disk} == on_disk


@pytest.mark.parametrize(("args", "code", "exit_code"), [
    (("registry-info", "nope"), "not_found", 3),
    (("registry-info", "fraud-model", "--version", "2.0.0"), "not_found", 3),
])
def test_info_not_found(run, zoo: Path, args: tuple[str, ...], code: str, exit_code: int) -> None:
    error(run(*args, "--json", cwd=zoo), code, exit_code)


def test_a_newer_schema_version_is_read_with_a_warning(run, zoo: Path) -> None:
    rel = f".specweave/increments/{INCREMENT}/models/fraud-model-v1.10.0/metadata.json"
    meta = json.loads((zoo / rel).read_text())
    (zoo / rel).write_text(json.dumps({**meta, "schema_version": 2, "from_the_future": {"x": 1}}))
    git(zoo, "commit", "-q", "-am", "written by a newer sw-registry")
    for args in (("registry-list",), ("registry-info", "fraud-model"), ("registry-info", "fraud-model", "--version",
                                                                        "1.10.0")):
        data = ok(run(*args, "--json", cwd=zoo))  # read, not refused
        assert any(rel in w for w in data.get("warnings", [])), (args, data.get("warnings"))
    human = run("registry-list", cwd=zoo)
    assert human.returncode == 0 and rel in human.stderr and rel not in human.stdout


def test_root_comes_from_the_environment_or_the_option(run, zoo: Path, project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = ok(run("registry-list", "--json", cwd=elsewhere, env={"SW_REGISTRY_ROOT": str(zoo)}))
    assert names(data) == ["churn-model", "fraud-model"]
    data = ok(run("registry-list", "--root", str(project), "--json", cwd=elsewhere,
                  env={"SW_REGISTRY_ROOT": str(zoo)}))
    assert names(data) == []  # --root wins over the environment


# -- registry-get -----------------------------------------------------------------------------------


def artifact_path(root: Path, version: str) -> Path:
    return root / ".specweave/increments" / INCREMENT / f"models/fraud-model-v{version}/model.pkl"


def test_a_root_that_is_a_file_is_named_as_such(run, zoo: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    err = error(run("registry-list", "--root", str(a_file), "--json", cwd=zoo), "not_found", 3)
    assert "is not a folder" in err["message"]
    err = error(run("registry-list", "--root", str(tmp_path / "missing"), "--json", cwd=zoo), "not_found", 3)
    assert "does not exist" in err["message"]


def test_get_by_stage_verifies_and_gives_the_absolute_path(run, zoo: Path) -> None:
    data = ok(run("registry-get", "fraud-model", "--stage", "production", "--json", cwd=zoo))
    assert {"name", "version", "stage", "path", "sha256", "verified"} <= set(data)
    assert (data["name"], data["version"], data["stage"], data["verified"]) == (
        "fraud-model", "1.0.0", "production", True)
    assert Path(data["path"]).is_absolute()
    assert Path(data["path"]) == artifact_path(zoo, "1.0.0").resolve()
    assert data["sha256"] == hashlib.sha256(b"fraud 1.0.0").hexdigest()


def test_get_defaults_to_production(run, zoo: Path) -> None:
    assert ok(run("registry-get", "fraud-model", "--json", cwd=zoo))["version"] == "1.0.0"


def test_get_path_only_prints_just_the_absolute_path(cli, zoo: Path) -> None:
    sub = zoo / "src"
    sub.mkdir()
    r = cli("registry-get", "fraud-model", "--stage", "staging", "--path-only", cwd=sub)
    assert r.returncode == 0 and r.stderr == ""
    path = Path(r.stdout.rstrip("\n"))
    assert r.stdout.count("\n") == 1 and path.is_absolute()
    assert path.read_bytes() == b"fraud 1.2.0"


def test_get_by_version(run, zoo: Path) -> None:
    data = ok(run("registry-get", "fraud-model", "--version", "v1.10", "--json", cwd=zoo))
    assert data["version"] == "1.10.0" and Path(data["path"]).read_bytes() == b"fraud 1.10.0"


def test_get_refuses_a_tampered_artifact_naming_the_file(run, zoo: Path) -> None:
    target = artifact_path(zoo, "1.0.0")
    target.write_bytes(b"fraud 1.0.0 but poisoned")
    err = error(run("registry-get", "fraud-model", "--stage", "production", "--json", cwd=zoo), "integrity", 4)
    assert "fraud-model-v1.0.0/model.pkl" in err["message"]
    human = run("registry-get", "fraud-model", "--stage", "production", "--path-only", cwd=zoo)
    assert human.returncode == 4 and human.stdout == ""  # never prints the path of a bad artifact
    assert "model.pkl" in human.stderr and "Traceback" not in human.stderr


def test_get_refuses_a_tampered_file_inside_a_folder_artifact_naming_it(run, project: Path, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    src.mkdir()
    (src / "weights.bin").write_bytes(b"w" * 100)
    (src / "config.json").write_text("{}")
    ModelRegistry(root=project).register_model("bundle-model", str(src), version="1.0.0")
    stored = project / ".specweave/increments" / INCREMENT / "models/bundle-model-v1.0.0/bundle/weights.bin"
    stored.write_bytes(b"w" * 99 + b"x")
    err = error(run("registry-get", "bundle-model", "--version", "1.0.0", "--json"), "integrity", 4)
    assert "weights.bin" in err["message"]


def test_get_refuses_a_missing_artifact(run, zoo: Path) -> None:
    artifact_path(zoo, "1.10.0").unlink()
    error(run("registry-get", "fraud-model", "--version", "1.10.0", "--json", cwd=zoo), "integrity", 4)


@pytest.mark.parametrize(
    "args",
    [
        ("registry-get", "nope"),
        ("registry-get", "fraud-model", "--version", "9.0.0"),
        ("registry-get", "churn-model", "--stage", "production"),
    ],
)
def test_get_not_found(run, zoo: Path, args: tuple[str, ...]) -> None:
    err = error(run(*args, "--json", cwd=zoo), "not_found", 3)
    assert err["hint"]


# -- --rev ------------------------------------------------------------------------------------------


def test_rev_reads_the_registry_as_of_an_older_commit(run, project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"v1 bytes")), version="1.0.0")
    old = git(project, "rev-parse", "HEAD").strip()
    git(project, "tag", "before-v2")
    reg.register_model("m", str(make_artifact(b"v2 bytes")), version="2.0.0")

    now = ok(run("registry-list", "--json"))["models"]
    assert (now[0]["latest"], now[0]["version_count"]) == ("2.0.0", 2)
    for ref in (old, "before-v2", "HEAD~1"):
        then = ok(run("registry-list", "--rev", ref, "--json"))["models"]
        assert [(m["name"], m["latest"], m["version_count"]) for m in then] == [("m", "1.0.0", 1)], ref
    info = ok(run("registry-info", "m", "--rev", old, "--json"))
    assert [v["version"] for v in info["versions"]] == ["1.0.0"]
    error(run("registry-info", "m", "--version", "2.0.0", "--rev", old, "--json"), "not_found", 3)
    all_versions = ok(run("registry-list", "--all-versions", "--rev", old, "--json"))["versions"]
    assert [v["version"] for v in all_versions] == ["1.0.0"]


def test_rev_reads_an_artifact_from_git_objects(cli, project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact(b"v1 bytes")), version="1.0.0")
    old = git(project, "rev-parse", "HEAD").strip()
    shutil.rmtree(project / ".specweave/increments" / INCREMENT / "models/m-v1.0.0")
    git(project, "commit", "-q", "-am", "remove the version folder outside the tool")
    r = cli("registry-get", "m", "--version", "1.0.0", "--rev", old, "--path-only")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).read_bytes() == b"v1 bytes"
    assert git(project, "status", "--porcelain") == ""


def test_rev_sees_nothing_before_the_first_registration(run, project: Path, make_artifact) -> None:
    first = git(project, "rev-parse", "HEAD").strip()
    ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    assert ok(run("registry-list", "--rev", first, "--json")) == {"models": []}


def test_rev_sees_the_same_versions_as_the_work_tree(run, zoo: Path) -> None:
    """Work tree and git objects are one interface: other '_' folders are ignored, _archive is searched."""
    reg_meta = json.loads((zoo / ".specweave/increments" / INCREMENT / "models/fraud-model-v1.0.0/metadata.json")
                          .read_text())
    for group, inc in (("_templates", "0001-template"), ("_archive", "0017-churn-old")):
        folder = zoo / ".specweave/increments" / group / inc / "models" / f"{group[1:]}-model-v1.0.0"
        folder.mkdir(parents=True)
        (folder / "metadata.json").write_text(json.dumps({**reg_meta, "name": f"{group[1:]}-model",
                                                          "increment": inc}))
    git(zoo, "add", ".specweave/increments")
    git(zoo, "commit", "-q", "-m", "a template folder and an archived increment")
    from_files = names(ok(run("registry-list", "--json", cwd=zoo)))
    assert from_files == ["archive-model", "churn-model", "fraud-model"]
    assert names(ok(run("registry-list", "--rev", "HEAD", "--json", cwd=zoo))) == from_files


# -- init -------------------------------------------------------------------------------------------


def test_init_creates_specweave_and_ignores_its_cache(cli, tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitignore").write_text("node_modules/")  # no trailing newline
    ok(cli("init", "--json", cwd=folder))
    assert (folder / ".specweave").is_dir()
    lines = (folder / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules/" and lines.count(".specweave/cache/") == 1
    ok(cli("init", str(folder), "--json", cwd=tmp_path))  # idempotent
    assert (folder / ".gitignore").read_text().splitlines() == lines
    assert git(folder, "check-ignore", ".specweave/cache/sw-registry/x").strip() == ".specweave/cache/sw-registry/x"


def test_init_git_creates_the_repository(cli, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    ok(cli("init", "--git", "--json", cwd=folder, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)}))
    assert (folder / ".git").exists() and (folder / ".specweave").is_dir()
    assert ".specweave/cache/" in (folder / ".gitignore").read_text().splitlines()


def test_rev_reads_a_folder_artifact_from_git_objects(cli, project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "saved_model"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "data-0").write_bytes(b"weights")
    ModelRegistry(root=project).register_model("m", str(folder), version="1.0.0")
    old = git(project, "rev-parse", "HEAD").strip()
    r = cli("registry-get", "m", "--version", "1.0.0", "--rev", old, "--json")
    assert r.returncode == 0, r.stdout
    got = Path(json.loads(r.stdout)["data"]["path"])
    assert ".specweave/cache/sw-registry/artifacts/" in got.as_posix()
    assert (got / "saved_model.pb").read_bytes() == b"graph"
    assert (got / "variables" / "data-0").read_bytes() == b"weights"
    assert git(project, "status", "--porcelain") == ""


def test_get_by_a_stage_with_many_versions_gives_the_highest(cli, project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    for version in ("1.0.0", "1.2.0", "1.10.0"):
        reg.register_model("m", str(make_artifact(version.encode())), version=version)
    r = cli("registry-get", "m", "--stage", "dev", "--json")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["data"]["version"] == "1.10.0"
