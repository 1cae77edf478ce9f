"""``install-commands`` (SPEC §7.16): the /ml:registry-* slash commands as a Claude Code plugin named ``ml``.

Generated from the CLI itself, so every registry command gets a slash command and its usage line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLUGIN = "ml"

SKILL = """---
name: model-registry
description: Register, version, promote, approve, roll back and audit ML models with sw-registry, a git-backed
  model registry for SpecWeave projects. Use for "model registry", "promote model", "rollback model",
  "which model is in production", "model history" and "model lineage".
---

# Model registry (sw-registry)

sw-registry keeps every model version in the project's git repository, inside the SpecWeave increment that
produced it (`.specweave/increments/<id>/models/<name>-v<version>/`). Every state change is one git commit with
`Registry-*` trailers, so `git log` is the audit trail.

## How to call it

- Always pass `--json`: stdout is then exactly one document, `{"ok": true, "data": ...}` or
  `{"ok": false, "error": {"code", "message", "hint"}}`; nothing prompts. Read `error.hint` and follow it.
- Exit codes: 0 done (also "nothing to do": `commit: null`); 1 refused by a rule or policy
  (`invalid_transition`, `approval_required`, `not_an_approver`, `deprecated`, `breaking_change`); 2 the request is
  wrong (`usage`, `invalid_name`, `invalid_version`, `invalid_input`, `config_error`); 3 `not_found`; 4 stored data
  is damaged (`integrity`, `dirty_registry`: run `sw-registry registry-verify --repair`); 5 `already_exists`,
  `locked`, `conflict`; 6 `git_error`, `not_a_git_repo`.
- Writes take `--actor EMAIL` (default: git's identity) and `--push`.

## Everyday commands

{commands}

## Lifecycle

`dev -> staging -> production -> archived`. Skipping a stage needs `--force --reason TEXT`. Staging and
production hold one version each: promoting another archives the holder in the same commit. If the policy
(`registry-policy NAME --require-approval production --approver EMAIL`) asks for approvals, an approver runs
`registry-approve NAME VERSION --actor THEIR_EMAIL` before the promotion. `registry-rollback NAME --reason TEXT`
returns production to the previous production version in one commit and needs no approval.
"""


def command_files(commands: list[tuple[str, str, str]]) -> dict[str, str]:
    """relative path -> content, for (command, one-line help, usage) of each registry command."""
    files: dict[str, str] = {}
    for name, summary, usage in commands:
        files[f"commands/{name}.md"] = (
            "---\n"
            f"description: {json.dumps(summary)}\n"
            f"argument-hint: {json.dumps(usage)}\n"
            "allowed-tools: Bash(sw-registry:*)\n"
            "---\n\n"
            f"!`sw-registry {name} $ARGUMENTS`\n\n"
            f"Above is the output of `sw-registry {name} $ARGUMENTS`. Report what it says to the user in a few lines: "
            "what changed (from -> to, who, the commit) or what was found. If it failed, quote the error and its "
            "hint, and suggest the command that the hint points to. Run nothing that changes the registry unless "
            "the user asked for it.\n"
        )
    listing = "\n".join(f"- `sw-registry {name} {usage}`: {summary}" for name, summary, usage in commands)
    files["skills/model-registry/SKILL.md"] = SKILL.replace("{commands}", listing)
    files[".claude-plugin/plugin.json"] = (
        json.dumps(
            {
                "name": PLUGIN,
                "description": "Model registry slash commands (/ml:registry-*) backed by sw-registry",
                "version": _version(),
                "author": {"name": "sw-registry"},
            },
            indent=2,
        )
        + "\n"
    )
    return files


def _version() -> str:
    from . import __version__

    return __version__


def install(dest: Path, commands: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Write the plugin into ``dest``; files already up to date are left alone."""
    written = []
    for rel, content in command_files(commands).items():
        path = dest / rel
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(rel)
    return {"dest": str(dest), "plugin": PLUGIN, "files": sorted(command_files(commands)), "changed": sorted(written)}
