"""registry-verify [--repair] (SPEC §7.14)."""

from __future__ import annotations

from ..output import emit
from ..render import esc, short
from .common import registry

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..options import ActorOption, AllowDetachedOption, JsonOption, PushOption, RootOption


def verify(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Restore registry files to HEAD after a crash, clear a stale .git/index.lock, rebuild derived files.",
        ),
    ] = False,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="For artifacts in an object store: download each object and check its sha256 "
            "(default: check that it exists with the recorded size).",
        ),
    ] = False,
    actor: ActorOption = None,
    allow_detached: AllowDetachedOption = False,
    push: PushOption = False,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Check every artifact hash, metadata file, derived file and the git record (exit 4 on problems)."""
    if push and not repair:
        from ...errors import RegistryError

        raise RegistryError("--push publishes the commit of --repair; a check alone makes none", code="usage",
                            hint="add --repair, or drop --push")
    reg = registry(root, actor=actor, allow_detached=allow_detached, push=push)
    if repair:
        data = reg.repair()

        def render_repair(out: Any) -> None:
            if not data["repaired"]:
                out.print("Nothing to repair.")
            for item in data["repaired"]:
                out.print(f"repaired: {esc(item)}")
            if data["commit"]:
                out.print(f"commit {short(data['commit'])}")

        emit(json, data, render_repair)
        return
    result = reg.verify(deep=deep)
    emit(json, result, lambda out: out.print(f"Registry verified: {result['versions']} version(s), no problems."))
