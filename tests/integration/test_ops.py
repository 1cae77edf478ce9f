"""The core's shape (issue 7): operations are plain functions over an explicit Context, usable without
ModelRegistry; ModelRegistry is a facade of short delegations built from no mixins."""

from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest

import sw_registry
from sw_registry.errors import InvalidInput, UsageError
from sw_registry.layout import Layout
from sw_registry.lifecycle import check_force_reason
from sw_registry.ops import history, reads, register, stages
from sw_registry.ops.context import Context
from sw_registry.registry import ModelRegistry
from tests.conftest import git

PACKAGE = Path(sw_registry.__file__).parent
FROZEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _body_lines(func: ast.FunctionDef) -> int:
    body = func.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0  # type: ignore[operator]


def test_model_registry_is_a_facade_of_short_delegations() -> None:
    assert ModelRegistry.__bases__ == (object,)
    tree = ast.parse((PACKAGE / "registry.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ModelRegistry")
    long = {f.name: _body_lines(f) for f in cls.body if isinstance(f, ast.FunctionDef) and _body_lines(f) > 10}
    assert long == {}
    methods = [f.name for f in cls.body if isinstance(f, ast.FunctionDef)]
    assert len(methods) <= 30, methods  # issue 7: no class over 30 methods (properties and __init__ count)
    assert [m for m in methods if m.startswith("_") and m != "__init__"] == []  # capability modules use ctx
    seed = {  # SPEC §12's names stay on the facade
        "register_model", "version_model", "promote_model", "approve_model", "set_approval_required", "rollback",
        "set_auto_rollback_triggers", "get_model", "get_model_by_date", "get_lineage", "compare_models",
        "set_model_signature", "deprecate_model", "list_models", "info",
    }
    assert seed <= set(methods)


def test_ops_modules_stay_small() -> None:
    for path in sorted((PACKAGE / "ops").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert text.count("\n") <= 400, path.name
        funcs = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef)]
        assert [f.name for f in funcs if _body_lines(f) > 60] == [], path.name


def test_operations_run_on_an_explicit_context(project: Path, make_artifact) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(Layout(project), actor="ops@example.com", clock=lambda: FROZEN)
    mv = register.register(ctx, "fraud", str(make_artifact()), "1.0.0")
    assert mv.commit is not None and mv.metadata["created_at"] == "2026-01-02T03:04:05Z"
    promoted = stages.promote(ctx, "fraud", "1.0.0", to_stage="staging")
    assert (promoted.from_stage, promoted.to_stage, promoted.actor) == ("dev", "staging", "ops@example.com")
    assert git(project, "log", "-1", "--format=%(trailers:key=Registry-Event,valueonly)").strip() == "promote"
    # a fresh context reads the same registry the facade reads
    fresh = Context(Layout(project))
    facade = ModelRegistry(root=project)
    assert [s.to_dict() for s in reads.list_models(fresh, None, None, None, None)] == [
        s.to_dict() for s in facade.list_models()
    ]
    assert [e.event for e in history.history(fresh, "fraud").events] == ["register", "promote"]


def test_a_context_at_a_revision_refuses_to_write(project: Path) -> None:
    with pytest.raises(InvalidInput):
        Context(Layout(project), rev="HEAD").write()


def test_force_needs_a_reason_in_one_place() -> None:
    check_force_reason(False, None)
    check_force_reason(True, "hotfix")
    for reason in (None, "", "   "):
        with pytest.raises(UsageError, match="--force needs a --reason"):
            check_force_reason(True, reason)


def test_read_warnings_come_back_as_values(project: Path, make_artifact) -> None:  # type: ignore[no-untyped-def]
    """No warnings list on a shared object: ops.reads.warned() returns a read's value and its index's warnings,
    over one load of the index."""
    ctx = Context(Layout(project), actor="ops@example.com", clock=lambda: FROZEN)
    mv = register.register(ctx, "fraud", str(make_artifact()), "1.0.0")
    rel = Path(mv.path).parent.relative_to(project) / "metadata.json"
    meta = (project / rel).read_text(encoding="utf-8").replace('"schema_version": 1', '"schema_version": 2')
    (project / rel).write_text(meta, encoding="utf-8")
    loads: list[int] = []

    def load_index():  # type: ignore[no-untyped-def]
        loads.append(1)
        return Context(Layout(project)).index()

    counted = Context(Layout(project), load_index=load_index)
    summaries, warnings = reads.warned(counted, reads.list_models, None, None, None, None)
    assert [s.name for s in summaries] == ["fraud"] and len(loads) == 1
    assert len(warnings) == 1 and str(rel) in warnings[0] and "newer" in warnings[0]
    facade = ModelRegistry(root=project)
    info, again = reads.warned(facade.ctx, reads.info, "fraud", "1.0.0")
    assert again == warnings and len(info.warnings) == 1 and "schema_version 2" in info.warnings[0]  # its own
    assert not hasattr(facade, "warnings")
