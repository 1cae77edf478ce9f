"""Issue 6, Deliver 3, 5, 6, 7: every bad input is an error from SPEC §9's table naming the input, with nothing
written; hostile repositories are refused before a write; reads stay contained; audit reads real histories;
sync-docs keeps every byte; written files get the umask's permissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, error, git, make_project

MODELS = Path(".specweave/increments") / INCREMENT / "models"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


def state(project: Path) -> tuple[str, str]:
    return git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain", "--untracked-files=all")


def ok(r):  # type: ignore[no-untyped-def]
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)["data"]


@pytest.fixture
def side_files(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "side"
    d.mkdir()
    files = {
        "folder": d / "folder.json",
        "fifo": d / "fifo.yaml",
        "not_utf8": d / "latin1.yaml",
        "huge": d / "huge.json",
        "bomb": d / "bomb.yaml",
        "deep_json": d / "deep.json",
        "deep_yaml": d / "deep.yaml",
        "empty_name": Path(""),
        "missing": d / "missing.json",
        "zero": Path("/dev/zero"),
    }
    files["folder"].mkdir()
    os.mkfifo(files["fifo"])
    files["not_utf8"].write_bytes(b"description: caf\xe9\n")
    with open(files["huge"], "wb") as fh:
        fh.truncate(17 * 1024 * 1024)
    files["bomb"].write_text(BOMB)
    files["deep_json"].write_text("[" * 10000 + "]" * 10000)
    files["deep_yaml"].write_text("[" * 10000 + "]" * 10000)
    return files


@pytest.mark.parametrize("option", ["--metadata", "--signature", "--features", "--requirements"])
def test_bad_side_files_are_invalid_input_naming_the_file(
    run, project: Path, make_artifact, side_files: dict[str, Path], option: str
) -> None:
    art = str(make_artifact())
    before = state(project)
    for kind, path in side_files.items():
        if option == "--requirements" and kind in ("bomb", "deep_json", "deep_yaml"):
            continue  # requirements.txt is text: stored as it is
        r = run("registry-register", "m", "--artifact", art, option, str(path), "--json")
        err = error(r, "invalid_input", 2)
        if str(path):
            assert str(path) in err["message"], (kind, err)
        else:
            assert "empty" in err["message"]
        assert state(project) == before, kind


def test_a_fifo_side_file_never_blocks_a_real_process(project: Path, make_artifact, tmp_path: Path) -> None:
    fifo = tmp_path / "meta.json"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sw_registry",
            "registry-register",
            "m",
            "--artifact",
            str(make_artifact()),
            "--metadata",
            str(fifo),
            "--json",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["code"] == "invalid_input"
    assert "FIFO" in json.loads(proc.stdout)["error"]["message"]


def test_bad_artifact_paths(run, project: Path, tmp_path: Path) -> None:
    before = state(project)
    (project / "model.pkl").write_bytes(b"m")
    inside = project / ".specweave" / "increments" / INCREMENT / "spec.md"
    nested = tmp_path / "nested-project"
    (nested / ".git").mkdir(parents=True)
    (nested / "model.pkl").write_bytes(b"m")
    os.mkfifo(tmp_path / "fifo.pkl")
    cases = [
        "",
        "x" * 5000,
        "a/" * 3000,
        ".",
        str(project),
        str(project / ".git"),
        str(project / ".git" / "HEAD"),
        str(inside),
        str(tmp_path),
        str(nested),
        str(tmp_path / "fifo.pkl"),
        "/dev/zero",
        "nul\0byte",
    ]
    for value in cases:
        if "\0" in value:
            with pytest.raises(Exception) as exc:  # the OS refuses NUL in argv before we run
                subprocess.run(["true", value])
            assert "null" in str(exc.value).lower() or "embedded" in str(exc.value).lower()
            continue
        err = error(run("registry-register", "m", "--artifact", value, "--json"), "invalid_input", 2)
        assert err["message"], value
    # the project's own model.pkl is a fine artifact: only the project itself and its .git/.specweave are not
    assert state(project)[0] == before[0]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--version", "vv1.0.0"), "invalid_version"),
        (("--version", ""), "invalid_version"),
        (("--version", "٤٢"), "invalid_version"),
        (("--increment", ""), "invalid_input"),
        (("--increment", "٤٢"), "invalid_input"),
        (("--increment", "٠٠٤٢-fraud-detection"), "invalid_input"),
        (("--bump", "huge"), "usage"),
    ],
)
def test_bad_versions_and_increments(run, project: Path, make_artifact, args: tuple[str, str], code: str) -> None:
    before = state(project)
    error(run("registry-register", "m", "--artifact", str(make_artifact()), *args, "--json"), code, 2)
    assert state(project) == before


def test_a_metadata_file_nested_10000_deep_is_integrity_for_every_read_and_write(
    run, project: Path, make_artifact
) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    meta = project / MODELS / "m-v1.0.0" / "metadata.json"
    doc = json.loads(meta.read_text())
    meta.write_text(json.dumps(doc)[:-1] + ', "deep": ' + "[" * 10000 + "]" * 10000 + "}")
    git(project, "commit", "-qam", "damage")
    for args in (
        ("registry-list",),
        ("registry-info", "m"),
        ("registry-get", "m", "--version", "1.0.0"),
        ("registry-promote", "m", "1.0.0", "--to", "staging"),
        ("registry-verify",),
    ):
        err = error(run(*args, "--json"), "integrity", 4)
        assert "metadata.json" in err["message"], args


def test_a_yaml_alias_bomb_in_registry_yaml_is_refused(run, project: Path) -> None:
    (project / ".specweave" / "registry.yaml").write_text("models: {}\nx-bomb: &z []\n" + BOMB.replace("a:", "aa:"))
    err = error(run("registry-list", "--json"), "config_error", 2)
    assert "registry.yaml" in err["message"]


def _outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir(exist_ok=True)
    return out


def test_a_models_folder_linked_outside_the_repository_is_refused_before_any_write(
    run, project: Path, make_artifact, tmp_path: Path
) -> None:
    outside = _outside(tmp_path)
    (project / MODELS).symlink_to(outside, target_is_directory=True)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "link models out")
    before = state(project)
    err = error(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"), "integrity", 4)
    assert str(MODELS) in err["message"] and "git" not in err["message"].split(":")[0]
    assert list(outside.iterdir()) == [] and state(project) == before


@pytest.mark.parametrize(
    "link",
    [
        ".specweave",
        f".specweave/increments/{INCREMENT}",
        f"{MODELS}/m-v1.0.0",
        f".specweave/increments/{INCREMENT}/registry",
    ],
)
def test_registry_folders_linked_outside_are_refused(project: Path, make_artifact, tmp_path: Path, link: str) -> None:
    reg = ModelRegistry(root=project)
    reg.register_model("m", str(make_artifact()), version="1.0.0")
    outside = tmp_path / "outside"
    real = project / link
    subprocess.run(["cp", "-a", str(real), str(outside)], check=True)
    subprocess.run(["rm", "-rf", str(real)], check=True)
    real.symlink_to(outside, target_is_directory=True)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a hostile repository: a registry folder links outside")
    snapshot = sorted((p.relative_to(outside).as_posix(), p.stat().st_mtime_ns) for p in outside.rglob("*"))
    from tests.cli.inprocess import run_main

    r = run_main(project, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    err = error(r, "integrity", 4)
    assert link in err["message"]
    assert sorted((p.relative_to(outside).as_posix(), p.stat().st_mtime_ns) for p in outside.rglob("*")) == snapshot


def test_an_increment_without_metadata_json_and_crlf_files(run, project: Path, make_artifact) -> None:
    inc = project / ".specweave" / "increments" / "0050-no-metadata"
    inc.mkdir()
    (inc / "spec.md").write_bytes(b"# spec\r\nline\r\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "increment without metadata.json")
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--increment", "50", "--json"))
    assert (inc / "spec.md").read_bytes() == b"# spec\r\nline\r\n"
    history = inc / "registry" / "deployment_history.md"
    ok(run("registry-promote", "m", "1.0.0", "--to", "staging", "--json"))
    crlf = history.read_bytes().replace(b"\n", b"\r\n")
    history.write_bytes(crlf)
    git(project, "commit", "-qam", "CRLF line endings")
    ok(run("registry-promote", "m", "1.0.0", "--to", "production", "--json"))
    assert history.read_bytes().startswith(crlf)  # earlier lines kept byte for byte


def test_sync_docs_keeps_every_byte_outside_the_markers(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    doc = project / ".specweave/docs/internal/architecture/model-registry.md"
    doc.parent.mkdir(parents=True)
    before = b"# Our models\r\n\r\nIntro with CRLF \xe2\x9c\x85\r\n\r\n"
    after = b"\r\n## Notes\r\ntrailing text without newline"
    doc.write_bytes(before + b"<!-- sw-registry:begin -->\nold\n<!-- sw-registry:end -->" + after)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "doc")
    data = ok(run("sync-docs", "update", "--json"))
    assert data["changed"] is True
    text = doc.read_bytes()
    assert text.startswith(before) and text.endswith(after)
    assert ok(run("sync-docs", "update", "--json"))["commit"] is None


def test_a_newer_schema_version_is_refused_on_write(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    meta = project / MODELS / "m-v1.0.0" / "metadata.json"
    meta.write_text(meta.read_text().replace('"schema_version": 1', '"schema_version": 2'))
    git(project, "commit", "-qam", "from the future")
    before = state(project)
    err = error(run("registry-promote", "m", "1.0.0", "--to", "staging", "--json"), "integrity", 4)
    assert "upgrade" in err["hint"] and state(project) == before
    (project / ".specweave/registry.yaml").write_text("schema_version: 2\nnew_feature: {}\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "policy from the future")
    before = state(project)
    err = error(run("registry-register", "n", "--artifact", str(make_artifact()), "--json"), "integrity", 4)
    assert "upgrade" in err["hint"] and state(project) == before


def test_reads_at_a_folder_that_is_not_a_project_write_nothing(run, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for args in (
        ("registry-list",),
        ("registry-info", "m"),
        ("registry-history", "m"),
        ("registry-audit",),
        ("registry-get", "m", "--stage", "production"),
        ("registry-verify",),
    ):
        r = run(*args, "--root", str(plain), "--json")
        assert r.returncode in (0, 3, 4, 6), r.stdout
        assert "Traceback" not in r.stdout + r.stderr
        assert list(plain.iterdir()) == [], args
    repo = make_project(tmp_path / "repo-without-specweave", increments=())
    os.unlink(repo / ".gitignore")
    for args in (("registry-list",), ("registry-history", "m"), ("registry-audit",)):
        run(*args, "--root", str(repo), "--json")
        assert not (repo / ".specweave").exists(), args


def test_no_git_output_reaches_the_terminal(project: Path, make_artifact) -> None:
    hook = project / ".git" / "hooks" / "post-commit"
    hook.write_text("#!/bin/sh\necho 'hello from a hook'\necho 'hint: from git' >&2\n")
    hook.chmod(0o755)
    for args in (
        ["registry-register", "m", "--artifact", str(make_artifact())],
        ["registry-promote", "m", "1.0.0", "--to", "staging"],
        ["registry-history", "m"],
        ["registry-audit"],
        ["registry-list"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "sw_registry", *args, "--json"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        json.loads(proc.stdout)  # only the envelope: the hook's words are inside data.warnings


def test_audit_lists_only_commits_that_touched_registry_paths(run, project: Path, make_artifact) -> None:
    ok(run("registry-register", "m", "--artifact", str(make_artifact()), "--json"))
    archive = project / ".specweave/increments/_archive"
    for i in range(3):  # SpecWeave finishes and archives increments that never held a model
        inc = f"00{60 + i}-plain-{i}"
        folder = project / ".specweave/increments" / inc
        folder.mkdir(parents=True)
        (folder / "spec.md").write_text(f"# {inc}\n")
        (folder / "metadata.json").write_text('{"status": "completed"}\n')
        git(project, "add", "-A")
        git(project, "commit", "-qm", f"increment {inc}")
        archive.mkdir(exist_ok=True)
        git(project, "mv", f".specweave/increments/{inc}", f".specweave/increments/_archive/{inc}")
        git(project, "commit", "-qm", f"archive {inc}")
    git(project, "mv", f".specweave/increments/{INCREMENT}", f".specweave/increments/_archive/{INCREMENT}")
    git(project, "commit", "-qm", "archive the model's increment")
    moved = git(project, "rev-parse", "HEAD").strip()
    data = ok(run("registry-audit", "--json"))
    assert [c["commit"] for c in data["other_commits"]] == [moved]
    assert data["unaudited_commits"] == []
    ok(run("registry-verify", "--json"))


def test_written_files_get_the_permissions_of_the_umask(project: Path, make_artifact) -> None:
    old = os.umask(0o022)
    try:
        from sw_registry.store import files

        files._UMASK.clear()
        ModelRegistry(root=project).register_model("m", str(make_artifact()), version="1.0.0")
    finally:
        os.umask(old)
        files._UMASK.clear()
    for path in (project / MODELS / "m-v1.0.0").iterdir():
        assert path.stat().st_mode & 0o777 == 0o644, path
    for path in (project / ".specweave/increments" / INCREMENT / "registry").iterdir():
        assert path.stat().st_mode & 0o777 == 0o644, path
