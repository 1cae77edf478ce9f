"""The MLflow side of the mirror (SPEC §11): what the server should hold for a version, and the client calls.

mlflow (the client, ``mlflow-skinny``) is imported only inside the functions that talk to the server. The sync
itself and the seed's ``MLflowRegistry`` are mlflow_mirror.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, RegistryError, StoreError, UsageError
from .hooks import ENV_URI
from .layout import POLICY_REL

if TYPE_CHECKING:
    from .registry import ModelRegistry
    from .store.records import Record

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
    path = reg.layout.abs(POLICY_REL)
    try:
        if b"mlflow_tracking_uri" not in path.read_bytes():  # cheap: no YAML parse for the many without it
            return None
    except OSError:
        return None
    found = reg.ctx.index().policy.data.get("mlflow_tracking_uri")
    return check_uri(str(found), "registry.yaml mlflow_tracking_uri") if found else None


# -- what the server should hold ---------------------------------------------------------------
def tag_key(prefix: str, name: str) -> str:
    return prefix + _BAD_TAG_CHARS.sub("_", str(name))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def source_of(rec: Record, meta: dict[str, Any]) -> str:
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
