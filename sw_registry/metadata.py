"""metadata.json (SPEC §4): sorting the seed's flat dict into fields, features and signatures. Pure."""

from __future__ import annotations

from .errors import InvalidInput

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1
FIELD_ORDER = (
    "schema_version",
    "name",
    "version",
    "increment",
    "stage",
    "created_at",
    "updated_at",
    "created_by",
    "description",
    "tags",
    "metrics",
    "hyperparameters",
    "info",
    "features",
    "signature",
    "lineage",
    "artifact",
    "approvals",
    "stage_history",
    "deprecation",
)
# flat keys that are already §4 fields
LINEAGE_KEYS = {
    "training_data_version": "data",
    "feature_engineering_version": "feature_engineering",
    "experiment": "experiment",
    "parent_model": "parent",
}
# set by the registry itself; a flat dict cannot set them
RESERVED = (
    "schema_version",
    "name",
    "version",
    "stage",
    "created_at",
    "updated_at",
    "created_by",
    "artifact",
    "approvals",
    "stage_history",
    "deprecation",
    "increment",
)


def is_metric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics are finite numbers (NaN and infinities cannot be written as JSON)."""
    import math

    for key, value in metrics.items():
        if not is_metric(value) or not math.isfinite(value):
            raise InvalidInput(
                f"metric {key!r} must be a finite number, got {value!r}", hint="e.g. --metric accuracy=0.87"
            )
    return metrics


def normalize_features(value: Any) -> list[dict[str, str]]:
    """Names, {name: type} maps or [{name, type}] lists -> [{name, type}] (plain names get type 'any')."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [{"name": str(k), "type": str(v)} for k, v in value.items()]
    if not isinstance(value, list):
        raise InvalidInput("features must be a list of names or of {name, type}", hint="see SPEC §4")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append({"name": item, "type": "any"})
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append({"name": item["name"], "type": str(item.get("type") or "any")})
        else:
            raise InvalidInput(f"invalid feature entry {item!r}", hint="give a name or {name, type}")
    return out


def sort_flat(flat: dict[str, Any] | None) -> dict[str, Any]:
    """Sort the seed's flat metadata dict into §4 fields.

    Returns a dict with description, tags, metrics, hyperparameters, info, features, signature and
    lineage, plus ``version`` and ``increment``
    when the flat dict named them (the caller decides what to do with those).
    """
    out: dict[str, Any] = {
        "description": "",
        "tags": [],
        "metrics": {},
        "hyperparameters": {},
        "info": {},
        "features": [],
        "signature": None,
        "lineage": {},
    }
    if not flat:
        return out
    if not isinstance(flat, dict):
        raise InvalidInput("metadata must be a mapping", hint="pass a dict / a JSON or YAML object")
    for key, value in flat.items():
        key = str(key)
        if key in ("metrics", "hyperparameters", "info", "lineage"):
            if not isinstance(value, dict):
                raise InvalidInput(f"metadata {key!r} must be a mapping", hint="see SPEC §4")
            if key == "metrics":
                check_metrics(value)
            out[key].update(value)
        elif key == "features":
            out["features"] = normalize_features(value)
        elif key == "signature":
            out["signature"] = normalize_signature(value)
        elif key == "tags":
            out["tags"] = [str(t) for t in (value if isinstance(value, list) else [value])]
        elif key == "description":
            out["description"] = "" if value is None else str(value)
        elif key in LINEAGE_KEYS:
            out["lineage"][LINEAGE_KEYS[key]] = value
        elif key in ("version", "increment"):
            out[key] = value
        elif key in RESERVED:
            continue
        elif is_metric(value):
            out["metrics"][key] = check_metrics({key: value})[key]
        else:
            out["info"][key] = value
    return out


def normalize_signature(value: Any) -> dict[str, dict[str, str]] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= {"inputs", "outputs"}:
        raise InvalidInput(
            "a signature is a mapping with 'inputs' and 'outputs'", hint="e.g. {inputs: {amount: float}}"
        )
    out = {}
    for part in ("inputs", "outputs"):
        items = value.get(part) or {}
        if isinstance(items, list):
            items = {f["name"]: f["type"] for f in normalize_features(items)}
        if not isinstance(items, dict):
            raise InvalidInput(f"signature {part} must be a mapping of name to type", hint="e.g. {amount: float}")
        out[part] = {str(k): str(v) for k, v in items.items()}
    return out


def merge_signature(
    signature: dict[str, dict[str, str]] | None,
    features: list[dict[str, str]],
    extra_inputs: dict[str, str] | None = None,
    extra_outputs: dict[str, str] | None = None,
) -> tuple[dict[str, dict[str, str]] | None, list[dict[str, str]]]:
    """One consistent (signature, features): features.yaml lists the signature's inputs."""
    inputs = dict((signature or {}).get("inputs") or {})
    outputs = dict((signature or {}).get("outputs") or {})
    inputs.update(extra_inputs or {})
    outputs.update(extra_outputs or {})
    for f in features:
        inputs.setdefault(f["name"], f["type"])
    if not inputs and not outputs:
        return None, []
    return {"inputs": inputs, "outputs": outputs}, [{"name": k, "type": v} for k, v in inputs.items()]


def ordered(meta: dict[str, Any]) -> dict[str, Any]:
    """§4 fields in their documented order, then any unknown keys as they were (preserved on rewrite)."""
    out = {k: meta[k] for k in FIELD_ORDER if k in meta}
    out.update({k: v for k, v in meta.items() if k not in out})
    return out


def parse_key_values(items: list[str] | None, what: str) -> dict[str, Any]:
    """--metric/--param K=V; values are YAML scalars (int, float, bool, string)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{what} {item!r} is not KEY=VALUE", hint=f"write --{what} name=value")
        out[key.strip()] = yaml_scalar(raw.strip())
    return out


def yaml_scalar(raw: str) -> Any:
    import yaml

    try:
        value = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if raw else ""
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError):  # e.g. '[[[[…' 10,000 deep: kept as text
        return raw
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return raw  # NaN and infinities have no JSON form: kept as the text typed
    return value if isinstance(value, (int, float, bool, str)) or value is None else raw


def parse_typed(items: list[str] | None, what: str) -> dict[str, str]:
    """--feature/--output NAME:TYPE."""
    out = {}
    for item in items or []:
        name, sep, kind = item.partition(":")
        if not sep or not name.strip() or not kind.strip():
            raise InvalidInput(f"{what} {item!r} is not NAME:TYPE", hint=f"write --{what} amount:float")
        out[name.strip()] = kind.strip()
    return out
