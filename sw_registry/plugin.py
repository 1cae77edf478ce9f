"""``install-commands`` (SPEC §7.16): the /ml:* slash commands as a Claude Code plugin named ``ml``.

Generated from the CLI itself (the COMMANDS table of cli/app.py), so every command, including ones added later,
gets a slash command, its usage line and a line in the model-registry skill. The plugin passes
``claude plugin validate --strict --profile directory`` (tests/cli/test_plugin_validate.py): a README.md, a
``license`` in plugin.json and an icon.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLUGIN = "ml"

SKILL = """---
name: model-registry
description: Register, version, promote, approve, roll back and audit ML models with sw-registry, a git-backed
  model registry for SpecWeave projects; track training runs as experiments and monitor production metrics with
  auto-rollback. Use for "model registry", "promote model", "rollback model", "which model is in production",
  "model history", "model lineage", "experiments" and "production monitoring".
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

## Experiments and production monitoring

- Training code tracks a run with `with track_experiment("NAME", increment="0042") as exp:` (`exp.log_params`,
  `exp.log_metrics`, `exp.register_model(model=..., name=..., auto_version=True)`); on a clean exit one commit
  writes `experiments/NAME/` and registers the model with `lineage.experiment` = NAME. `registry-experiments`
  lists them with the version each produced; `registry-lineage --uses experiment:NAME` finds those versions.
- `registry-policy NAME --trigger "error_rate>0.05" --trigger "accuracy<0.80" --window 24h` sets auto-rollback
  triggers. `registry-monitor NAME --metric error_rate=0.02` (or `--observations FILE` of JSON lines) records
  production observations; on a breach it rolls production back to the previous stable version in the same
  commit (`status: rolled_back`). A breach with nothing to roll back to is `threshold_breached` (exit 1), the
  observations still recorded. `--no-record` only evaluates (`status: breached`) and changes nothing.

## Lifecycle

`dev -> staging -> production -> archived`. Skipping a stage needs `--force --reason TEXT`. Staging and
production hold one version each: promoting another archives the holder in the same commit. If the policy
(`registry-policy NAME --require-approval production --approver EMAIL`) asks for approvals, an approver runs
`registry-approve NAME VERSION --actor THEIR_EMAIL` before the promotion. `registry-rollback NAME --reason TEXT`
returns production to the previous production version in one commit and needs no approval.
"""


README = """# ml: the sw-registry plugin for Claude Code

Slash commands for sw-registry, a git-backed ML model registry for SpecWeave projects: `/ml:registry-list`,
`/ml:registry-promote NAME VERSION --to production`, `/ml:registry-rollback NAME --reason TEXT`,
`/ml:registry-monitor NAME --metric error_rate=0.02`, `/ml:sync-docs update` and one for every other
`sw-registry` command. Each runs the CLI with your arguments and reports what changed, so every model version,
stage change, approval and auto-rollback stays one git commit in your repository.

The `model-registry` skill tells the agent how to drive the CLI safely: `--json` output, exit codes, the
lifecycle rules and what each error's hint asks for.

## Setup

Install the CLI (`pip install sw-registry`), then run `sw-registry install-commands` in your project; it writes
this plugin to `.claude/plugins/ml` (or `--dest DIR`). Run it again after upgrading sw-registry: files that are
already up to date are left alone.

## Commands

{commands}

License: MIT.
"""

LICENSE = "MIT"


def icon_png() -> bytes:
    """The plugin's 512×512 icon, drawn in code (deterministic): three version bars on a trunk, coloured like
    production, staging and dev."""
    import struct
    import zlib

    size = 512
    background, trunk = (15, 23, 42), (148, 163, 184)
    bars = ((110, 170, 400, (34, 197, 94)), (226, 286, 360, (234, 179, 8)), (342, 402, 320, (56, 189, 248)))
    rows = []
    for y in range(size):
        row = bytearray(bytes(background) * size)
        if 96 <= y < 416:
            row[150 * 3 : 180 * 3] = bytes(trunk) * 30
        for top, bottom, right, colour in bars:
            if top <= y < bottom:
                row[150 * 3 : right * 3] = bytes(colour) * (right - 150)
        rows.append(b"\0" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def command_files(commands: list[tuple[str, str, str]]) -> dict[str, str | bytes]:
    """relative path -> content, for (command, one-line help, usage) of each command."""
    files: dict[str, str | bytes] = {}
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
    files["README.md"] = README.replace(
        "{commands}", "\n".join(f"- `/ml:{name} {usage}`: {summary}" for name, summary, usage in commands)
    )
    files[".claude-plugin/icon.png"] = icon_png()
    files[".claude-plugin/plugin.json"] = (
        json.dumps(
            {
                "name": PLUGIN,
                "description": "Model registry slash commands (/ml:registry-*) backed by sw-registry",
                "version": _version(),
                "author": {"name": "sw-registry"},
                "license": LICENSE,
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
    files = command_files(commands)
    for rel, content in files.items():
        path = dest / rel
        data = content.encode("utf-8") if isinstance(content, str) else content
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(rel)
    return {"dest": str(dest), "plugin": PLUGIN, "files": sorted(files), "changed": sorted(written)}
