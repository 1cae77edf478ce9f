"""registry-lineage (SPEC §7.11)."""

from __future__ import annotations

from ..output import emit
from .common import ReadOptions, check_format, reads

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
# Typer and the option aliases are only annotations here, imported for readers and mypy: the fast path
# (fastpath.py) calls the function without importing Typer, and app.resolved() evaluates the annotations in
# this module's globals plus options.ANNOTATIONS, which holds these same names (a test checks it).
if TYPE_CHECKING:
    from typing import Annotated, Any

    import typer

    from ..complete import model_names, model_versions


@reads
def lineage(
    name: Annotated[str | None, typer.Argument(help="Model name.", autocompletion=model_names)] = None,
    version: Annotated[
        str | None, typer.Argument(help="One version (with its parents).", autocompletion=model_versions)
    ] = None,
    uses: Annotated[
        str | None,
        typer.Option("--uses", help="Versions whose lineage uses this node, e.g. data:v2024-01 or experiment:exp-003."),
    ] = None,
    feature: Annotated[str | None, typer.Option("--feature", help="Versions with this input feature.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="tree, mermaid or json.")] = "tree",
    *,
    read: ReadOptions,
) -> None:
    """Trace lineage: data -> feature engineering -> experiment -> model -> deployment, and who uses what."""
    from ...lineage import mermaid, tree

    check_format(fmt, "tree", "mermaid", "json")
    data = read.registry().get_lineage(name, version, uses=uses, feature=feature).to_dict()
    if fmt == "mermaid" and not read.json:
        print(mermaid(data), end="")
        return

    def render(out: Any) -> None:
        if not data["nodes"]:
            out.print("No versions match.")
            return
        out.print(tree(data), end="", markup=False, highlight=False, soft_wrap=True)

    emit(read.json or fmt == "json", data, render)
