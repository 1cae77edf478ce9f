"""registry-verify [--repair] and registry-reindex (SPEC §7.14)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from ..output import emit
from ..render import esc, short
from .common import registry

# Typer and the option aliases are only annotations here: app.build() provides them when it wires the
# command into Typer, and the fast path (fastpath.py) calls the function without importing Typer.
if TYPE_CHECKING:
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
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Check every artifact hash, metadata file, derived file and the git record (exit 4 on problems)."""
    reg = registry(root, actor=actor, allow_detached=allow_detached)
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


def reindex(
    actor: ActorOption = None,
    allow_detached: AllowDetachedOption = False,
    push: PushOption = False,
    root: RootOption = None,
    json: JsonOption = False,
) -> None:
    """Rebuild model_catalog.yaml and lineage_graph.json from the metadata files (e.g. after a merge)."""
    r = registry(root, actor=actor, allow_detached=allow_detached, push=push).reindex()

    def render(out: Any) -> None:
        if r.changed and r.commit is None:
            out.print("Derived files rebuilt and staged; finish the merge with: git commit")
        elif r.changed:
            out.print(f"Derived files rebuilt, commit {short(r.commit)}")
        else:
            out.print("Derived files are up to date; nothing changed")

    emit(json, r.to_dict(), render)
