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

mlflow (the client, ``mlflow-skinny``) is imported only inside the functions that talk to the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, RegistryError, StoreError, UsageError
from .registry import ModelRegistry

if TYPE_CHECKING:
    from .store.index import Index

ENV_URI = "SW_REGISTRY_MLFLOW_URI"
ALIASES = ("production", "staging")
TAG_VERSION = "sw_registry.version"
MANAGED_PREFIXES = ("sw_registry.", "metric.", "lineage.")  # tags a sync owns (and removes when stale)
GIT_SOURCE_SCHEME = "sw-registry://"
PENDING_FILE = "mlflow-pending.json"
# The client's retry/timeout settings while we talk to the server: an unreachable or refusing server must be a
# store_error within 30 s, not minutes of mlflow's default retries (7 retries, backoff factor 2, 120 s timeout).
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "8",
}
_BAD_TAG_CHARS = re.compile(r"[^\w.\- :]")  # MLflow's tag-name alphabet, less '/' (which it would normalise)
_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")

Report = dict[str, Any]


def redact(uri: str) -> str:
    """The URI without credentials (``http://user:pw@host`` -> ``http://host``), for messages and reports."""
    return _USERINFO.sub("", uri)


def check_uri(uri: str, where: str = "--tracking-uri") -> str:
    uri = uri.strip()
    if not re.match(r"^https?://[^/\s]+", uri):
        raise UsageError(
            f"{where} must be an http(s) URL of an MLflow tracking server, got {redact(uri)!r}",
            hint="e.g. --tracking-uri http://127.0.0.1:5000",
        )
    return uri.rstrip("/")


def configured_uri(reg: ModelRegistry) -> str | None:
    """The tracking URI writes are mirrored to: MLflowRegistry's own, else $SW_REGISTRY_MLFLOW_URI, else
    registry.yaml's ``mlflow_tracking_uri``; None when none is set."""
    uri = getattr(reg, "mlflow_tracking_uri", None) or os.environ.get(ENV_URI) or None
    if uri:
        return check_uri(uri, "the MLflow tracking URI")
    path = reg.layout.specweave / "registry.yaml"
    try:
        if b"mlflow_tracking_uri" not in path.read_bytes():  # cheap: no YAML parse for the many without it
            return None
    except OSError:
        return None
    found = reg.index().policy.data.get("mlflow_tracking_uri")
    return check_uri(str(found), "registry.yaml mlflow_tracking_uri") if found else None


# -- what the server should hold ---------------------------------------------------------------
def tag_key(prefix: str, name: str) -> str:
    return prefix + _BAD_TAG_CHARS.sub("_", str(name))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def source_of(rec: dict[str, Any], meta: dict[str, Any]) -> str:
    """The model version's ``source``: the artifact's store URL, or ``sw-registry:///<path>`` for git."""
    art = meta.get("artifact") or {}
    store = str(art.get("store") or "git")
    if store != "git" and "://" in store:
        return redact(store)
    return f"{GIT_SOURCE_SCHEME}/{rec['dir']}/{art.get('path', '')}"


def desired_tags(meta: dict[str, Any]) -> dict[str, str]:
    art = meta.get("artifact") or {}
    tags = {
        TAG_VERSION: str(meta["version"]),
        "sw_registry.stage": str(meta.get("stage")),
        "sw_registry.sha256": str(art.get("sha256") or ""),
        "sw_registry.increment": str(meta.get("increment") or ""),
    }
    for name, value in (meta.get("metrics") or {}).items():
        tags[tag_key("metric.", name)] = _text(value)
    for key, value in (meta.get("lineage") or {}).items():
        if value is not None:
            tags[tag_key("lineage.", key)] = _text(value)
    deprecation = meta.get("deprecation")
    if deprecation:
        tags["sw_registry.deprecated"] = _text((deprecation or {}).get("reason") or "true")[:5000]
    approvers: dict[str, list[str]] = {}
    for approval in meta.get("approvals") or []:
        approvers.setdefault(str(approval.get("stage")), []).append(str(approval.get("approver")))
    for stage, who in approvers.items():
        tags[tag_key("sw_registry.approved.", stage)] = ",".join(who)
    return tags


# -- talking to the server ----------------------------------------------------------------------
@contextlib.contextmanager
def client_settings() -> Iterator[None]:
    """Bounded retries and timeouts, and mlflow's own log lines kept off stderr, while we talk to the server."""
    import logging

    saved = {k: os.environ.get(k) for k in CLIENT_ENV}
    os.environ.update(CLIENT_ENV)
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        yield
    finally:
        logger.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Server:
    """The few MLflow client calls a sync makes; every failure becomes ``store_error`` naming the URL."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise ConfigError(
                "mirroring to MLflow needs the MLflow client, which is not installed",
                hint="pip install 'sw-registry[mlflow]'",
            ) from None
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def call(self, what: str, fn: Callable[..., Any], *args: Any, missing_ok: bool = False, **kwargs: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return fn(*args, **kwargs)
        except MlflowException as exc:
            if missing_ok and getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise self._error(what, exc) from None
        except (OSError, ValueError) as exc:  # requests' errors are OSErrors; a garbled reply a ValueError
            raise self._error(what, exc) from None

    def _error(self, what: str, exc: BaseException) -> RegistryError:
        text = redact(" ".join(str(exc).split()) or type(exc).__name__)
        if self.uri != redact(self.uri):
            text = text.replace(self.uri, redact(self.uri))
        return StoreError(
            f"MLflow server {redact(self.uri)} could not be reached or refused ({what}): {text[:400]}",
            hint="check that the tracking server is up and the URL is right (credentials go in "
            "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN); git is unchanged, "
            "and 'sw-registry mlflow-sync' brings the mirror up to date once it answers",
            details={"tracking_uri": redact(self.uri)},
        )

    def model_versions(self, name: str) -> list[Any]:
        out: list[Any] = []
        token = None
        while True:
            page = self.call(
                "search model versions",
                self.client.search_model_versions,
                f"name='{name}'",
                max_results=1000,
                page_token=token,
            )
            out.extend(page)
            token = getattr(page, "token", None)
            if not token:
                return out


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
    index = reg.index()
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
    client = server.client
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
        meta = reg._read_metadata(rec)
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
        index = reg.index()
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
