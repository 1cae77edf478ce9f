"""Insight (SPEC §7.10, §7.11): compare two versions, and the lineage graph. The pure logic is in
sw_registry/compare.py and sw_registry/lineage.py; here the records are gathered."""

from __future__ import annotations

from .. import versions as V
from .common import read_metadata

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from ..results import Comparison, Lineage
    from .context import Context


def compare_models(ctx: Context, model_a: str, model_b: str) -> Comparison:
    """Compare ``NAME@V1`` with ``NAME@V2``: metrics, artifact size, features, hyperparameters, signature
    compatibility and a recommendation."""
    from .. import compare
    from ..results import Comparison

    index = ctx.index()
    metas = []
    for ref in (model_a, model_b):
        name, version = V.parse_ref(ref)
        metas.append(read_metadata(ctx, index.get(name, version)))
    return Comparison(compare.compare(metas[0], metas[1], index.policy.lower_is_better))


NODE_TYPES = ("data", "feature_engineering", "experiment", "model", "deployment")  # SPEC §7.11's node ids


def _check_node(node: str) -> None:
    """``--uses`` takes a node id (SPEC §7.11): a known type, a colon, a value; anything else would match nothing."""
    kind, colon, value = node.partition(":")
    if not colon or kind not in NODE_TYPES or not value.strip():
        from ..errors import InvalidInput

        raise InvalidInput(
            f"--uses takes a node id, TYPE:VALUE with TYPE one of {', '.join(NODE_TYPES)}: {node!r}",
            hint="e.g. --uses data:v2024-01, --uses experiment:exp-003, --uses model:fraud-model@1.0.0",
        )


def get_lineage(
    ctx: Context, name: str | None = None, version: str | None = None, *, uses: str | None = None,
    feature: str | None = None,
) -> Lineage:
    """The lineage graph of a model, of one version (with its parents), of the versions that use a node
    (``uses="data:v2024-01"``), or of the versions with a feature."""
    from .. import lineage
    from ..errors import UsageError
    from ..results import Lineage

    if sum(x is not None for x in (name, uses, feature)) != 1:
        raise UsageError(
            "ask about one thing: a model, --uses NODE or --feature NAME",
            hint="e.g. registry-lineage fraud-model v3.1.0, or --uses data:v2024-01",
        )
    if uses is not None:
        _check_node(uses)
    index = ctx.index()
    canonical = V.canonical(version) if version is not None else None
    if name is not None:
        V.validate_name(name)
        index.versions_of(name)  # not_found for an unknown model
        if canonical is not None:
            index.get(name, canonical)
    if name is None:  # --uses / --feature: any model's versions may match
        every = [r for n in index.names() for r in index.records_of(n)]
        chosen = lineage.select(every, uses=uses, feature=feature)
    else:  # the model's versions; a version's ancestors read model by model as its parent chain reaches them
        every, read = list(index.records_of(name)), {name}
        while True:
            chosen = lineage.select(every, name=name, version=canonical)
            parent = (chosen[-1].get("lineage") or {}).get("parent") if canonical is not None and chosen else None
            model = parent.rpartition("@")[0] if isinstance(parent, str) else ""
            if not model or model in read:
                break
            read.add(model)
            every += index.records_of(model)
    g = lineage.graph(chosen)
    refs = [f"{r['name']}@{r['version']}" for r in chosen]
    return Lineage(
        g["nodes"],
        g["edges"],
        refs,
        chains={ref: lineage.chain(r) for ref, r in zip(refs, chosen)},
        parents={ref: (r.get("lineage") or {}).get("parent") for ref, r in zip(refs, chosen)},
    )
