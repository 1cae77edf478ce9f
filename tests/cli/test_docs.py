"""Docs that cannot drift: the README's CLI reference is what the commands' --help says."""

from __future__ import annotations

from pathlib import Path

from sw_registry.cli.help_text import TOP_HELP
from sw_registry.cli.reference import help_module, help_text, reference, splice

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_cli_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert splice(text, reference()) == text, "run: python -m sw_registry.cli.reference --write"


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README.read_text(encoding="utf-8").split("```")[1]
    assert "pip install . && sw-registry demo" in head
    assert "pip install -e '.[test]' && pytest" in head


def test_fast_path_help_is_what_typer_prints() -> None:
    assert help_text([]) == TOP_HELP, "run: python -m sw_registry.cli.reference --write"
    source = (Path(__file__).resolve().parents[2] / "sw_registry/cli/help_text.py").read_text(encoding="utf-8")
    assert source == help_module()


def test_help_through_the_console_script_path(tmp_path: Path) -> None:
    import subprocess
    import sys

    fast = subprocess.run(
        [sys.executable, "-m", "sw_registry", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    narrow = subprocess.run(
        [sys.executable, "-m", "sw_registry", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "60"},
    )
    assert fast.returncode == 0 and fast.stdout == TOP_HELP
    assert narrow.returncode == 0 and "registry-register" in narrow.stdout and narrow.stdout != TOP_HELP
