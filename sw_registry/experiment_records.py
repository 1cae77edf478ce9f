"""Tracked experiments as stored (SPEC §2 ``experiments/``): reading them and the comparison table.

``experiments/<name>/{params.json, metrics.json, metadata.yaml}`` of an increment, and
``experiments/comparison.md`` built from them. Writing them is experiments.py (``track_experiment``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import versions as V

if TYPE_CHECKING:
    from .layout import Increment, Layout
    from .registry import ModelRegistry

FILES = ("params.json", "metrics.json", "metadata.yaml")
COMPARISON = "comparison.md"


def validate_name(name: str) -> str:
    """An experiment name follows the model-name rule (SPEC §3): it becomes a folder name."""
    return V.validate_name(name, "experiment")


def experiments_rel(inc: Increment) -> str:
    return f"{inc.rel}/experiments"


@dataclass(frozen=True)
class Experiment:
    """One tracked experiment as stored; ``to_dict()`` is a row of ``registry-experiments --json``."""

    name: str
    increment: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    metadata: dict[str, Any]
    models: list[dict[str, str]] = field(default_factory=list)  # [{"name", "version"}]: the versions it produced
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        last = self.models[-1] if self.models else None
        return {
            "name": self.name,
            "increment": self.increment,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "started_at": self.metadata.get("started_at"),
            "finished_at": self.metadata.get("finished_at"),
            "created_by": self.metadata.get("created_by"),
            "description": self.metadata.get("description"),
            "models": [dict(m) for m in self.models],
            "model": last["name"] if last else None,
            "version": last["version"] if last else None,
            "path": self.path,
        }


# -- reading -------------------------------------------------------------------------------


def _read_json(path: Path, rel: str) -> dict[str, Any]:
    from .errors import IntegrityError

    try:
        data = json.loads(path.read_bytes()) if path.exists() else {}
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise IntegrityError(f"{rel} is not valid JSON: {exc}", hint="restore it from git") from None
    if not isinstance(data, dict):
        raise IntegrityError(f"{rel} must hold a JSON object", hint="restore it from git")
    return data


def _read_yaml(path: Path, rel: str) -> dict[str, Any]:
    import yaml

    from .errors import IntegrityError

    try:
        data = yaml.load(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, UnicodeDecodeError, OSError, RecursionError) as exc:
        raise IntegrityError(f"{rel} is not valid YAML: {exc}", hint="restore it from git") from None
    if not isinstance(data, dict):
        raise IntegrityError(f"{rel} must hold a mapping", hint="restore it from git")
    return data


def read_increment(layout: Layout, inc: Increment) -> list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(name, params, metrics, metadata) of every experiment of one increment, by name."""
    base = experiments_rel(inc)
    folder = layout.abs(base)
    if not folder.is_dir():
        return []
    out = []
    for entry in sorted(folder.iterdir()):
        rel = f"{base}/{entry.name}"
        if not entry.is_dir() or not (entry / "metadata.yaml").is_file():
            continue
        out.append(
            (
                entry.name,
                _read_json(entry / "params.json", f"{rel}/params.json"),
                _read_json(entry / "metrics.json", f"{rel}/metrics.json"),
                _read_yaml(entry / "metadata.yaml", f"{rel}/metadata.yaml"),
            )
        )
    return out


def list_experiments(registry: ModelRegistry, increment: str | None = None) -> list[Experiment]:
    """Every tracked experiment (of one increment), with the model versions whose lineage names it."""
    layout = registry.layout
    incs = [layout.resolve_increment(increment)] if increment else layout.increments()
    found = [(inc, exp) for inc in incs for exp in read_increment(layout, inc)]
    if not found:  # no experiment: no version's record needs reading (10,000 of them hold ~45 MB)
        return []
    index = registry.ctx.index()
    produced: dict[str, list[dict[str, str]]] = {}
    for name in index.names():
        for rec in index.records_of(name):
            exp = (rec.get("lineage") or {}).get("experiment")
            if exp:
                produced.setdefault(str(exp), []).append({"name": rec["name"], "version": rec["version"]})
    out = []
    for inc, (name, params, metrics, meta) in found:
        models = list(produced.get(name, []))
        ref = meta.get("model")
        if isinstance(ref, str) and "@" in ref:
            mname, _, mver = ref.rpartition("@")
            if {"name": mname, "version": mver} not in models:
                models.append({"name": mname, "version": mver})
        out.append(
            Experiment(
                name, inc.id, params, metrics, meta, models, str(layout.abs(f"{experiments_rel(inc)}/{name}"))
            )
        )
    return out


# -- the comparison table --------------------------------------------------------------------


def primary_metric(rows: list[dict[str, Any]], preferred: str | None) -> str | None:
    """The metric the table ranks by: the model's primary metric, else accuracy, else the first by name."""
    names = sorted({k for r in rows for k in r["metrics"]})
    if preferred and preferred in names:
        return preferred
    if "accuracy" in names:
        return "accuracy"
    return names[0] if names else None


def _cell(value: Any) -> str:
    from .compare import fmt

    if value is None:
        return "-"
    text = fmt(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else json.dumps(value)
    return text.replace("|", "\\|").replace("\n", " ")


def comparison(increment: str, rows: list[dict[str, Any]], preferred: str | None, lower_is_better: list[str]) -> str:
    """comparison.md: one row per experiment (``{"name", "params", "metrics", "model"}``), best first."""
    from .compare import lower_is_better as lib

    metric = primary_metric(rows, preferred)
    lower = bool(metric) and lib(str(metric), lower_is_better)

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        value = r["metrics"].get(metric) if metric else None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return (1, 0.0, r["name"])
        return (0, value if lower else -value, r["name"])

    ordered = sorted(rows, key=key)
    metrics = [metric] if metric else []
    metrics += sorted({k for r in rows for k in r["metrics"]} - set(metrics))
    params = sorted({k for r in rows for k in r["params"]})
    how = f"best first by {metric} ({'lower' if lower else 'higher'} is better)" if metric else "by name"
    head = ["Experiment", *metrics, *(f"param {p}" for p in params), "Model"]
    lines = [
        f"# Experiments in {increment}",
        "",
        f"Written by sw-registry after every tracked experiment; {how}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in ordered:
        cells = [r["name"], *(_cell(r["metrics"].get(m)) for m in metrics)]
        cells += [_cell(r["params"].get(p)) for p in params]
        cells.append(r.get("model") or "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
