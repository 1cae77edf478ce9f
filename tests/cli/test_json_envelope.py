"""The output contract (SPEC §9): one JSON envelope on stdout, empty stderr, stable codes and exit codes.

Representative cases run the real CLI in a subprocess; the long tables of error cases call the same
entry point (``sw_registry.cli.app.main``) in-process, which is what ``python -m sw_registry`` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from sw_registry.registry import ModelRegistry
from tests.cli.inprocess import run_main
from tests.conftest import Result, git

COMMANDS = ("registry-register", "registry-list", "registry-info", "registry-get", "init", "demo")


def envelope_ok(r: Result) -> Any:
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    doc = json.loads(r.stdout)  # exactly one document: json.loads refuses trailing data
    assert set(doc) == {"ok", "data"} and doc["ok"] is True
    return doc["data"]


def envelope_error(r: Result, code: str, exit_code: int) -> dict[str, Any]:
    assert r.stderr == "", r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"ok", "error"} and doc["ok"] is False, doc
    error = doc["error"]
    assert {"code", "message", "hint"} <= set(error)
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert r.returncode == exit_code, (r.returncode, error)
    return error


@pytest.fixture
def main_cli(project: Path):  # type: ignore[no-untyped-def]
    """main_cli(*args, env=None) -> Result: the CLI's entry point in-process, in the project folder."""

    def call(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_main(project, *args, env=env)

    return call


@pytest.fixture
def registered(project: Path, make_artifact) -> Path:
    """The project with fraud-model v1.0.0 registered through the API."""
    ModelRegistry(root=project).register_model(
        "fraud-model", str(make_artifact(b"weights")), version="1.0.0", metadata={"accuracy": 0.9}
    )
    return project


# -- success envelopes ---------------------------------------------------------------------


def test_register_json_envelope(cli, make_artifact) -> None:
    data = envelope_ok(cli("registry-register", "fraud-model", "--artifact", str(make_artifact()), "--json"))
    assert data["name"] == "fraud-model" and data["version"] == "1.0.0"
    assert isinstance(data["commit"], str) and len(data["commit"]) == 40


@pytest.mark.parametrize(
    "args",
    [
        ("registry-list",),
        ("registry-list", "--all-versions"),
        ("registry-info", "fraud-model"),
        ("registry-info", "fraud-model", "--version", "v1"),
        ("registry-get", "fraud-model", "--version", "1.0.0", "--path-only"),
    ],
)
def test_read_commands_json_envelope(main_cli, registered: Path, args: tuple[str, ...]) -> None:
    data = envelope_ok(main_cli(*args, "--json"))
    assert isinstance(data, dict) and data


def test_init_json_envelope(cli, tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    git(folder, "init", "-q")
    data = envelope_ok(cli("init", str(folder), "--json", cwd=folder))
    assert isinstance(data, dict)


def test_init_and_demo_take_root_as_every_command_does(cli, tmp_path: Path) -> None:
    """SPEC §7: every command takes --root; for init and demo it names the folder PATH names."""
    folder = tmp_path / "by-root"
    folder.mkdir()
    git(folder, "init", "-q")
    data = envelope_ok(cli("init", "--root", str(folder), "--json", cwd=tmp_path))
    assert data["root"] == str(folder.resolve()) and (folder / ".specweave").is_dir()
    assert envelope_ok(cli("init", str(folder), "--root", str(folder), "--json", cwd=tmp_path))
    envelope_error(cli("init", str(tmp_path), "--root", str(folder), "--json", cwd=tmp_path), "usage", 2)
    envelope_error(cli("demo", str(tmp_path / "a"), "--root", str(tmp_path / "b"), "--json", cwd=tmp_path),
                   "usage", 2)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_demo_json_envelope(cli, tmp_path: Path) -> None:
    data = envelope_ok(cli("demo", str(tmp_path / "demo"), "--json", cwd=tmp_path))
    assert isinstance(data, dict)
    # the demo's own story, checked here to run it once: a tracked experiment and a monitored auto-rollback
    subjects = git(Path(data["root"]), "log", "--format=%s").splitlines()
    assert "registry: experiment exp-003-retrain registers fraud-detection-model v1.1.1" in subjects
    assert "registry: auto-rollback fraud-detection-model to v1.0.0" in subjects


def test_env_var_turns_on_json_mode(cli, registered: Path) -> None:
    data = envelope_ok(cli("registry-list", env={"SW_REGISTRY_JSON": "1"}))
    assert [m["name"] for m in data["models"]] == ["fraud-model"]


def test_env_var_json_mode_applies_to_errors(main_cli) -> None:
    envelope_error(main_cli("registry-info", "nope", env={"SW_REGISTRY_JSON": "1"}), "not_found", 3)


def test_json_output_uses_canonical_versions_and_utc_times(main_cli, registered: Path) -> None:
    data = envelope_ok(main_cli("registry-info", "fraud-model", "--version", "v1.0", "--json"))
    assert data["version"] == "1.0.0"
    assert data["created_at"].endswith("Z") and "T" in data["created_at"]


def test_warnings_go_into_data_not_stderr(cli, main_cli, project: Path, make_artifact) -> None:
    (project / ".specweave" / "registry.yaml").write_text("large_artifact_warn_mb: 0.001\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "policy")
    r = cli("registry-register", "big-model", "--artifact", str(make_artifact(b"\0" * 4096)), "--json")
    data = envelope_ok(r)
    assert data["warnings"] and all(isinstance(w, str) for w in data["warnings"])
    assert "artifact_store" in data["warnings"][0]
    human = main_cli("registry-register", "big-model", "--artifact", str(make_artifact(b"\1" * 4096)))
    assert human.returncode == 0
    assert "artifact_store" in human.stderr and "artifact_store" not in human.stdout


# -- error envelopes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (("registry-info", "nope"), "not_found", 3),
        (("registry-info", "fraud-model", "--version", "9.9.9"), "not_found", 3),
        (("registry-info", "Bad Name"), "invalid_name", 2),
        (("registry-info", "fraud-model", "--version", "1.0.0.post1"), "invalid_version", 2),
        (("registry-get", "nope"), "not_found", 3),
        (("registry-get", "fraud-model", "--stage", "production"), "not_found", 3),
        (("registry-list", "--stage", "nowhere"), "invalid_input", 2),
        (("registry-list", "--increment", "0999"), "not_found", 3),
        (("registry-register", "fraud-model", "--artifact", "/no/such/file"), "invalid_input", 2),
        (("registry-register", "fraud-model", "--artifact", "{art}", "--bump", "huge"), "usage", 2),
        (("registry-register", "fraud-model", "--artifact", "{art}", "--metric", "accuracy=high"), "invalid_input", 2),
        (("registry-register", "fraud-model", "--artifact", "{art}", "--version", "1.0.0"), "already_exists", 5),
        (("registry-register", "fraud-model", "--artifact", "{art}", "--parent", "nope"), "invalid_version", 2),
    ],
)
def test_error_envelopes_carry_the_spec_code_and_exit_code(
    main_cli, registered: Path, make_artifact, args: tuple[str, ...], code: str, exit_code: int
) -> None:
    art = str(make_artifact(b"different"))
    envelope_error(main_cli(*[a.replace("{art}", art) for a in args], "--json"), code, exit_code)


def test_error_envelope_from_the_real_process(cli, registered: Path) -> None:
    envelope_error(cli("registry-info", "fraud-model", "--version", "9.9.9", "--json"), "not_found", 3)


@pytest.mark.parametrize(
    "args",
    [
        ("registry-list", "--bogus"),
        ("registry-info",),  # missing argument
        ("registry-register", "m"),  # missing required --artifact
        ("registry-get",),
        ("no-such-command",),
        ("registry-list", "--stage"),  # option without its value: --json goes first below
        ("registry-register", "m", "--artifact", "x", "--metric"),
    ],
)
def test_usage_errors_in_json_mode_are_the_usage_envelope(main_cli, args: tuple[str, ...]) -> None:
    error = envelope_error(main_cli(args[0], "--json", *args[1:]), "usage", 2)
    assert error["hint"]


def test_usage_error_from_the_real_process(cli, project: Path) -> None:
    envelope_error(cli("registry-info", "--json"), "usage", 2)


def test_usage_error_with_env_json_mode(main_cli) -> None:
    envelope_error(main_cli("registry-list", "--bogus", env={"SW_REGISTRY_JSON": "1"}), "usage", 2)


# -- human mode ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (("registry-info", "nope"), "not_found", 3),
        (("registry-info", "A B"), "invalid_name", 2),
        (("registry-get", "fraud-model", "--version", "3"), "not_found", 3),
    ],
)
def test_human_errors_go_to_stderr_without_traceback(
    main_cli, registered: Path, args: tuple[str, ...], code: str, exit_code: int
) -> None:
    r = main_cli(*args)
    assert r.returncode == exit_code
    assert r.stdout == ""
    assert code in r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert "hint" in r.stderr
    assert "\x1b[" not in r.stderr  # no colour when not a TTY / NO_COLOR


def test_human_error_from_the_real_process(cli, project: Path) -> None:
    r = cli("registry-info", "nope")
    assert r.returncode == 3 and r.stdout == ""
    assert "not_found" in r.stderr and "Traceback" not in r.stderr


def test_human_usage_error_goes_to_stderr(cli, project: Path) -> None:
    r = cli("registry-list", "--bogus")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "--bogus" in r.stderr and "Traceback" not in r.stderr


def test_human_output_goes_to_stdout_without_colour(main_cli, registered: Path) -> None:
    r = main_cli("registry-list")
    assert r.returncode == 0 and r.stderr == ""
    assert "fraud-model" in r.stdout and "v1.0.0" in r.stdout
    assert "\x1b[" not in r.stdout
    with pytest.raises(ValueError):
        json.loads(r.stdout)


# -- help ------------------------------------------------------------------------------------


def test_top_level_help_lists_every_command(cli, project: Path) -> None:
    r = cli("--help")
    assert r.returncode == 0, r.stderr
    for name in COMMANDS:
        assert name in r.stdout


def test_console_script_help(project: Path) -> None:
    script = Path(sys.executable).parent / "sw-registry"
    proc = subprocess.run([str(script), "--help"], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert all(name in proc.stdout for name in COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_works(main_cli, name: str) -> None:
    r = main_cli(name, "--help")
    assert r.returncode == 0, r.stderr
    assert "--json" in r.stdout and "Usage" in r.stdout


def test_every_command_and_option_has_help_text() -> None:
    from sw_registry.cli.app import build

    group = typer.main.get_command(build())
    commands = group.commands  # type: ignore[attr-defined]
    assert set(COMMANDS) <= set(commands)
    missing = []
    for name, command in commands.items():
        if not (command.help or "").strip():
            missing.append(name)
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{name} {param.name}")
    assert missing == []


def test_every_command_takes_json_and_read_write_commands_take_root() -> None:
    from sw_registry.cli.app import build

    commands = typer.main.get_command(build()).commands  # type: ignore[attr-defined]
    for name, command in commands.items():
        opts = {o for p in command.params for o in getattr(p, "opts", [])}
        assert "--json" in opts, name
        if name.startswith("registry-"):
            assert "--root" in opts, name
    for name in ("registry-list", "registry-info", "registry-get"):
        assert "--rev" in {o for p in commands[name].params for o in p.opts}, name
    assert {"--actor", "--increment"} <= {o for p in commands["registry-register"].params for o in p.opts}
