"""registry-reindex (SPEC §7.14)."""

from __future__ import annotations

from ..output import emit
from ..render import short
from .common import registry

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Any

    from ..options import ActorOption, AllowDetachedOption, JsonOption, PushOption, RootOption


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
