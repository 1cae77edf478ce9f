"""Shell completion (SPEC §10): the scripts in completions/ are current, and names and versions complete live."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sw_registry.cli.reference import completion_scripts
from sw_registry.registry import ModelRegistry

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"


def test_completion_scripts_are_current() -> None:
    for name, script in completion_scripts().items():
        stale = "run: python -m sw_registry.cli.reference --write"
        assert (COMPLETIONS / name).read_text(encoding="utf-8") == script, stale


def complete(cwd: Path, words: str) -> list[str]:
    """What bash completion offers for the last word of ``words`` (the protocol the bash script uses)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(cword), "_SW_REGISTRY_COMPLETE": "complete_bash"}
    proc = subprocess.run([sys.executable, "-m", "sw_registry"], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_commands_model_names_and_versions_complete(project: Path, make_artifact) -> None:
    reg = ModelRegistry(root=project)
    for name, version in (("fraud-model", "1.0.0"), ("fraud-model", "1.1.0"), ("churn-model", "2.0.0")):
        reg.register_model(name, str(make_artifact(f"{name}{version}".encode())), version=version)
    assert set(complete(project, "sw-registry registry-pro")) == {"registry-promote"}
    assert complete(project, "sw-registry registry-info fr") == ["fraud-model"]
    assert set(complete(project, "sw-registry registry-promote ")) == {"churn-model", "fraud-model"}
    assert complete(project, "sw-registry registry-promote fraud-model ") == ["1.1.0", "1.0.0"]
    assert complete(project, "sw-registry registry-get fraud-model --version 1.1") == ["1.1.0"]
