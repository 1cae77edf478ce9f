"""The output contract's seams: lazy imports for --help, and Typer's usage errors in JSON mode.

cli/output.py is the one place that knows Typer's exception types; these tests break first when a
Typer upgrade changes them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli

PROBE = """
import sys
from sw_registry.cli.app import main
try:
    main({args!r})
finally:
    heavy = sorted(m for m in ("git", "yaml", "sw_registry.registry", "sw_registry.gitops", "packaging.version")
                   if m in sys.modules)
    print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def _heavy_modules(args: list[str], cwd: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], cwd=cwd, capture_output=True, text=True)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("HEAVY=")][-1]
    return [m for m in line[len("HEAVY=") :].split(",") if m]


def test_help_imports_no_git_yaml_or_registry(tmp_path: Path) -> None:
    assert _heavy_modules(["--help"], tmp_path) == []
    assert _heavy_modules(["registry-promote", "--help"], tmp_path) == []


def test_importing_the_package_imports_nothing_heavy(tmp_path: Path) -> None:
    code = "import sys, sw_registry; print(sorted(m for m in ('git','typer','rich','yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_usage_error_in_json_mode_is_an_envelope(project: Path) -> None:
    r = run_cli(project, "registry-list", "--no-such-option", "--json")
    assert r.returncode == 2
    assert r.stderr == ""
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["error"]["code"] == "usage"
    assert "--no-such-option" in doc["error"]["message"]


def test_missing_argument_in_json_mode_via_env(project: Path) -> None:
    r = run_cli(project, "registry-info", env={"SW_REGISTRY_JSON": "1"})
    assert r.returncode == 2
    assert json.loads(r.stdout)["error"]["code"] == "usage"


def test_usage_error_in_human_mode_goes_to_stderr(project: Path) -> None:
    r = run_cli(project, "registry-list", "--no-such-option")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "no-such-option" in r.stderr and "Traceback" not in r.stderr


def test_every_command_has_help_text(project: Path) -> None:
    from typer.main import get_command

    from sw_registry.cli.app import build

    group = get_command(build())
    commands = group.commands  # type: ignore[attr-defined]
    assert {"registry-register", "registry-list", "registry-info", "registry-get", "init", "demo"} <= set(commands)
    for name, command in commands.items():
        assert (command.help or "").strip(), f"{name} has no help text"
        for param in command.params:
            if param.param_type_name == "option":
                assert (getattr(param, "help", "") or "").strip(), f"{name} {param.opts} has no help text"


def test_a_bug_is_exit_70_with_a_debug_log(project: Path, isolated_env: Path) -> None:
    # the funnel itself: any exception that is not a RegistryError is a bug
    from sw_registry.cli.output import run

    def boom(_args: list[str]) -> None:
        raise RuntimeError("kaboom")

    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(["--json"], boom)
    assert code == 70
    err = json.loads(out.getvalue())["error"]
    assert err["code"] == "internal" and "kaboom" in err["message"]
    log = Path(err["details"]["debug_log"])
    assert "RuntimeError: kaboom" in log.read_text()
