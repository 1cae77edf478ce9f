"""What a CLI process imports (issue 10): the modules that the write and read paths shed stay shed.

Each command runs in a subprocess of its own, through the console script's entry point, wrapped in a few lines
that write ``sorted(sys.modules)`` at exit. Not a timing test: it checks names. ``dataclasses`` (and with it
``inspect``, ``ast``, ``dis``, ``tokenize``) is for the Python API's return types only (outcomes.py),
``packaging`` only for unusual version spellings (versions.py), Typer/Click/rich only for help, prompts and
human output, ``typing`` only for mypy (``TYPE_CHECKING = False`` blocks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sw_registry import ModelRegistry
from tests.conftest import INCREMENT

# Only what the command itself imports counts: a machine's site-packages may import modules before any of ours
# run (a .pth file that imports certifi brings typing, re, pathlib and tempfile into every process), and those are
# the interpreter's cost, the same for `python -c pass`.
WRAPPER = """
import sys
before = set(sys.modules)
import atexit
def dump():
    with open(sys.argv[1], "w") as fh:
        fh.write("\\n".join(sorted(set(sys.modules) - before)))
atexit.register(dump)
from sw_registry.cli.entry import main
code = main(sys.argv[2:])
dump()
raise SystemExit(code)
"""

# imported by no CLI register, promote or read: the API's dataclasses, and what comes with them
SHED = ("dataclasses", "inspect", "ast", "dis", "tokenize", "packaging", "packaging.version", "sw_registry.model",
        "sw_registry.results", "typer", "click", "rich", "git", "yaml", "typing")
# imported by no CLI register of a small non-pickle file nor promote: the MLflow mirror without a tracking URI,
# the object store for an artifact kept in git, and the stdlib modules only they or a temporary folder need
WRITE_SHED = ("sw_registry.mlflow_mirror", "sw_registry.mlflow_server", "sw_registry.store.objectstore",
              "sw_registry.store.object_fs", "tempfile", "random", "uuid", "platform", "pickle", "pickletools",
              # the clock's string comes from time.strftime, JSON data is copied without copy.deepcopy, a small file
              # is hashed by the interpreter's own sha256 (hashlib loads OpenSSL), and the reads stay with the reads
              "datetime", "copy", "weakref", "hashlib", "sw_registry.ops.reads",
              # the read memo and the human rendering: not for a write with --json
              "sw_registry.store.readcache", "sw_registry.cli.render",
              # git's history and GitPython's network wrapper are for history, audit and --push; a command module is
              # loaded with __import__ (the importlib package would bring warnings.py along)
              "sw_registry.gitops.history", "sw_registry.gitops.net", "importlib",
              # git runs through gitops/spawn.py (os.posix_spawn) and the fsync thread through threads.py (_thread):
              # subprocess.py and what it brings are not imported, nor math (a float's YAML spelling only)
              "subprocess", "threading", "locale", "signal", "selectors", "math",
              # pathlib's one use of it is Path.as_uri(), which no command calls (cli/lean_pathlib.py)
              "urllib.parse", "ipaddress")


def imported(project: Path, tmp_path: Path, *args: str) -> tuple[set[str], dict[str, object]]:
    out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.txt"
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(out), *args], cwd=project, capture_output=True,
                          text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)["data"] if "--json" in args else {}
    return set(out.read_text().split("\n")), data


@pytest.fixture
def registered(project: Path, make_artifact: Callable[..., Path], tmp_path: Path) -> tuple[Path, set[str]]:
    """One version registered through the CLI, and what that process imported."""
    weights = make_artifact(b"weights " + os.urandom(56))  # not a pickle: its first byte is no pickle opcode
    modules, data = imported(project, tmp_path, "registry-register", "fraud-model", "--artifact", str(weights),
                             "--json")
    assert data["version"] == "1.0.0" and data["increment"] == INCREMENT
    return project, modules


def test_a_register_imports_no_dataclasses_packaging_or_typer(registered: tuple[Path, set[str]]) -> None:
    _, modules = registered
    assert "sw_registry.ops.register" in modules  # the wrapper saw the real write
    assert sorted(modules & {*SHED, *WRITE_SHED}) == []


def test_a_promote_imports_no_dataclasses_packaging_or_typer(
    registered: tuple[Path, set[str]], tmp_path: Path
) -> None:
    project, _ = registered
    modules, data = imported(project, tmp_path, "registry-promote", "fraud-model", "v1.0.0", "--to", "staging",
                             "--json")
    assert data["to"] == "staging" and data["commit"]
    assert "sw_registry.ops.stages" in modules
    assert sorted(modules & {*SHED, *WRITE_SHED}) == []


def test_approve_and_rollback_import_no_dataclasses_packaging_or_typer(
    registered: tuple[Path, set[str]], make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    """The other two writes of issue 10's budget: an approval, and a rollback (which checks the artifact's hash,
    of a file kept in git: no object store, no hashlib)."""
    project, _ = registered
    registry = ModelRegistry(root=project)
    registry.register_model(name="fraud-model", model=str(make_artifact()), version="2.0.0")
    for version in ("1.0.0", "2.0.0"):
        registry.promote_model("fraud-model", version, to_stage="staging")
        registry.promote_model("fraud-model", version, to_stage="production")
    modules, data = imported(project, tmp_path, "registry-approve", "fraud-model", "v1.0.0", "--stage", "staging",
                             "--json")
    assert data["approver"] and data["commit"]
    assert "sw_registry.ops.stages" in modules
    assert sorted(modules & {*SHED, *WRITE_SHED}) == []
    modules, data = imported(project, tmp_path, "registry-rollback", "fraud-model", "--reason", "bench", "--json")
    assert (data["from_version"], data["to_version"]) == ("2.0.0", "1.0.0") and data["commit"]
    assert sorted(modules & {*SHED, *WRITE_SHED} - {"sw_registry.ops.reads"}) == []  # it verifies through reads


def test_reads_import_no_dataclasses_packaging_or_typer(registered: tuple[Path, set[str]], tmp_path: Path) -> None:
    project, _ = registered
    for args in (("registry-info", "fraud-model", "--json"), ("registry-list", "--json"),
                 ("registry-get", "fraud-model", "--version", "1.0.0", "--json"),
                 ("registry-history", "fraud-model", "--json"),
                 ("registry-info", "fraud-model", "--json")):  # the last one again: answered by the read memo
        modules, data = imported(project, tmp_path, *args)
        assert data, args
        assert sorted(modules & {*SHED, "_socket", "sw_registry.watcher"}) == [], args  # no watcher runs here


def test_an_unusual_version_spelling_still_parses_through_packaging(
    project: Path, make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    """The other side of the shortcut: a PEP 440 spelling versions.py does not parse itself still works."""
    modules, data = imported(project, tmp_path, "registry-register", "fraud-model", "--artifact",
                             str(make_artifact()), "--version", "2.0.0_rc1", "--json")
    assert data["version"] == "2.0.0rc1"
    assert "packaging.version" in modules


def test_top_level_help_imports_only_the_entry_point(project: Path, tmp_path: Path) -> None:
    modules, _ = imported(project, tmp_path, "--help")
    assert {m for m in modules if m.startswith("sw_registry")} == {
        "sw_registry", "sw_registry.cli", "sw_registry.cli.entry", "sw_registry.cli.help_text"}
    assert sorted(modules & {*SHED, "typing", "json", "re", "pathlib", "subprocess"}) == []
