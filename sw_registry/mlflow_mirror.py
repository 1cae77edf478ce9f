"""Mirror the registry into an MLflow tracking server (SPEC §11).

Git stays the source of truth; MLflow gets a copy that its UI, its clients and its deployment tools can read:

* one registered model per model name, one model version per registered version;
* each model version's ``source`` is the artifact's object-store URL, or ``sw-registry:///<path from the
  project root>`` for an artifact kept in git (MLflow refuses plain local paths outside a run, and accepts any
  other URI scheme as an opaque source);
* tags ``sw_registry.version`` (the canonical version), ``sw_registry.stage``, ``sw_registry.sha256``,
  ``metric.<name>``, ``lineage.<key>`` (and ``sw_registry.increment``, ``sw_registry.deprecated``,
  ``sw_registry.approved.<stage>`` when they apply);
* aliases ``production`` and ``staging`` on the stage holders, removed when the stage is empty.

MLflow numbers model versions itself, so the link between ``3.1.0`` and MLflow's ``7`` is the
``sw_registry.version`` tag, written in the same request that creates the MLflow version: a sync looks the
tag up and never creates a second MLflow version for a registered one. (If two syncs ever raced and both
created one, the lowest MLflow number is the one kept in step; the other is left alone.)

mlflow (the client, ``mlflow-skinny``) is imported only inside the functions that talk to the server
(mlflow_server.py: the tags a version should carry and the client calls; its names are importable from here).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RegistryError, UsageError
from .hooks import ENV_URI
from .mlflow_server import (
    ALIASES,
    CLIENT_ENV,
    GIT_SOURCE_SCHEME,
    MANAGED_PREFIXES,
    PENDING_FILE,
    TAG_VERSION,
    Report,
    Server,
    check_uri,
    client_settings,
    configured_uri,
    desired_tags,
    redact,
    source_of,
    tag_key,
)
from .registry import ModelRegistry

__all__ = [
    "ALIASES",
    "CLIENT_ENV",
    "ENV_URI",
    "GIT_SOURCE_SCHEME",
    "MANAGED_PREFIXES",
    "PENDING_FILE",
    "TAG_VERSION",
    "MLflowRegistry",
    "Report",
    "Server",
    "check_uri",
    "client_settings",
    "configured_uri",
    "desired_tags",
    "mirror_after_write",
    "redact",
    "source_of",
    "sync",
    "tag_key",
]

if TYPE_CHECKING:
    from .store.index import Index

# -- the sync ----------------------------------------------------------------------------------
def _item(model: str, version: str | None, what: str, number: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"model": model, "version": version, "what": what}
    if number is not None:
        item["mlflow_version"] = number
    return item


def sync(reg: ModelRegistry, uri: str, model: str | None = None) -> Report:
    """Bring the server in step with the registry's work tree (every model, or just ``model``)."""
    from . import versions as V

    uri = check_uri(uri)
    index = reg.ctx.index()
    if model is not None:
        V.validate_name(model)
        index.versions_of(model)  # not_found for an unknown model, before any network
    names = [model] if model is not None else index.names()
    report: Report = {"tracking_uri": redact(uri), "created": [], "updated": [], "unchanged": []}
    with client_settings(), _mirror_lock(reg):
        server = Server(uri)
        for name in names:
            _sync_model(reg, index, server, name, report)
    _clear_pending(reg, None if model is None else {model})
    return report


def _sync_model(reg: ModelRegistry, index: Index, server: Server, name: str, report: Report) -> None:
    from .ops.common import read_metadata

    client, ctx = server.client, reg.ctx
    registered = server.call("get registered model", client.get_registered_model, name, missing_ok=True)
    if registered is None:
        server.call("create registered model", client.create_registered_model, name)
        report["created"].append(_item(name, None, "registered model"))
        existing: dict[str, Any] = {}
        aliases: dict[str, str] = {}
    else:
        report["unchanged"].append(_item(name, None, "registered model"))
        existing = {}
        for mv in sorted(server.model_versions(name), key=lambda m: int(m.version)):
            key = (mv.tags or {}).get(TAG_VERSION)
            if key and key not in existing:
                existing[key] = mv  # the lowest MLflow number for a version wins (see the module doc)
        aliases = {k: str(v) for k, v in (getattr(registered, "aliases", None) or {}).items() if k in ALIASES}
    numbers: dict[str, str] = {}
    for rec in index.records_of(name):
        meta = read_metadata(ctx, rec)
        version = str(meta["version"])
        tags = desired_tags(meta)
        description = str(meta.get("description") or "")
        mv = existing.get(version)
        if mv is None:
            mv = server.call(
                "create model version",
                client.create_model_version,
                name,
                source_of(rec, meta),
                tags=tags,
                description=description or None,
                await_creation_for=0,
            )
            report["created"].append(_item(name, version, f"model version {mv.version}", str(mv.version)))
        else:
            changed = _update_version(server, name, mv, tags, description)
            bucket = "updated" if changed else "unchanged"
            what = ("tags " + ", ".join(changed)) if changed else f"model version {mv.version}"
            report[bucket].append(_item(name, version, what, str(mv.version)))
        numbers[version] = str(mv.version)
    for alias in ALIASES:
        holder = index.holder(name, alias)
        want = numbers.get(holder["version"]) if holder else None
        have = aliases.get(alias)
        label = holder["version"] if holder else None
        if want == have:
            if want is not None:
                report["unchanged"].append(_item(name, label, f"alias {alias}", want))
        elif want is None:
            server.call("delete alias", client.delete_registered_model_alias, name, alias)
            report["updated"].append(_item(name, None, f"alias {alias} removed"))
        else:
            server.call("set alias", client.set_registered_model_alias, name, alias, want)
            report["updated"].append(_item(name, label, f"alias {alias}", want))


def _update_version(server: Server, name: str, mv: Any, tags: dict[str, str], description: str) -> list[str]:
    """Set the tags that differ, delete our stale ones, and fix the description; what changed, by key."""
    client = server.client
    have = dict(mv.tags or {})
    changed = []
    for key, value in tags.items():
        if have.get(key) != value:
            server.call("set tag", client.set_model_version_tag, name, mv.version, key, value)
            changed.append(key)
    for key in have:
        if key not in tags and key.startswith(MANAGED_PREFIXES):
            server.call("delete tag", client.delete_model_version_tag, name, mv.version, key)
            changed.append(key)
    if (mv.description or "") != description:
        server.call("update description", client.update_model_version, name, mv.version, description=description)
        changed.append("description")
    return changed


@contextlib.contextmanager
def _mirror_lock(reg: ModelRegistry) -> Iterator[None]:
    """One mirror at a time per project, so two writers never both create the same MLflow version."""
    folder = reg.layout.cache_dir
    try:
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / "mlflow.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except (ImportError, OSError):  # no flock here, or a read-only checkout: mirror without the lock
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# -- after a write: the post-commit hook (hooks.py) -----------------------------------------------
def _pending_path(reg: ModelRegistry) -> Path:
    return reg.layout.cache_dir / PENDING_FILE


def _pending(reg: ModelRegistry) -> set[str]:
    try:
        data = json.loads(_pending_path(reg).read_text(encoding="utf-8"))
        return {str(n) for n in data.get("models", [])}
    except (OSError, ValueError, AttributeError):
        return set()


def _set_pending(reg: ModelRegistry, models: set[str]) -> None:
    path = _pending_path(reg)
    with contextlib.suppress(OSError):
        if not models:
            path.unlink(missing_ok=True)
            return
        from .store.index import ensure_ignored

        path.parent.mkdir(parents=True, exist_ok=True)
        ensure_ignored(path.parent)
        path.write_text(json.dumps({"models": sorted(models)}) + "\n", encoding="utf-8")


def _clear_pending(reg: ModelRegistry, models: set[str] | None) -> None:
    pending = _pending(reg)
    if pending:
        _set_pending(reg, set() if models is None else pending - models)


def mirror_after_write(reg: ModelRegistry, result: Any) -> Any:
    """Mirror the model a write changed (plus any whose earlier mirror failed); a failure is a warning."""
    name = getattr(result, "name", None)
    committed = getattr(result, "commit", None) is not None and isinstance(name, str)
    pending = _pending(reg)
    if not committed and not pending:
        return result
    try:
        uri = configured_uri(reg)
    except RegistryError as exc:
        return _warn(result, f"the MLflow mirror is not configured right: {exc.message}")
    if uri is None:
        return result
    models = sorted(pending | ({name} if committed and isinstance(name, str) else set()))
    try:
        index = reg.ctx.index()
        known = set(index.names())
        with client_settings(), _mirror_lock(reg):
            server = Server(uri)
            scratch: Report = {"created": [], "updated": [], "unchanged": []}
            for model in models:
                if model in known:
                    _sync_model(reg, index, server, model, scratch)
        _set_pending(reg, set())
        return result
    except Exception as exc:  # git is the source of truth: nothing here may fail the write that landed
        _set_pending(reg, set(models))
        message = exc.message if isinstance(exc, RegistryError) else f"{type(exc).__name__}: {exc}"
        return _warn(
            result,
            f"committed, but the MLflow mirror at {redact(uri)} failed: {message}; "
            "the next write or 'sw-registry mlflow-sync' repairs it",
        )


def _warn(result: Any, message: str) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(result) and hasattr(result, "warnings"):
        return dataclasses.replace(result, warnings=(*result.warnings, message))  # type: ignore[misc,type-var]
    if hasattr(result, "replace") and hasattr(result, "warnings"):  # a plain result (outcomes.py), as the CLI's
        return result.replace(warnings=(*result.warnings, message))
    return result


# -- the seed's MLflowRegistry ------------------------------------------------------------------
class MLflowRegistry(ModelRegistry):
    """A ModelRegistry whose every write is mirrored to an MLflow tracking server right after its commit.

    ``MLflowRegistry(tracking_uri="http://mlflow.internal:5000", increment="0042")``; without ``tracking_uri``,
    $SW_REGISTRY_MLFLOW_URI and then registry.yaml's ``mlflow_tracking_uri`` are used. ``sync(model=None)``
    brings the server in step with the whole registry and returns the report ``mlflow-sync`` prints.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        increment: str | None = None,
        root: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(increment=increment, root=root, **kwargs)
        self.mlflow_tracking_uri = check_uri(tracking_uri, "tracking_uri") if tracking_uri else None

    @property
    def tracking_uri(self) -> str:
        uri = configured_uri(self)
        if uri is None:
            raise UsageError(
                "no MLflow tracking URI is set",
                hint=f"pass tracking_uri=..., set ${ENV_URI}, or mlflow_tracking_uri in .specweave/registry.yaml",
            )
        return uri

    def sync(self, model: str | None = None) -> Report:
        return sync(self, self.tracking_uri, model)
