"""Tracked experiments (SPEC §12 ``track_experiment``, §2 ``experiments/``)::

    with track_experiment("xgboost-v1", increment="0042") as exp:
        exp.log_params({"max_depth": 6}); exp.log_metrics({"accuracy": 0.91})
        exp.register_model(model=model, name="fraud-detection-model", auto_version=True)

Nothing is written while the block runs. On a clean exit one write (one commit, event ``experiment``) puts
``experiments/<name>/{params.json, metrics.json, metadata.yaml}`` into the increment, refreshes
``experiments/comparison.md`` and registers the model (``lineage.experiment`` = the experiment's name). When
the block raises, nothing at all is written: no file, no commit. Reading them back and the comparison table
are experiment_records.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import versions as V
from .errors import AlreadyExists, InvalidInput, UsageError

# reading experiments and the comparison table live in experiment_records.py; their names are importable from
# here as before
from .experiment_records import (
    COMPARISON,
    FILES,
    Experiment,
    comparison,
    experiments_rel,
    list_experiments,
    primary_metric,
    read_increment,
    validate_name,
)

if TYPE_CHECKING:
    from types import TracebackType

    from .layout import Increment
    from .model import ModelVersion
    from .registry import ModelRegistry
    from .transaction import Transaction

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
        with reg.ctx.write() as tx:
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
            "finished_at": self.registry.ctx.now(),
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
        from .ops.common import target_increment

        inc = target_increment(self.registry.ctx, self.increment_ref, None)
        exp = TrackedExperiment(self.registry, self.name, inc, self.description, self.tags)
        exp._check_new()
        exp.started_at = self.registry.ctx.now()
        self.experiment = exp
        return exp

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None or self.experiment is None:
            return  # the block raised: nothing is written, the exception goes on
        from .publish import published

        published(self.registry, self.experiment._write)


__all__ = [
    "COMPARISON",
    "FILES",
    "Experiment",
    "TrackedExperiment",
    "comparison",
    "experiments_rel",
    "list_experiments",
    "primary_metric",
    "read_increment",
    "track_experiment",
    "validate_name",
]
