"""Docs that cannot drift: the README's CLI reference is what the commands' --help says."""

from __future__ import annotations

from pathlib import Path

from sw_registry.cli.reference import reference, splice

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_cli_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert splice(text, reference()) == text, "run: python -m sw_registry.cli.reference --write"


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README.read_text(encoding="utf-8").split("```")[1]
    assert "pip install . && sw-registry demo" in head
    assert "pip install -e '.[test]' && pytest" in head
