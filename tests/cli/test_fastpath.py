"""The fast path must pass each command exactly what Typer would, and leave everything unusual to Typer."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
import typer

from sw_registry.cli import fastpath
from sw_registry.cli.app import COMMANDS, build, resolved
from sw_registry.cli.fast_spec import COMMANDS as TABLE
from sw_registry.cli.options import ANNOTATIONS
from sw_registry.cli.reference import SpecError, compact, fast_spec, fast_spec_module, param_spec

SPEC = {name: fastpath.spec(name) for name in TABLE}  # each command's line of fast_spec.py, expanded

SAMPLE = {"str": "value-1", "path": "some/file.txt", "int": "3"}


def typer_kwargs(name: str, args: list[str]) -> dict[str, Any]:
    """What Typer passes to the command for ``args`` (the command itself replaced by a recorder)."""
    module, func = COMMANDS[name]
    real = resolved(getattr(importlib.import_module(f"sw_registry.cli.commands.{module}"), func))  # as build() does
    captured: dict[str, Any] = {}

    @functools.wraps(real)
    def recorder(**kwargs: Any) -> None:
        captured.update(kwargs)

    app = typer.Typer()

    @app.callback()
    def _group() -> None:
        pass

    app.command(name)(recorder)
    typer.main.get_command(app).main(args=[name, *args], standalone_mode=False)
    return captured


def fast_kwargs(name: str, args: list[str]) -> dict[str, Any] | None:
    """The fast path's arguments, with the function's defaults filled in as Python would."""
    kwargs = fastpath.parse(SPEC[name], args)
    if kwargs is None:
        return None
    module, func = COMMANDS[name]
    real = getattr(importlib.import_module(f"sw_registry.cli.commands.{module}"), func)
    bound = inspect.signature(real).bind(**kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def command_lines(name: str) -> list[list[str]]:
    """Plain command lines for a command: all options in two spellings, only the required ones, reordered."""
    spec = SPEC[name]
    positional = [f"arg-{i}" for i, _ in enumerate(spec["arguments"])]
    full: list[str] = []
    equals: list[str] = []
    for opt in spec["options"]:
        if opt["flag"]:
            full.append(opt["opts"][0])
            equals.append((opt["off"] or opt["opts"])[0])
            continue
        value = SAMPLE[opt["type"]]
        repeats = 2 if opt["multiple"] else 1
        for n in range(repeats):
            full += [opt["opts"][0], f"{value}{n}" if opt["type"] != "int" else value]
            equals.append(f"{opt['opts'][0]}={value}")
    required: list[str] = []
    for opt in spec["options"]:
        if opt["required"]:
            required += [opt["opts"][0], SAMPLE[opt["type"]]]
    needed = [f"arg-{i}" for i, a in enumerate(spec["arguments"]) if a["required"]]
    return [positional + full, equals + positional, needed + required, required + needed]


@pytest.mark.parametrize("name", sorted(SPEC))
def test_fast_path_passes_what_typer_passes(name: str) -> None:
    for args in command_lines(name):
        fast = fast_kwargs(name, args)
        assert fast is not None, args
        assert fast == typer_kwargs(name, args), args


@pytest.mark.parametrize(
    "args",
    [
        ["registry-list", "--help"],
        ["registry-list", "--no-such-option"],
        ["registry-list", "--stage"],  # missing value
        ["registry-list", "--stage", "--json"],  # a value that looks like an option
        ["registry-list", "--stage", "dev", "--stage", "staging"],  # repeated
        ["registry-list", "--json=yes"],
        ["registry-list", "--", "x"],
        ["registry-list", "extra"],  # no positional arguments
        ["registry-info"],  # missing argument
        ["registry-register", "m"],  # missing required --artifact
        ["registry-policy", "m", "--min-approvals", "two"],  # not an int
        ["registry-list", "-h"],
    ],
)
def test_unusual_lines_are_left_to_typer(args: list[str]) -> None:
    assert fastpath.parse(SPEC[args[0]], args[1:]) is None


def test_the_spec_is_current() -> None:
    source = (Path(fastpath.__file__).parent / "fast_spec.py").read_text(encoding="utf-8")
    assert source == fast_spec_module(), "run: python -m sw_registry.cli.reference --write"


def test_each_compact_line_expands_to_the_typer_parameters() -> None:
    """fast_spec.py stores one line per command; expanded, it says what the Typer app's parameters say."""
    assert fast_spec() == SPEC
    assert fastpath.spec("no-such-command") is None
    assert fastpath.spec("registry-promote")["options"][1] == {  # type: ignore[index]
        "name": "from_", "opts": ["--from"], "off": [], "flag": False, "multiple": False, "type": "str",
        "required": False,
    }


def test_the_spec_generator_refuses_what_the_compact_form_cannot_say() -> None:
    two_names = {"name": "x", "opts": ["-x", "--x"], "off": [], "flag": False, "multiple": False, "type": "str",
                 "required": False}
    with pytest.raises(SpecError, match=r"registry-x: parameter 'x' .* has no compact form"):
        compact("registry-x", two_names, option=True)
    assert compact("registry-x", {**two_names, "opts": ["--x"], "multiple": True}, option=True) == "--x:str*"


def test_fast_path_imports_no_typer(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom sw_registry.cli.entry import main\n"
        "code = main(['registry-list', '--json', '--root', sys.argv[1]])\n"
        "print('typer' in sys.modules, code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert out.stdout.strip().endswith("False 0"), out.stdout + out.stderr


def _one_command(**option: Any) -> Any:
    """A Click command with a single ``--x`` option built by Typer from ``option``."""
    app = typer.Typer()

    @app.command()
    def cmd(x: str = typer.Option("", "--x", **option)) -> None:  # not Annotated: this file's annotations are strings
        pass

    return typer.main.get_command(app)


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ({"callback": lambda value: value}, "callback="),
        ({"envvar": "SW_REGISTRY_X"}, "envvar="),
    ],
)
def test_the_spec_generator_refuses_what_the_fast_path_cannot_reproduce(option: dict[str, Any], named: str) -> None:
    command = _one_command(**option)
    with pytest.raises(SpecError, match=rf"registry-x: parameter 'x' uses {named}"):
        param_spec("registry-x", command.params[0])


def test_the_spec_generator_takes_a_plain_option() -> None:
    command = _one_command(help="plain")
    assert param_spec("registry-x", command.params[0])["opts"] == ["--x"]


@pytest.mark.parametrize("module", sorted({module for module, _ in COMMANDS.values()}))
def test_annotation_names_are_the_ones_the_module_imports(module: str) -> None:
    """The names a command module imports under TYPE_CHECKING are the very objects its annotations resolve to."""
    path = Path(fastpath.__file__).parent / "commands" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            namespace: dict[str, Any] = {}
            code = ast.unparse(ast.Module(body=node.body, type_ignores=[]))
            exec(compile(code, str(path), "exec"), {"__package__": "sw_registry.cli.commands"}, namespace)
            imported.update(namespace)
    assert imported, f"{module}.py imports its annotation names under TYPE_CHECKING"
    for name, value in imported.items():
        assert ANNOTATIONS.get(name) is value, f"{module}.py: {name} is not options.ANNOTATIONS[{name!r}]"


def test_building_the_app_leaves_the_command_modules_alone() -> None:
    """No names are written into a command module's globals to make its annotations resolve."""
    modules = {module: importlib.import_module(f"sw_registry.cli.commands.{module}") for module, _ in COMMANDS.values()}
    before = {name: dict(vars(module)) for name, module in modules.items()}
    build()
    for name, module in modules.items():
        assert vars(module) == before[name], name


def test_writing_commands_take_the_write_options_last() -> None:
    """@writes (commands/common.py) gives a command --actor --allow-detached --push --root --json, as its last
    options on both paths, and hands them to the function as one WriteOptions; @reads likewise gives --rev --root
    --json as one ReadOptions."""
    from sw_registry.cli.commands.common import READ_OPTIONS, WRITE_OPTIONS, ReadOptions, WriteOptions, reads, writes

    functions = {name: getattr(importlib.import_module(f"sw_registry.cli.commands.{module}"), func)
                 for name, (module, func) in COMMANDS.items()}
    taking = {name: list(inspect.signature(f.__wrapped__).parameters)[-1]
              for name, f in functions.items() if hasattr(f, "__wrapped__")}
    assert {"registry-register", "registry-promote", "registry-policy", "sync-docs"} <= {
        name for name, last in taking.items() if last == "w"}
    assert {"registry-list", "registry-info", "registry-get", "registry-history", "registry-compare",
            "registry-lineage"} == {name for name, last in taking.items() if last == "read"}
    for name, last in taking.items():
        names = [option for option, _, _ in (WRITE_OPTIONS if last == "w" else READ_OPTIONS)]
        assert [o["name"] for o in SPEC[name]["options"]][-len(names):] == names, name

    seen: list[object] = []

    @writes
    def command(x: str, *, w: WriteOptions) -> None:
        seen.append(w)

    @reads
    def reader(x: str, *, read: ReadOptions) -> None:
        seen.append(read)

    command("a", actor="ann@example.com", push=True)
    reader("a", rev="HEAD~1")
    assert seen == [WriteOptions(actor="ann@example.com", push=True), ReadOptions(rev="HEAD~1")]
    with pytest.raises(TypeError, match="keyword-only 'w: WriteOptions'"):
        writes(lambda x, w: None)
    with pytest.raises(TypeError, match="keyword-only 'read: ReadOptions'"):
        reads(lambda x, *, w: None)
