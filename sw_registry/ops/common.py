"""Pieces every operation shares: read one version's metadata, turn it into a ModelVersion, rewrite it inside
a write, refresh the derived files, and pick the increment a new version goes to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import InvalidInput, NotFound
from ..outcomes import PlainVersion as ModelVersion  # the plain form: ModelRegistry hands out the dataclass
from ..store.files import newer_schema_warning, parse_metadata

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..layout import Increment, Layout
    from ..store.index import Index
    from ..store.records import Record
    from ..transaction import Transaction
    from .context import Context


@contextmanager
def writing(ctx: Context) -> Iterator[Transaction]:
    """``ctx.write()`` with the cyclic garbage collector paused until it ends (issue 10). A write allocates many
    small containers that live to its end (records, cache and snapshot entries); the collector's full passes over
    them find nothing to free and cost 10–60 ms of a write at 10,000 versions. It runs again afterwards."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with ctx.write() as tx:
            yield tx
    finally:
        if was_enabled:
            gc.enable()


def read_metadata(ctx: Context, rec: Record) -> dict[str, Any]:
    rel = ctx.layout.metadata_rel(rec["dir"])
    raw = ctx.source().read(rel)
    if raw is None:
        raise NotFound(f"{rel} disappeared", hint="run the command again")
    return parse_metadata(raw, rel)


def version_of(
    ctx: Context,
    meta: dict[str, Any],
    rec: Record,
    commit: str | None = None,
    verified: bool = False,
    warnings: tuple[str, ...] = (),
) -> ModelVersion:
    art = meta.get("artifact") or {}
    store = art.get("store")
    # an artifact in an object store is where its URL says until registry-get fetches it into the cache
    path = (
        store
        if isinstance(store, str) and "://" in store
        else ctx.layout.abs(f"{rec['dir']}/{art.get('path', '')}")
    )
    warn = newer_schema_warning(meta, ctx.layout.metadata_rel(rec["dir"]))
    return ModelVersion(meta, str(path), commit, verified, warnings + ((warn,) if warn else ()))


def rewrite_metadata(
    ctx: Context, tx: Transaction, rec: Record, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Read, check writable, change and write back one version's metadata (unknown keys kept)."""
    from ..store.files import check_writable, copy_json, dump_json

    rel = ctx.layout.metadata_rel(rec["dir"])
    meta = read_metadata(ctx, rec)
    check_writable(meta, rel)
    meta = copy_json(meta)
    change(meta)
    meta["updated_at"] = ctx.now()
    tx.write(rel, dump_json(meta))
    return meta


def derived_of(layout: Layout, index: Index, increments: set[str] | None = None) -> Iterator[tuple[str, bytes, bool]]:
    """``(path, wanted bytes, has versions)`` of every derived file (model_catalog.yaml, lineage_graph.json):
    of the named increments, or (None) of every increment that holds versions or has a registry folder."""
    from ..store.derived import derived_files

    chosen = layout.increments()
    if increments is not None:
        known = {i.id: i for i in chosen}
        chosen = [known[inc_id] for inc_id in sorted(increments)]
    for inc in chosen:
        recs = index.in_increment(inc.id, keep=increments is not None)  # every increment: one at a time in memory
        if increments is None and not recs and not layout.abs(layout.registry_rel(inc.rel)).is_dir():
            continue
        for rel, data in derived_files(inc.rel, inc.id, recs).items():
            yield rel, data, bool(recs)


def refresh_derived(
    layout: Layout, tx: Transaction, increments: set[str] | None = None, *, durable: bool = False
) -> None:
    """Bring the derived files of ``increments`` (None: all) in step with the metadata, inside ``tx``.

    Not durable by default: registry-reindex rebuilds them; reindex and repair write them durably. A write's
    refresh of its own increments goes through the per-version cache of store/derived.py (issue 10): the same
    bytes, reading again only the versions whose metadata.json changed."""
    if increments is not None and not durable:
        from ..store.derived import refresh_increment

        known = {i.id: i for i in layout.increments()}
        for inc_id in sorted(increments):
            refresh_increment(tx, known[inc_id])
        return
    for rel, data, _ in derived_of(layout, tx.index, increments):
        tx.write_if_changed(rel, data, durable=durable)


def target_increment(ctx: Context, explicit: str | None, from_metadata: Any) -> Increment:
    """The increment a new version goes to: the call's, the registry's, the metadata's, else the active one."""
    for given in (explicit, ctx.increment):
        if given is not None and not str(given).strip():
            raise InvalidInput("the increment id is empty", hint="pass --increment 42, 0042 or 0042-name")
    ref = explicit or ctx.increment or (str(from_metadata) if from_metadata else None)
    if ref:
        return ctx.layout.resolve_increment(ref, create=True)
    return ctx.layout.active_increment()


def object_store(ctx: Context, policy: Any) -> Any:
    """The object store new artifacts go to (SPEC §11), or None when they are kept in git."""
    if ctx.storage_uri in (None, "", "git") and policy.artifact_store == "git":
        return None  # the common case: store/objectstore.py (and uuid, platform …) is not imported
    from ..store.objectstore import from_policy

    return from_policy(policy, ctx.storage_uri)
