"""ModelRegistry: the seed's Python API (SPEC §12) as a facade over ``sw_registry/ops``: each method hands its
arguments and ``self.ctx`` (a frozen ``ops.context.Context`` of this registry's options) to one operation.
Writes are wrapped in ``@pushes`` (publish.py): the commit is published with ``push``, then the post-commit hooks
(hooks.py, e.g. the MLflow mirror) run. Subclasses (CustomRegistry, MLflowRegistry) extend it through the
constructor options and ``storage_uri``, which ``ctx`` reads on every call, and through those hooks.
"""

from __future__ import annotations

import os

from .layout import Layout
from .ops.context import Clock, Context, open_root, utc_now
from .outcomes import public
from .publish import pushes

# write-side modules (transaction, git, artifacts, derived files) load inside the operations: reads start fast
TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, cast

    from . import results as R
    from .environments import EnvPromoteResult
    from .experiments import Experiment
    from .gitops import NetProgress
    from .model import ModelInfo, ModelSummary, ModelVersion
    from .monitor import MonitorResult
    from .store.artifacts import Progress
    from .store.index import Index, Source
    from .store.records import Record
    from .transaction import Transaction
else:

    def cast(_type: object, value: object) -> object:
        """typing.cast, without importing typing in every CLI process (issue 10)."""
        return value


class ModelRegistry:
    """The registry of one SpecWeave project (SPEC §12).

    ``increment`` is where new versions are registered (default: the active increment);
    ``root`` defaults to discovery (SPEC §2). ``rev`` reads the registry as of a commit. ``push`` pushes
    every write's commit, re-running the write on the remote head when the push is rejected.
    """

    storage_uri: str | None = None  # CustomRegistry: the artifact store, whatever registry.yaml leaves unset
    # the operations build plain results (outcomes.py) and the methods hand out their dataclass twins (SPEC §8);
    # the CLI, which only renders to_dict(), sets this to skip that (and the import of dataclasses) in its process
    plain_results: bool = False

    def __init__(
        self, increment: str | None = None, root: str | os.PathLike[str] | None = None, *, actor: str | None = None,
        rev: str | None = None, allow_detached: bool = False, push: bool = False, clock: Clock | None = None,
        environment: str | None = None,
    ) -> None:
        found, push = open_root(root, environment, push)
        self.layout = Layout(found)
        self.root: Path = self.layout.root
        self.increment, self.actor, self.rev, self.allow_detached = increment, actor, rev, allow_detached
        self.push = push  # publish each write's commit (SPEC §7 --push; see publish.py)
        self.clock: Clock = clock or utc_now
        self._source: Source | None = None  # the read side, opened once (a --rev tree is read through git)

    @property
    def ctx(self) -> Context:
        """This registry's options as the explicit context every operation takes."""
        return Context(
            self.layout, actor=self.actor, rev=self.rev, increment=self.increment, allow_detached=self.allow_detached,
            push=self.push, clock=self.clock, storage_uri=self.storage_uri, source_of=lambda: _opened_source(self),
            load_index=lambda: _loaded_index(self),
        )

    # -- reading (ops/reads.py, ops/history.py, ops/insight.py) -------------------------------------
    def list_models(
        self, stage: str | None = None, *, model: str | None = None, increment: str | None = None,
        tag: str | None = None,
    ) -> list[ModelSummary]:
        """One summary per model; a filter keeps the models with some version that matches it."""
        from .ops import reads  # imported by a read only: a write does not need it (issue 10)

        return cast("list[ModelSummary]", _public(self, reads.list_models(self.ctx, stage, model, increment, tag)))

    def list_versions(
        self, stage: str | None = None, *, model: str | None = None, increment: str | None = None,
        tag: str | None = None,
    ) -> list[ModelVersion]:
        """Every matching version with its full metadata (``registry-list --all-versions``)."""
        from .ops import reads

        return cast("list[ModelVersion]", _public(self, reads.list_versions(self.ctx, stage, model, increment, tag)))

    def info(self, name: str, version: str | None = None) -> ModelInfo | ModelVersion:
        from .ops import reads

        return cast("ModelInfo | ModelVersion", _public(self, reads.info(self.ctx, name, version)))

    def resolve(
        self, name: str, *, stage: str | None = None, version: str | None = None, date: str | None = None
    ) -> Record:
        from .ops import reads

        return reads.resolve(self.ctx, name, stage=stage, version=version, date=date)

    def get_model(
        self, name: str, stage: str | None = None, version: str | None = None, load: bool = True, *,
        date: str | None = None,
    ) -> Any:
        """The loaded object for a pickle this registry wrote (after its hash verifies), else a ModelVersion."""
        from .ops import reads

        return _public(self, reads.get_model(self.ctx, name, stage, version, load, date=date))

    def get_model_by_date(self, name: str, date: str, load: bool = True) -> Any:
        return self.get_model(name, load=load, date=date)

    def version_model(self, name: str, version_type: str = "minor") -> str:
        """The next version of ``name`` for a bump; registers nothing."""
        from .ops import reads

        return reads.next_version(self.ctx, name, version_type)

    def history(self, name: str, since: str | None = None, until: str | None = None) -> R.History:
        """Every event of a model (register, promote, archive, rollback, approve, deprecate) in seq order; with
        ``since``/``until`` (a date or date-time, UTC), only those within them."""
        from .ops.history import history

        return cast("R.History", _public(self, history(self.ctx, name, since, until)))

    def compare_models(self, model_a: str, model_b: str) -> R.Comparison:
        """Compare ``NAME@V1`` with ``NAME@V2`` (SPEC §7.10); see ops/insight.py."""
        from .ops.insight import compare_models

        return compare_models(self.ctx, model_a, model_b)

    def get_lineage(
        self, name: str | None = None, version: str | None = None, *, uses: str | None = None,
        feature: str | None = None,
    ) -> R.Lineage:
        """The lineage graph of a model, a version, the versions using a node, or with a feature (SPEC §7.11)."""
        from .ops.insight import get_lineage

        return get_lineage(self.ctx, name, version, uses=uses, feature=feature)

    # -- writes: register (ops/register.py), stage changes (ops/stages.py) ---------------------------
    @pushes
    def register_model(
        self, name: str, model: Any, version: str | None = None, metadata: dict[str, Any] | None = None,
        stage: str = "dev", tags: list[str] | None = None, signature: dict[str, Any] | None = None,
        requirements: str | os.PathLike[str] | None = None, *, bump: str | None = None, increment: str | None = None,
        description: str | None = None, metrics: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
        features: Any = None, inputs: dict[str, str] | None = None, outputs: dict[str, str] | None = None,
        data_version: str | None = None, experiment: str | None = None, parent: str | None = None,
        allow_breaking: bool = False, progress: Progress | None = None, transaction: Transaction | None = None,
    ) -> ModelVersion:
        """Register a model object (pickled) or a file/folder path as a new version (SPEC §7.1).

        ``transaction``: register inside a write the caller holds (experiments.py), whose commit it makes.
        """
        from .ops.register import register

        return cast("ModelVersion", _public(self, register(
            self.ctx, name, model, version, metadata, stage, tags, signature, requirements, bump=bump,
            increment=increment, description=description, metrics=metrics, params=params, features=features,
            inputs=inputs, outputs=outputs, data_version=data_version, experiment=experiment, parent=parent,
            allow_breaking=allow_breaking, progress=progress, transaction=transaction,
        )))

    @pushes
    def promote_model(
        self, name: str, version: str, from_stage: str | None = None, to_stage: str = "staging",
        approval_required: bool | None = None, reason: str | None = None, *, force: bool = False,
    ) -> R.PromoteResult:
        """Move a version to another stage (SPEC §6). ``force`` relaxes order and deprecation, never approvals."""
        from .ops.stages import promote

        return cast("R.PromoteResult", _public(self,
            promote(self.ctx, name, version, from_stage, to_stage, approval_required, reason, force=force)
        ))

    @pushes
    def approve_model(
        self, name: str, version: str, approver: str | None = None, comments: str | None = None,
        stage: str = "production",
    ) -> R.ApproveResult:
        """Record an approval of a version for a stage; the commit is authored by the approver."""
        from .ops.stages import approve

        return cast("R.ApproveResult", _public(self, approve(self.ctx, name, version, approver, comments, stage)))

    @pushes
    def rollback(
        self, name: str, to_version: str | None = None, reason: str | None = None, *, force: bool = False
    ) -> R.RollbackResult:
        """Make an earlier production version production again, in one commit; no approval needed."""
        from .ops.stages import rollback

        return cast("R.RollbackResult", _public(self, rollback(self.ctx, name, to_version, reason, force=force)))

    @pushes
    def deprecate_model(
        self, name: str, version: str, reason: str, end_of_life: str | None = None, *, force: bool = False
    ) -> R.DeprecateResult:
        from .ops.stages import deprecate

        result = deprecate(self.ctx, name, version, reason, end_of_life, force=force)
        return cast("R.DeprecateResult", _public(self, result))

    def promote_to(
        self, model: str, target_env: str, stage: str | None = None, *, from_stage: str | None = None,
        reason: str | None = None, force: bool = False, progress: NetProgress | None = None,
    ) -> EnvPromoteResult:
        """Promote ``NAME@VERSION`` (or the seed's ``NAME-vVERSION``) into another registry of registry.yaml's
        ``environments``, in ``stage`` (default: that environment's landing stage). See environments.py."""
        from .environments import parse_model_ref, promote_to_env

        name, version = parse_model_ref(model)
        return promote_to_env(
            self, name, version, target_env, stage=stage, from_stage=from_stage, reason=reason, force=force,
            progress=progress, push=self.push,
        )

    # -- policy (ops/policy.py) ----------------------------------------------------------------------
    @pushes
    def set_approval_required(
        self, stage: str = "production", approvers: list[str] | None = None, name: str | None = None, *,
        min_approvals: int = 1, allow_self_approval: bool | None = None, signed: bool = False,
        signers_file: str | None = None,
    ) -> R.ChangeResult:
        """Require approvals to promote into ``stage``, for one model or (name None) every model.

        ``signed``: an approval counts only while its commit's signature verifies against a key the signers file
        (``signers_file``, default ``.specweave/allowed_signers`` unless registry.yaml names one) lists for the
        approver (SPEC §6)."""
        from .ops.policy import set_approval_required

        return set_approval_required(
            self.ctx, stage, approvers, name, min_approvals=min_approvals, allow_self_approval=allow_self_approval,
            signed=signed, signers_file=signers_file,
        )

    @pushes
    def update_policy(
        self, name: str, *, require_approval: str | None = None, approvers: list[str] | None = None,
        min_approvals: int = 1, allow_self_approval: bool | None = None, signed: bool = False,
        signers_file: str | None = None, owner: str | None = None, primary_metric: str | None = None,
        triggers: dict[str, Any] | None = None, reason: str | None = None,
    ) -> R.ChangeResult:
        """Everything one ``registry-policy NAME ...`` call sets, in one commit (SPEC §7.15)."""
        from .ops.policy import update_policy

        return update_policy(
            self.ctx, name, require_approval=require_approval, approvers=approvers, min_approvals=min_approvals,
            allow_self_approval=allow_self_approval, signed=signed, signers_file=signers_file, owner=owner,
            primary_metric=primary_metric, triggers=triggers, reason=reason,
        )

    @pushes
    def commit_policy(self, reason: str | None = None, name: str | None = None) -> R.ChangeResult:
        """``registry-policy --commit``: validate registry.yaml as it is on disk (a hand edit) and commit it."""
        from .ops.policy import commit_policy

        return commit_policy(self.ctx, reason, name)

    @pushes
    def set_model_signature(
        self, model: str, inputs: dict[str, str] | None = None, outputs: dict[str, str] | None = None
    ) -> ModelVersion:
        """Set the input/output signature of ``NAME@VERSION`` (features.yaml follows its inputs); one commit."""
        from .ops.policy import set_signature

        return cast("ModelVersion", _public(self, set_signature(self.ctx, model, inputs, outputs)))

    # -- living docs (ops/docs.py) -------------------------------------------------------------------
    @pushes
    def sync_docs(self) -> dict[str, Any]:
        """Rewrite the living doc's generated block; one commit when it changed (event docs)."""
        from .ops.docs import sync_docs

        return sync_docs(self.ctx)

    def review_docs(self) -> dict[str, Any]:
        """What sync-docs would change, as a unified diff; writes nothing."""
        from .ops.docs import review_docs

        return review_docs(self.ctx)

    # -- monitoring and experiments (monitor.py, experiments.py) -------------------------------------
    def monitor(
        self, name: str, metrics: dict[str, Any] | None = None, *,
        observations: str | list[dict[str, Any]] | None = None, at: str | None = None, record: bool = True,
    ) -> MonitorResult:
        """registry-monitor (SPEC §7.8): record production observations, evaluate triggers, auto-rollback."""
        from . import monitor

        return monitor.record(self, name, metrics=metrics, observations=observations, at=at, record=record)

    @pushes
    def set_auto_rollback_triggers(
        self, name: str | None = None, error_rate_threshold: float | None = None,
        latency_threshold: float | None = None, accuracy_drop_threshold: float | None = None, *,
        window: str | None = None, min_observations: int | None = None,
    ) -> R.ChangeResult:
        """The seed's thresholds as SPEC §5 triggers of ``name`` (None: every model); one commit."""
        from . import monitor

        triggers = monitor.seed_triggers(
            error_rate_threshold=error_rate_threshold, latency_threshold=latency_threshold,
            accuracy_drop_threshold=accuracy_drop_threshold, window=window, min_observations=min_observations,
        )
        return monitor.set_triggers(self, name, triggers)

    def experiments(self, increment: str | None = None) -> list[Experiment]:
        """registry-experiments: the tracked experiments (of one increment), with the versions each produced."""
        from . import experiments

        return experiments.list_experiments(self, increment)

    # -- maintenance (ops/verify.py, ops/maintenance.py) ---------------------------------------------
    def verify(self, deep: bool = False) -> dict[str, Any]:
        """Check every artifact hash, metadata file, derived file and the git record; raise on problems."""
        from .ops.verify import verify

        return verify(self.ctx, deep)

    def repair(self) -> dict[str, Any]:
        """After a crash: revert only what the interrupted write recorded as its own; rebuild derived files. With
        ``push``, its commit is published as every write's is (no post-commit hooks: it changes no version)."""
        from .ops.maintenance import repair
        from .publish import published

        return published(self, lambda: repair(self.ctx))

    @pushes
    def reindex(self) -> R.ChangeResult:
        """Rebuild every derived file from the metadata files; one commit if anything changed."""
        from .ops.maintenance import reindex

        return reindex(self.ctx)


def _public(registry: ModelRegistry, value: Any) -> Any:
    """An operation's result as ``registry`` hands it out: the public dataclass, unless ``plain_results``."""
    return value if registry.plain_results else public(value)


def _opened_source(registry: ModelRegistry) -> Source:
    """The registry's read side, opened once (a --rev tree is read through git)."""
    if registry._source is None:
        registry._source = Context(registry.layout, rev=registry.rev).source()
    return registry._source


def _loaded_index(registry: ModelRegistry) -> Index:
    from .store.index import load_index

    return load_index(_opened_source(registry))  # its warnings: ops.reads.warned() returns them with a read
