"""Reads: registry-list, registry-info, registry-get (by stage, version or date) and the next version number.

Reads go through the index (a stat-validated cache, store/index.py): they never re-read every metadata.json.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .. import versions as V
from ..errors import NotFound
from ..outcomes import PlainInfo as ModelInfo  # the plain forms: ModelRegistry hands out the dataclasses
from ..outcomes import PlainRow as VersionRow
from ..outcomes import PlainSummary as ModelSummary
from ..outcomes import PlainVersion as ModelVersion
from ..policy import primary_metric_of
from .common import read_metadata, version_of

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, Concatenate, ParamSpec, TypeVar

    from ..store.index import Index
    from ..store.records import Record
    from .context import Context

    P = ParamSpec("P")
    T = TypeVar("T")

PICKLE_FORMAT = "sw-registry-pickle"  # the artifact format of a model object the registry pickled
Opt = str | None  # a filter of registry-list: None keeps everything


def warned(
    ctx: Context, read: Callable[Concatenate[Context, P], T], *args: P.args, **kwargs: P.kwargs
) -> tuple[T, tuple[str, ...]]:
    """``read(ctx, ...)`` over one load of the index, and that index's warnings (SPEC §9 ``data.warnings``: e.g.
    files written by a newer sw-registry). The warnings are returned with the value, never kept on an object."""
    index = ctx.index()
    return read(ctx.replace(load_index=lambda: index), *args, **kwargs), tuple(index.warnings)


def _increment_id(ctx: Context, increment: str | None) -> str | None:
    return ctx.layout.resolve_increment(increment).id if increment is not None else None


def _check_stage(stage: str | None) -> None:
    """An unknown stage filter is refused (invalid_input), for API callers as for the CLI."""
    if stage is not None:
        from ..lifecycle import check_stage

        check_stage(stage)


def _check_model(model: Opt) -> None:
    """A model filter that is not a model name is refused (invalid_name, SPEC §3), not answered with no model."""
    if model is not None:
        from ..versions import validate_name

        validate_name(model)


def list_models(ctx: Context, stage: Opt, model: Opt, increment: Opt, tag: Opt) -> list[ModelSummary]:
    """One summary per model; a filter keeps the models with some version that matches it."""
    _check_stage(stage)
    _check_model(model)
    index = ctx.index()
    inc_id = _increment_id(ctx, increment)
    out = []
    for name in index.names():
        agg = index.aggregate(name)
        if (
            (model and name != model)
            or (stage and stage not in agg["stages"])
            or (inc_id and inc_id not in agg["increments"])
            or (tag and tag not in agg["tags"])
        ):
            continue
        out.append(summary(index, name, agg))
    return out


def list_versions(ctx: Context, stage: Opt, model: Opt, increment: Opt, tag: Opt) -> list[ModelVersion]:
    """Every matching version with its full metadata (``registry-list --all-versions``)."""
    _check_stage(stage)
    _check_model(model)
    index = ctx.index()
    inc_id = _increment_id(ctx, increment)
    recs = [r for n in index.names() if not model or n == model for r in index.records_of(n)]
    return [
        version_of(ctx, read_metadata(ctx, r), r)
        for r in recs
        if not (
            (stage and r["stage"] != stage) or (inc_id and r["increment"] != inc_id) or (tag and tag not in r["tags"])
        )
    ]


def summary(index: Index, name: str, agg: dict[str, Any]) -> ModelSummary:
    metrics = agg["production_metrics"]
    return ModelSummary(
        name=name,
        production=agg["production"],
        staging=agg["staging"],
        latest=agg["latest"],
        version_count=agg["count"],
        primary_metric=primary_metric_of(index.policy, name, metrics) if metrics is not None else None,
        updated_at=agg["updated_at"],
        owner=index.policy.owner(name),
    )


def info(ctx: Context, name: str, version: str | None = None) -> ModelInfo | ModelVersion:
    V.validate_name(name)
    index = ctx.index()
    if version is not None:
        rec = index.get(name, V.canonical(version))
        return version_of(ctx, read_metadata(ctx, rec), rec)
    recs = index.versions_of(name)
    policy = index.policy
    rows = [
        VersionRow(
            r["version"],
            r["stage"],
            r["created_at"],
            r["increment"],
            r["deprecated"],
            r["metrics"],
            primary_metric_of(policy, name, r["metrics"]),
        )
        for r in recs
    ]
    stages = {s: (h["version"] if (h := index.holder(name, s)) else None) for s in ("staging", "production")}
    return ModelInfo(name, policy.owner(name), policy.model_policy(name), stages, rows)


def resolve(
    ctx: Context, name: str, *, stage: str | None = None, version: str | None = None, date: str | None = None
) -> Record:
    """The index record of one version: by version, by the production version at a date, or by stage."""
    V.validate_name(name)
    index = ctx.index()
    if version is not None:
        return index.get(name, V.canonical(version))
    if date is not None:
        from .history import production_at

        return production_at(index, name, date)
    from ..lifecycle import check_stage

    stage = check_stage(stage or "production")
    index.versions_of(name)
    rec = index.holder(name, stage)
    if rec is None:
        raise NotFound(
            f"model {name!r} has no version in {stage}",
            hint=f"see 'sw-registry registry-info {name}' for its versions",
        )
    return rec


def get_model(
    ctx: Context, name: str, stage: str | None = None, version: str | None = None, load: bool = True, *,
    date: str | None = None,
) -> Any:
    """The loaded object for a pickle this registry wrote (after its hash verifies), else a ModelVersion."""
    if stage is None and version is None and date is None:
        stage = "production"
    rec = resolve(ctx, name, stage=stage, version=version, date=date)
    meta = read_metadata(ctx, rec)
    mv = verified(ctx, meta, rec)
    art = meta.get("artifact") or {}
    if load and art.get("format") == PICKLE_FORMAT:
        import pickle

        with open(mv.path, "rb") as fh:
            return pickle.load(fh)
    return mv


def verified(ctx: Context, meta: dict[str, Any], rec: Record) -> ModelVersion:
    """The version with its artifact at hand and its hash checked (fetched from git objects or the store)."""
    from ..store.artifacts import is_store_artifact

    art = meta.get("artifact") or {}
    if is_store_artifact(art):
        from ..store.objectstore import fetch_artifact, store_for

        store = store_for(str(art["store"]), ctx.index().policy, ctx.storage_uri)
        path = fetch_artifact(store, art, ctx.layout.cache_dir / "artifacts", f"{rec['name']}@{rec['version']}")
    else:
        path = materialize(ctx, rec, art) if ctx.rev else ctx.layout.abs(f"{rec['dir']}/{art.get('path', '')}")
        from ..store.artifacts import verify_artifact

        verify_artifact(path, art, f"{rec['name']}@{rec['version']}")
    mv = version_of(ctx, meta, rec, verified=True)
    return ModelVersion(mv.metadata, str(path), None, True, mv.warnings)


def materialize(ctx: Context, rec: Record, art: dict[str, Any]) -> Path:
    """Extract an artifact from git objects into the cache (``--rev`` reads), keyed by its sha256."""
    import tempfile

    from ..errors import IntegrityError
    from ..store.index import GitRevSource, ensure_ignored

    source = ctx.source()
    assert isinstance(source, GitRevSource)
    name = str(art.get("path") or "")
    if not name or "/" in name or name in (".", ".."):
        raise IntegrityError(
            f"{ctx.layout.metadata_rel(rec['dir'])} names an invalid artifact path {name!r}",
            hint="restore the file from git",
        )
    folder = ctx.layout.cache_dir / "artifacts"
    dest = folder / str(art.get("sha256")) / name
    if dest.exists():
        return dest
    base = f"{rec['dir']}/{name}"
    entry = source.entry(base)
    entries = {base: entry} if entry else source.under(base)  # a file, or a folder's files
    if not entries:
        raise NotFound(f"artifact {base} is not in {ctx.rev}", hint="check the revision")
    folder.mkdir(parents=True, exist_ok=True)
    ensure_ignored(folder)
    tmp = Path(tempfile.mkdtemp(dir=folder))
    for rel, (_kind, oid, _size) in entries.items():
        target = tmp / name / rel[len(base) + 1 :] if rel != base else tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source.repo.blob_to_file(oid, target)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp / name, dest)
    os.rmdir(tmp)
    return dest


def next_version(ctx: Context, name: str, version_type: str = "minor") -> str:
    """The next version of ``name`` for a bump; registers nothing."""
    V.validate_name(name)
    return V.bump([r["version"] for r in ctx.index().records_of(name)], version_type)
