"""install-commands writes the /ml:registry-* slash commands as a Claude Code plugin named ml (SPEC §7.16)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from sw_registry.cli.app import COMMANDS
from tests.conftest import run_cli


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_writes_a_plugin_with_one_command_per_registry_command(project: Path, tmp_path: Path) -> None:
    dest = tmp_path / "plugin"
    r = run_cli(project, "install-commands", "--dest", str(dest), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)["data"]
    assert data["plugin"] == "ml" and Path(data["dest"]) == dest.resolve()
    assert json.loads((dest / ".claude-plugin" / "plugin.json").read_text())["name"] == "ml"
    every_command = sorted(COMMANDS)  # every command, so commands added later get one too
    assert sorted(p.stem for p in (dest / "commands").glob("*.md")) == every_command
    assert {"sync-docs", "registry-monitor", "registry-experiments"} <= set(every_command)
    for name in every_command:
        text = (dest / "commands" / f"{name}.md").read_text()
        meta = front_matter(text)
        assert meta["description"] and "sw-registry" in meta["allowed-tools"]
        assert f"sw-registry {name} $ARGUMENTS" in text
    promote = front_matter((dest / "commands" / "registry-promote.md").read_text())
    assert promote["argument-hint"].endswith("NAME VERSION")
    skill = (dest / "skills" / "model-registry" / "SKILL.md").read_text()
    assert front_matter(skill)["name"] == "model-registry"
    assert "--json" in skill and "registry-rollback" in skill
    for name in every_command:  # a line per command
        assert f"- `sw-registry {name} " in skill
    manifest = json.loads((dest / ".claude-plugin" / "plugin.json").read_text())
    assert manifest["license"] == "MIT"
    readme = (dest / "README.md").read_text()
    assert len(readme.split()) >= 40 and "/ml:sync-docs" in readme
    assert (dest / ".claude-plugin" / "icon.png").read_bytes().startswith(b"\x89PNG")


def test_a_second_run_changes_nothing_and_defaults_into_the_project(project: Path) -> None:
    first = json.loads(run_cli(project, "install-commands", "--json").stdout)["data"]
    assert Path(first["dest"]) == (project / ".claude" / "plugins" / "ml").resolve()
    assert first["changed"] == first["files"]
    second = json.loads(run_cli(project, "install-commands", "--json").stdout)["data"]
    assert second["changed"] == []
