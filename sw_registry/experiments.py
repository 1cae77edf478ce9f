"""Tracked experiments (SPEC §12 ``track_experiment``, §2 ``experiments/``)::

    with track_experiment("xgboost-v1", increment="0042") as exp:
        exp.log_params({"max_depth": 6}); exp.log_metrics({"accuracy": 0.91})
        exp.register_model(model=model, name="fraud-detection-model", auto_version=True)

Nothing is written while the block runs. On a clean exit one write (one commit, event ``experiment``) puts
``experiments/<name>/{params.json, metrics.json, metadata.yaml}`` into the increment, refreshes
``experiments/comparison.md`` and registers the model (``lineage.experiment`` = the experiment's name). When
the block raises, nothing at all is written: no file, no commit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import versions as V
from .errors import AlreadyExists, InvalidInput, UsageError

if TYPE_CHECKING:
    from types import TracebackType

    from .layout import Increment, Layout
    from .model import ModelVersion
    from .registry import ModelRegistry
    from .transaction import Transaction

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
    index = registry.index()
    produced: dict[str, list[dict[str, str]]] = {}
    for name in index.names():
        for rec in index.records_of(name):
            exp = (rec.get("lineage") or {}).get("experiment")
            if exp:
                produced.setdefault(str(exp), []).append({"name": rec["name"], "version": rec["version"]})
    out = []
    for inc in incs:
        for name, params, metrics, meta in read_increment(layout, inc):
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


# -- tracking --------------------------------------------------------------------------------


class _DeferredCommit:
    """A Transaction whose ``commit`` is left to the experiment: the registration lands in its commit."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self.trailers: dict[str, str | None] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def commit(self, subject: str, trailers: dict[str, str | None], *args: Any, **kwargs: Any) -> str | None:
        self.trailers = dict(trailers)
        return None


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def _json_safe(values: dict[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise InvalidInput(f"{what} must be a mapping, got {type(values).__name__}", hint=f"e.g. log_{what}({{...}})")
    try:
        json.dumps(values, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{what} must be JSON values (finite numbers, text, lists…): {exc}", hint="convert them"
        ) from None
    return dict(values)


class TrackedExperiment:
    """The ``exp`` of ``with track_experiment(...) as exp``: buffers params, metrics and one registration."""

    def __init__(
        self,
        registry: ModelRegistry,
        name: str,
        increment: Increment,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        self.registry = registry
        self.name = name
        self.increment = increment
        self.description = description
        self.tags = list(tags or [])
        self.params: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.started_at: str | None = None
        self.commit: str | None = None
        self.model_version: ModelVersion | None = None  # the registered version, after a clean exit
        self._registration: dict[str, Any] | None = None

    # the seed's logging calls
    def log_params(self, params: dict[str, Any]) -> None:
        self.params.update(_json_safe(params, "params"))

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_metrics(self, metrics: dict[str, Any]) -> None:
        from .metadata import check_metrics

        self.metrics.update(check_metrics(_json_safe(metrics, "metrics")))

    def log_metric(self, key: str, value: Any) -> None:
        self.log_metrics({key: value})

    def register_model(
        self,
        model: Any,
        name: str,
        auto_version: bool = True,
        version: str | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Register ``model`` when the experiment ends cleanly, in its commit, with ``lineage.experiment`` set.

        ``auto_version`` picks the version from the signature change (SPEC §7.1 ``--bump auto``); the logged
        metrics and params become the version's metrics and hyperparameters. Other keyword arguments are
        those of ``ModelRegistry.register_model``. One registration per experiment.
        """
        import pickle

        V.validate_name(name)
        if self._registration is not None:
            raise UsageError(
                f"experiment {self.name!r} already registers {self._registration['name']}",
                hint="an experiment registers one model; track another experiment for another model",
            )
        if version is None and not auto_version:
            raise UsageError("give a version or auto_version=True", hint="e.g. register_model(..., version='v3.1.0')")
        for reserved in ("bump", "increment", "experiment", "stage", "transaction"):
            if reserved in kwargs:
                raise UsageError(f"register_model in an experiment sets {reserved} itself", hint=f"drop {reserved}=")
        if not isinstance(model, (str, Path)):
            try:  # fail now, inside the block, not after the run when the experiment is written
                pickle.Pickler(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(model)  # type: ignore[arg-type]
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise InvalidInput(
                    f"the model object cannot be pickled: {exc}", hint="save it to a file yourself and pass the path"
                ) from None
        elif not Path(model).exists():
            raise InvalidInput(
                f"artifact {str(model)!r} does not exist", hint="pass the path of a model file or folder"
            )
        self._registration = {
            "model": model,
            "name": name,
            "version": version,
            "metadata": metadata,
            "kwargs": kwargs,
        }

    # -- the write ---------------------------------------------------------------------------
    def _folder(self) -> str:
        return f"{experiments_rel(self.increment)}/{self.name}"

    def _check_new(self) -> None:
        if self.registry.layout.abs(self._folder()).exists():
            raise AlreadyExists(
                f"experiment {self.name!r} already exists in increment {self.increment.id}",
                hint="track the run under a new experiment name (e.g. add -v2)",
                details={"path": self._folder()},
            )

    def _write(self) -> TrackedExperiment:
        from .transaction import Transaction

        reg = self.registry
        with reg._write() as tx:
            self._check_new()
            deferred = _DeferredCommit(tx)
            mv = None
            if self._registration is not None:
                r = self._registration
                mv = reg.register_model(
                    r["name"],
                    r["model"],
                    version=r["version"],
                    metadata=r["metadata"],
                    bump="auto" if r["version"] is None else None,
                    increment=self.increment.id,
                    metrics=dict(self.metrics),
                    params=dict(self.params),
                    experiment=self.name,
                    transaction=cast(Transaction, deferred),
                    **r["kwargs"],
                )
            self._write_files(tx, mv)
            registered = deferred.trailers
            subject = f"registry: experiment {self.name}"
            if mv is not None:
                subject += f" registers {mv.name} v{mv.version}" if registered else f" ({mv.name} v{mv.version})"
            self.commit = tx.commit(
                subject,
                {
                    "Event": "experiment",
                    "Experiment": self.name,
                    "Increment": self.increment.id,
                    "Model": mv.name if mv is not None else None,
                    "Version": mv.version if mv is not None else None,
                    "To": registered.get("To"),
                    "Actor": tx.actor,
                    "Seq": registered.get("Seq"),
                },
            )
            if mv is not None:
                commit = self.commit if registered else None
                self.model_version = type(mv)(mv.metadata, mv.path, commit, False, mv.warnings)
        return self

    def _write_files(self, tx: Transaction, mv: ModelVersion | None) -> None:
        from .store import yamlout
        from .store.files import dump_json

        folder = self._folder()
        meta: dict[str, Any] = {
            "name": self.name,
            "increment": self.increment.id,
            "status": "completed",
            "started_at": self.started_at,
            "finished_at": self.registry._now(),
            "created_by": tx.actor,
            "description": self.description,
            "tags": self.tags,
            "model": mv.ref if mv is not None else None,
        }
        tx.write(f"{folder}/params.json", dump_json(self.params))
        tx.write(f"{folder}/metrics.json", dump_json(self.metrics))
        tx.write(f"{folder}/metadata.yaml", yamlout.dump(meta).encode("utf-8"))
        rows = [
            {"name": n, "params": p, "metrics": m, "model": md.get("model")}
            for n, p, m, md in read_increment(self.registry.layout, self.increment)
        ]
        policy = tx.index.policy
        preferred = next(
            (policy.primary_metric(str(r["model"]).rpartition("@")[0]) for r in rows if r.get("model")), None
        )
        text = comparison(self.increment.id, rows, preferred, policy.lower_is_better)
        tx.write(f"{experiments_rel(self.increment)}/{COMPARISON}", text.encode("utf-8"))


class track_experiment:  # the seed's name: a context manager class
    """``with track_experiment("xgboost-v1", increment="0042") as exp:`` (SPEC §12).

    ``registry`` (a ModelRegistry) or ``root``/``actor`` say which registry; ``increment`` defaults to the
    registry's, then the active increment. An experiment name already used in the increment is refused at
    once (``already_exists``), before the run starts.
    """

    def __init__(
        self,
        name: str,
        increment: str | None = None,
        *,
        registry: ModelRegistry | None = None,
        root: str | Path | None = None,
        actor: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        self.name = validate_name(name)
        if registry is None:
            from .registry import ModelRegistry

            registry = ModelRegistry(increment=increment, root=root, actor=actor)
        elif root is not None or actor is not None:
            raise UsageError("pass either registry= or root=/actor=", hint="the registry already knows its root")
        if registry.rev:
            raise InvalidInput("a registry read at --rev cannot track experiments", hint="drop rev=")
        self.registry = registry
        self.increment_ref = increment
        self.description = description
        self.tags = tags
        self.experiment: TrackedExperiment | None = None

    def __enter__(self) -> TrackedExperiment:
        inc = self.registry._target_increment(self.increment_ref, None)
        exp = TrackedExperiment(self.registry, self.name, inc, self.description, self.tags)
        exp._check_new()
        exp.started_at = self.registry._now()
        self.experiment = exp
        return exp

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None or self.experiment is None:
            return  # the block raised: nothing is written, the exception goes on
        from .publish import published

        published(self.registry, self.experiment._write)


__all__ = ["Experiment", "TrackedExperiment", "comparison", "list_experiments", "track_experiment"]
