"""The git transaction (SPEC §8): one commit of registry paths only; the user's work is never touched;
a refused or failed write leaves the work tree and the index exactly as they were."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, Result, error, git, register_and_see_git_pack

MODELS = f".specweave/increments/{INCREMENT}/models"
REGISTRY_PREFIXES = (f".specweave/increments/{INCREMENT}/models/", f".specweave/increments/{INCREMENT}/registry/")



def ok(r: Result) -> dict[str, Any]:
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    return json.loads(r.stdout)["data"]



def git_bytes(cwd: Path, *args: str) -> bytes:
    import subprocess

    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout


def work_tree(root: Path) -> dict[str, bytes | None]:
    """Every file (content) and folder (None) outside .git and the derived cache."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if d != ".git" and os.path.join(rel_dir, d) != ".specweave/cache"]
        for d in dirnames:
            out[os.path.normpath(os.path.join(rel_dir, d)) + "/"] = None
        for f in filenames:
            with open(os.path.join(dirpath, f), "rb") as fh:
                out[os.path.normpath(os.path.join(rel_dir, f))] = fh.read()
    return out


def files_only(tree: dict[str, bytes | None]) -> dict[str, bytes | None]:
    return {k: v for k, v in tree.items() if not k.endswith("/")}


def repo_state(root: Path) -> dict[str, Any]:
    return {
        "head": git(root, "rev-parse", "HEAD"),
        "staged": git_bytes(root, "diff", "--cached", "--binary"),
        "unstaged": git_bytes(root, "diff", "--binary"),
        "status": git_bytes(root, "status", "--porcelain=v1", "--untracked-files=all"),
        "index": git_bytes(root, "ls-files", "--stage"),
    }


@pytest.fixture
def busy_user(project: Path) -> Path:
    """A project where the user is mid-work: staged, partly staged, unstaged, deleted and untracked changes."""
    for name, text in {"notes.txt": "v1\n", "src.py": "a = 1\n", "old.txt": "bye\n", "both.txt": "1\n"}.items():
        (project / name).write_text(text)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "user files")
    (project / "notes.txt").write_text("v2 staged\n")
    (project / "new_staged.txt").write_bytes(b"brand new \x00 binary\n")
    git(project, "add", "notes.txt", "new_staged.txt")
    git(project, "rm", "-q", "old.txt")
    (project / "both.txt").write_text("2 staged\n")
    git(project, "add", "both.txt")
    (project / "both.txt").write_text("3 unstaged on top\n")
    (project / "src.py").write_text("a = 2  # unstaged\n")
    (project / "scratch.txt").write_text("untracked\n")
    return project


def test_user_changes_survive_a_register_byte_for_byte(cli, busy_user: Path, make_artifact) -> None:
    project = busy_user
    before = repo_state(project)
    tree_before = work_tree(project)
    data = ok(cli("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    after = repo_state(project)
    assert after["staged"] == before["staged"]  # still staged, byte for byte
    assert after["unstaged"] == before["unstaged"]
    assert after["status"] == before["status"]
    tree_after = work_tree(project)
    for rel in ("notes.txt", "new_staged.txt", "both.txt", "src.py", "scratch.txt"):
        assert tree_after[rel] == tree_before[rel]
    assert "old.txt" not in tree_after
    # the commit holds the registry paths only, and HEAD's user files are unchanged
    changed = git(project, "show", "--name-only", "--format=", data["commit"]).split()
    assert changed and all(p.startswith(REGISTRY_PREFIXES) for p in changed), changed
    assert git(project, "show", "HEAD:notes.txt") == "v1\n"
    assert git(project, "show", "HEAD:old.txt") == "bye\n"
    assert git(project, "rev-parse", "HEAD~1") == before["head"]


def test_the_register_commit_holds_only_registry_paths(run, project: Path, make_artifact) -> None:
    data = ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    changed = set(git(project, "show", "--name-only", "--format=", data["commit"]).split())
    assert changed == {
        f"{MODELS}/m-v1.0.0/model.pkl",
        f"{MODELS}/m-v1.0.0/metadata.json",
        f"{MODELS}/m-v1.0.0/requirements.txt",
        f"{MODELS}/m-v1.0.0/features.yaml",
        f".specweave/increments/{INCREMENT}/registry/model_catalog.yaml",
        f".specweave/increments/{INCREMENT}/registry/lineage_graph.json",
    }
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


# -- a failing pre-commit hook -----------------------------------------------------------------------

HOOK = "#!/bin/sh\necho 'lint-bot: trailing whitespace in model card' >&2\necho 'lint-bot says no'\nexit 1\n"


def install_hook(project: Path) -> Path:
    hook = project / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(HOOK)
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


@pytest.fixture
def hooked(project: Path, make_artifact) -> Path:
    """fraud-model 1.0.0 registered; then a user's staged change and a pre-commit hook that always fails."""
    ModelRegistry(root=project).register_model("fraud-model", str(make_artifact()), version="1.0.0")
    (project / "README.md").write_text("staged by the user\n")
    git(project, "add", "README.md")
    install_hook(project)
    return project


def test_a_failing_hook_is_git_error_showing_its_output(cli, hooked: Path, make_artifact) -> None:
    err = error(cli("registry-register", "fraud-model", "--artifact", str(make_artifact()), "--json"), "git_error", 6)
    text = json.dumps(err)
    assert "lint-bot: trailing whitespace in model card" in text
    human = cli("registry-register", "fraud-model", "--artifact", str(make_artifact()))
    assert human.returncode == 6
    assert "lint-bot: trailing whitespace in model card" in human.stderr
    assert "Traceback" not in human.stderr


def test_a_passing_hooks_output_goes_into_data_warnings(cli, project: Path, make_artifact) -> None:
    hook = install_hook(project)
    hook.write_text("#!/bin/sh\necho 'lint-bot: 3 files checked, all good' >&2\nexit 0\n")
    r = cli("registry-register", "m", "--artifact", str(make_artifact()), "--json")
    data = ok(r)  # also: stderr stays empty
    assert data["commit"]
    assert any("lint-bot: 3 files checked, all good" in w for w in data.get("warnings", [])), data.get("warnings")


def test_a_failing_hook_restores_the_files_and_the_index(run, hooked: Path, make_artifact) -> None:
    state, tree = repo_state(hooked), work_tree(hooked)
    r = run("registry-register", "fraud-model", "--artifact", str(make_artifact()), "--json")
    assert r.returncode == 6
    assert repo_state(hooked) == state
    assert files_only(work_tree(hooked)) == files_only(tree)
    assert not (hooked / MODELS / "fraud-model-v1.0.1").exists()
    # and the registry is not left 'dirty': without the hook the same write goes through
    (hooked / ".git" / "hooks" / "pre-commit").unlink()
    assert ok(run("registry-register", "fraud-model", "--artifact", str(make_artifact()), "--json"))["commit"]
    assert git(hooked, "diff", "--cached", "--name-only").split() == ["README.md"]


def test_a_failing_hook_on_the_first_register_leaves_no_folders_behind(run, project: Path, make_artifact) -> None:
    install_hook(project)
    tree = work_tree(project)
    state = repo_state(project)
    r = run("registry-register", "m", "--artifact", str(make_artifact()), "--json")
    assert r.returncode == 6
    assert repo_state(project) == state
    assert work_tree(project) == tree  # files and folders: no empty models/ or registry/ left


# -- after a crash ---------------------------------------------------------------------------------


def crash_half_written_artifact(project: Path) -> None:
    folder = project / MODELS / "fraud-model-v2.0.0"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"\x80\x04 half of a pick")


def crash_modified_metadata(project: Path) -> None:
    path = project / MODELS / "fraud-model-v1.0.0" / "metadata.json"
    meta = json.loads(path.read_text())
    meta["stage"] = "production"
    path.write_text(json.dumps(meta, indent=2))


def crash_temp_file(project: Path) -> None:
    (project / MODELS / "fraud-model-v1.0.0" / ".metadata.json.k3j2.tmp").write_text("{")


def crash_deleted_derived_file(project: Path) -> None:
    (project / ".specweave" / "increments" / INCREMENT / "registry" / "model_catalog.yaml").unlink()


@pytest.mark.parametrize("crash", [crash_half_written_artifact, crash_modified_metadata, crash_temp_file,
                                   crash_deleted_derived_file])
def test_the_next_write_after_a_crash_is_dirty_registry(run, project: Path, make_artifact, crash) -> None:
    ModelRegistry(root=project).register_model("fraud-model", str(make_artifact()), version="1.0.0")
    crash(project)
    tree, head = work_tree(project), git(project, "rev-parse", "HEAD")
    err = error(run("registry-register", "other-model", "--artifact", str(make_artifact()), "--json"),
                "dirty_registry", 4)
    assert "registry-verify --repair" in (err["hint"] or "")
    assert work_tree(project) == tree  # the refusal repairs nothing by itself and writes nothing
    assert git(project, "rev-parse", "HEAD") == head


def test_a_users_unrelated_dirty_files_do_not_make_the_registry_dirty(run, project: Path, make_artifact) -> None:
    (project / ".specweave" / "increments" / INCREMENT / "spec.md").write_text("# edited by the user\n")
    (project / ".specweave" / "increments" / INCREMENT / "plan.md").write_text("new plan\n")
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    status = git(project, "status", "--porcelain").splitlines()
    assert sorted(status) == sorted([f" M .specweave/increments/{INCREMENT}/spec.md",
                                     f"?? .specweave/increments/{INCREMENT}/plan.md"])


# -- what git writes ---------------------------------------------------------------------------------


def test_registry_paths_ignored_by_the_users_gitignore_are_still_committed(run, project: Path, make_artifact) -> None:
    with open(project / ".gitignore", "a") as fh:
        fh.write("*.pkl\n*.yaml\nmodels/\nregistry/\n")
    git(project, "commit", "-q", "-am", "ignore build outputs")
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    tracked = set(git(project, "ls-files", ".specweave").split())
    assert {f"{MODELS}/m-v1.0.0/model.pkl", f"{MODELS}/m-v1.0.0/features.yaml",
            f".specweave/increments/{INCREMENT}/registry/model_catalog.yaml"} <= tracked
    # the next write is not refused as dirty, and also lands whole
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    assert f"{MODELS}/m-v1.0.1/model.pkl" in git(project, "ls-files", ".specweave").split()
    assert git(project, "status", "--porcelain") == ""


def stored_kib(repo: Path) -> int:
    """KiB git uses on disk for objects, loose and packed (``git count-objects -v``)."""
    counts = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    return int(counts["size"]) + int(counts["size-pack"])


def test_only_big_artifacts_skip_zlib_everything_else_is_compressed(project: Path, tmp_path: Path) -> None:
    reg = ModelRegistry(root=project)
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:  # 65 MiB of zeros: above core.bigFileThreshold (64 MiB), deflates to ~64 KiB
        fh.truncate(65 << 20)
    before = stored_kib(project)
    reg.register_model("m", str(big), version="1.0.0")
    assert stored_kib(project) - before >= 65 * 1024  # stored, not deflated (SPEC §7.1: big files do not compress)
    # a small artifact, metadata, derived files, trees and the commit are compressed as git compresses them
    small = tmp_path / "small.bin"
    small.write_bytes(b"\0" * (1 << 20))
    before = stored_kib(project)
    reg.register_model("m", str(small), version="1.0.1")
    assert stored_kib(project) - before < 64
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "cat-file", "-s", "HEAD:" + MODELS + "/m-v1.0.0/big.bin").strip() == str(65 << 20)


def test_a_write_starts_gits_automatic_housekeeping_detached_and_silent(project: Path, make_artifact,
                                                                        tmp_path: Path) -> None:
    from tests.conftest import run_cli
    from tests.reliability.test_housekeeping import fill_objects_17

    fill_objects_17(project, 28)  # git's loose-object estimate over its limit: housekeeping is due (issue 10)
    trace = tmp_path / "trace.txt"
    r = run_cli(project, "registry-register", "m", "--artifact", str(make_artifact()), "--json",
                env={"GIT_TRACE": str(trace)})
    ok(r)  # nothing on stderr: housekeeping prints nothing
    import time

    deadline = time.monotonic() + 60  # detached: it may still be starting when the write returns
    while "maintenance run --auto" not in (trace.read_text() if trace.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "maintenance run --auto --quiet" in trace.read_text()


def test_housekeeping_follows_the_users_gc_settings(project: Path, make_artifact) -> None:
    """With gc.auto=1 git packs the loose objects after a write, as it would after its own ``git commit``."""
    import hashlib

    # git estimates its loose objects from the folder objects/17/: put two there, so gc.auto=1 makes gc due
    found = 0
    for i in range(100_000):
        data = f"filler {i}\n".encode()
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest().startswith("17"):
            (project / "filler.txt").write_bytes(data)
            git(project, "hash-object", "-w", "filler.txt")
            found += 1
            if found == 2:
                break
    (project / "filler.txt").unlink()
    git(project, "config", "gc.auto", "1")
    register_and_see_git_pack(project, make_artifact)


def trailers(project: Path, key: str) -> list[str]:
    return git(project, "log", "-1", f"--format=%(trailers:key={key},valueonly)").strip().splitlines()


def test_user_text_cannot_forge_a_trailer(cli, project: Path, make_artifact) -> None:
    forged = "fine\n\nRegistry-Event: promote\nRegistry-Version: 9.9.9\nRegistry-To: production"
    ok(cli("registry-register", "m", "--artifact", str(make_artifact()), "--version", "1.0.0",
           "--description", forged, "--actor", "eve@example.com\nRegistry-Event: rollback", "--json"))
    assert trailers(project, "Registry-Event") == ["register"]
    assert trailers(project, "Registry-Version") == ["1.0.0"]
    assert trailers(project, "Registry-To") == ["dev"]
    assert len(git(project, "log", "-1", "--format=%s").splitlines()) == 1

    ModelRegistry(root=project).promote_model("m", "1.0.0", to_stage="staging", reason=forged)
    assert trailers(project, "Registry-Event") == ["promote"]
    assert trailers(project, "Registry-Version") == ["1.0.0"]
    assert trailers(project, "Registry-To") == ["staging"]
    reasons = trailers(project, "Registry-Reason")
    assert len(reasons) == 1 and "fine" in reasons[0]
    # git's own trailer parser agrees
    message = git(project, "log", "-1", "--format=%B")
    parsed = git_bytes_input(project, message, "interpret-trailers", "--parse").splitlines()
    assert [line for line in parsed if line.startswith("Registry-Event:")] == ["Registry-Event: promote"]


def git_bytes_input(cwd: Path, text: str, *args: str) -> str:
    import subprocess

    return subprocess.run(["git", *args], cwd=cwd, input=text, capture_output=True, text=True, check=True).stdout


def test_a_project_in_a_subfolder_of_the_repository(cli, run, tmp_path: Path, make_artifact) -> None:
    """A monorepo: the .specweave/ project is services/fraud/ inside a bigger git work tree."""
    repo = tmp_path / "mono"
    project = repo / "services" / "fraud"
    inc = project / ".specweave" / "increments" / INCREMENT
    inc.mkdir(parents=True)
    (inc / "metadata.json").write_text('{"status": "active"}\n')
    (repo / "other-service").mkdir()
    (repo / "other-service" / "app.py").write_text("x = 1\n")
    (repo / ".gitignore").write_text(".specweave/cache/\n**/.specweave/cache/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "monorepo")
    (repo / "other-service" / "app.py").write_text("x = 2\n")
    git(repo, "add", "other-service/app.py")
    src = project / "src"
    src.mkdir()
    data = ok(cli("registry-register", "m", "--artifact", str(make_artifact()), "--json", cwd=src))
    prefix = f"services/fraud/.specweave/increments/{INCREMENT}/"
    committed = git(repo, "show", "--name-only", "--format=", data["commit"]).split()
    assert committed and all(p.startswith(prefix) for p in committed), committed
    assert git(repo, "diff", "--cached", "--name-only").split() == ["other-service/app.py"]
    first = git(repo, "rev-parse", "HEAD").strip()
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json", cwd=src))
    listed = ok(run("registry-list", "--rev", first, "--json", cwd=src))["models"]
    assert [(m["name"], m["version_count"]) for m in listed] == [("m", 1)]
    # a hand edit inside the project is seen as dirty, paths relative to the project root
    meta = project / ".specweave" / "increments" / INCREMENT / "models" / "m-v1.0.0" / "metadata.json"
    meta.write_text(meta.read_text().replace('"stage": "dev"', '"stage": "production"'))
    err = error(run("registry-register", "m", "--artifact", str(make_artifact()), "--json", cwd=src),
                "dirty_registry", 4)
    assert f".specweave/increments/{INCREMENT}/models/m-v1.0.0/metadata.json" in err["message"]


def test_a_refused_folder_artifact_leaves_nothing_behind(project: Path, tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    src.mkdir()
    (src / "weights.bin").write_bytes(b"w")
    (src / "link").symlink_to(src / "weights.bin")
    tree, state = work_tree(project), repo_state(project)
    with pytest.raises(Exception) as exc:
        ModelRegistry(root=project).register_model("m", str(src), version="1.0.0")
    assert getattr(exc.value, "code", None) == "invalid_input"
    assert repo_state(project) == state
    assert files_only(work_tree(project)) == files_only(tree)


def test_the_read_cache_never_shows_up_in_git_status(tmp_path) -> None:
    from tests.conftest import git, make_project, run_cli

    project = make_project(tmp_path / "p")
    (project / ".gitignore").write_text("")  # a project that does not ignore .specweave/cache/
    git(project, "commit", "-qam", "no ignores")
    art = tmp_path / "m.bin"
    art.write_bytes(b"x")
    assert run_cli(project, "registry-register", "m", "--artifact", str(art), "--json").returncode == 0
    assert run_cli(project, "registry-list", "--json").returncode == 0
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_first_commit_of_a_project_in_a_subfolder_leaves_staged_files_elsewhere_alone(tmp_path) -> None:
    """On an unborn branch everything staged is new: only our paths may go into the registry's commit."""
    from tests.conftest import git, run_cli

    repo = tmp_path / "mono"
    project = repo / "services" / "fraud"
    (project / ".specweave" / "increments" / "0001-first").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "top.txt").write_text("staged at the top\n")
    git(repo, "add", "top.txt")
    art = tmp_path / "m.bin"
    art.write_bytes(b"x")
    r = run_cli(project, "registry-register", "m", "--artifact", str(art), "--increment", "0001-first", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert "top.txt" not in committed
    assert all(p.startswith("services/fraud/.specweave/") for p in committed)
    assert git(repo, "diff", "--cached", "--name-only").split() == ["top.txt"]


def test_hooks_under_core_hooks_path_still_run(tmp_path) -> None:
    """Without hooks the commit is made with plumbing; a hook anywhere git would run one forces git commit."""
    from tests.conftest import git, make_project, run_cli

    project = make_project(tmp_path / "p")
    hooks = project / "my-hooks"
    hooks.mkdir()
    hook = hooks / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'custom hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    git(project, "config", "core.hooksPath", "my-hooks")
    art = tmp_path / "m.bin"
    art.write_bytes(b"x")
    head = git(project, "rev-parse", "HEAD")
    r = run_cli(project, "registry-register", "m", "--artifact", str(art), "--json")
    assert r.returncode == 6, r.stdout
    assert "custom hook says no" in r.stdout
    assert git(project, "rev-parse", "HEAD") == head
    git(project, "config", "--unset", "core.hooksPath")
    ok = run_cli(project, "registry-register", "m", "--artifact", str(art), "--json")
    assert ok.returncode == 0, ok.stdout
    assert git(project, "reflog", "-1", "--format=%gs").startswith("commit: registry: register m v1.0.0")


def test_commits_in_a_sha256_repository_from_its_first_commit(tmp_path: Path, make_artifact) -> None:
    """The commit's trees are built by us and checked against git's: also with sha256 ids and no HEAD yet."""
    repo = tmp_path / "sha256"
    (repo / ".specweave" / "increments" / INCREMENT).mkdir(parents=True)
    (repo / ".specweave" / "increments" / INCREMENT / "metadata.json").write_text('{"status": "active"}\n')
    git(repo, "init", "-q", "--object-format=sha256", "-b", "main")
    reg = ModelRegistry(root=repo)
    first = reg.register_model("m", str(make_artifact(b"one")), version="1.0.0")
    second = reg.register_model("m", str(make_artifact(b"two")), version="1.0.1")
    assert first.commit and len(first.commit) == 64 and second.commit and len(second.commit) == 64
    git(repo, "fsck", "--strict")
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == sorted(
        f"{MODELS}/m-v1.0.{i}/{f}" for i in (0, 1) for f in ("features.yaml", "metadata.json", "model.pkl",
                                                             "requirements.txt")
    ) + [f".specweave/increments/{INCREMENT}/registry/{f}" for f in ("lineage_graph.json", "model_catalog.yaml")]
    # the increment's own metadata.json is the user's file: never committed by the registry
    assert git(repo, "status", "--porcelain").split() == ["??", f".specweave/increments/{INCREMENT}/metadata.json"]
