"""ModelRegistry: every operation of the product, over a Layout, an Index and a Transaction."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import versions as V
from .errors import AlreadyExists, BreakingChange, InvalidInput, NotFound
from .layout import Increment, Layout, find_root
from .maintenance import Maintenance
from .model import ModelInfo, ModelSummary, ModelVersion, VersionRow
from .policy import primary_metric_of
from .publish import pushes
from .store.files import newer_schema_warning, parse_metadata
from .store.index import GitRevSource, Index, Source, WorkTreeSource, load_index
from .workflow import Workflow

# Write-side modules (transaction, git, artifacts, derived files) load inside the methods that use them,
# so that list, info and get start fast.
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .environments import EnvPromoteResult
    from .experiments import Experiment
    from .gitops import NetProgress
    from .monitor import MonitorResult
    from .results import ChangeResult
    from .store.artifacts import Progress
    from .transaction import Transaction

Clock = Callable[[], datetime]
SIDE_FILES = ("metadata.json", "requirements.txt", "features.yaml")
PICKLE_FORMAT = "sw-registry-pickle"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ModelRegistry(Workflow, Maintenance):
    """The registry of one SpecWeave project (SPEC §12).

    ``increment`` is where new versions are registered (default: the active increment);
    ``root`` defaults to discovery (SPEC §2). ``rev`` reads the registry as of a commit. ``push`` pushes
    every write's commit, re-running the write on the remote head when the push is rejected.
    """

    storage_uri: str | None = None  # CustomRegistry: the artifact store, whatever registry.yaml leaves unset

    def __init__(
        self,
        increment: str | None = None,
        root: str | os.PathLike[str] | None = None,
        *,
        actor: str | None = None,
        rev: str | None = None,
        allow_detached: bool = False,
        push: bool = False,
        clock: Clock | None = None,
        environment: str | None = None,
    ) -> None:
        if environment is not None:  # that environment's registry (SPEC §11); a git URL's clone pushes on write
            from .environments import open_environment

            root, pushes_writes = open_environment(root, environment)
            push = push or pushes_writes
        self.layout = Layout(find_root(root))
        self.increment = increment
        self.actor = actor
        self.rev = rev
        self.allow_detached = allow_detached
        self.push = push  # publish each write's commit (SPEC §7 --push; see publish.py)
        self.clock: Clock = clock or utc_now
        self._source: Source | None = None
        self.warnings: list[str] = []  # from the last read: e.g. files written by a newer sw-registry

    # -- reading ---------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.layout.root

    def source(self) -> Source:
        if self._source is None:
            if self.rev:
                from .gitops import open_repo

                self._source = GitRevSource(self.layout, open_repo(self.root), self.rev)
            else:
                self._source = WorkTreeSource(self.layout)
        return self._source

    def index(self) -> Index:
        index = load_index(self.source())
        self.warnings = list(index.warnings)
        return index

    def _read_metadata(self, rec: dict[str, Any]) -> dict[str, Any]:
        rel = f"{rec['dir']}/metadata.json"
        raw = self.source().read(rel)
        if raw is None:
            raise NotFound(f"{rel} disappeared", hint="run the command again")
        return parse_metadata(raw, rel)

    def _version_of(
        self,
        meta: dict[str, Any],
        rec: dict[str, Any],
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
            else self.layout.abs(f"{rec['dir']}/{art.get('path', '')}")
        )
        warn = newer_schema_warning(meta, f"{rec['dir']}/metadata.json")
        return ModelVersion(meta, str(path), commit, verified, warnings + ((warn,) if warn else ()))

    def list_models(
        self,
        stage: str | None = None,
        *,
        model: str | None = None,
        increment: str | None = None,
        tag: str | None = None,
    ) -> list[ModelSummary]:
        """One summary per model; a filter keeps the models with some version that matches it."""
        index = self.index()
        inc_id = self.layout.resolve_increment(increment).id if increment is not None else None
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
            out.append(self._summary(index, name, agg))
        return out

    def list_versions(
        self,
        stage: str | None = None,
        *,
        model: str | None = None,
        increment: str | None = None,
        tag: str | None = None,
    ) -> list[ModelVersion]:
        """Every matching version with its full metadata (``registry-list --all-versions``)."""
        index = self.index()
        inc_id = self.layout.resolve_increment(increment).id if increment is not None else None
        out = []
        for name in index.names():
            if model and name != model:
                continue
            for rec in index.records_of(name):
                if (
                    (stage and rec["stage"] != stage)
                    or (inc_id and rec["increment"] != inc_id)
                    or (tag and tag not in rec["tags"])
                ):
                    continue
                out.append(self._version_of(self._read_metadata(rec), rec))
        return out

    @staticmethod
    def _summary(index: Index, name: str, agg: dict[str, Any]) -> ModelSummary:
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

    def info(self, name: str, version: str | None = None) -> ModelInfo | ModelVersion:
        V.validate_name(name)
        index = self.index()
        if version is not None:
            rec = index.get(name, V.canonical(version))
            return self._version_of(self._read_metadata(rec), rec)
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
        self, name: str, *, stage: str | None = None, version: str | None = None, date: str | None = None
    ) -> dict[str, Any]:
        V.validate_name(name)
        index = self.index()
        if version is not None:
            return index.get(name, V.canonical(version))
        if date is not None:
            from .workflow import production_at

            return production_at(index, name, date, self._read_metadata)
        stage = stage or "production"
        index.versions_of(name)
        rec = index.holder(name, stage)
        if rec is None:
            raise NotFound(
                f"model {name!r} has no version in {stage}",
                hint=f"see 'sw-registry registry-info {name}' for its versions",
            )
        return rec

    def get_model(
        self,
        name: str,
        stage: str | None = None,
        version: str | None = None,
        load: bool = True,
        *,
        date: str | None = None,
    ) -> Any:
        """The loaded object for a pickle this registry wrote (after its hash verifies), else a ModelVersion."""
        if stage is None and version is None and date is None:
            stage = "production"
        rec = self.resolve(name, stage=stage, version=version, date=date)
        meta = self._read_metadata(rec)
        mv = self._verified(meta, rec)
        art = meta.get("artifact") or {}
        if load and art.get("format") == PICKLE_FORMAT:
            import pickle

            with open(mv.path, "rb") as fh:
                return pickle.load(fh)
        return mv

    def get_model_by_date(self, name: str, date: str, load: bool = True) -> Any:
        return self.get_model(name, load=load, date=date)

    def _verified(self, meta: dict[str, Any], rec: dict[str, Any]) -> ModelVersion:
        from .store.objectstore import is_store_artifact

        art = meta.get("artifact") or {}
        if is_store_artifact(art):
            from .store.objectstore import fetch_artifact, store_for

            store = store_for(str(art["store"]), self.index().policy, self.storage_uri)
            path = fetch_artifact(store, art, self.layout.cache_dir / "artifacts", f"{rec['name']}@{rec['version']}")
            mv = self._version_of(meta, rec, verified=True)
            return ModelVersion(mv.metadata, str(path), None, True, mv.warnings)
        if self.rev:
            path = self._materialize(rec, art)
        else:
            path = self.layout.abs(f"{rec['dir']}/{art.get('path', '')}")
        from .store.artifacts import verify_artifact

        verify_artifact(path, art, f"{rec['name']}@{rec['version']}")
        mv = self._version_of(meta, rec, verified=True)
        return ModelVersion(mv.metadata, str(path), None, True, mv.warnings)

    def _materialize(self, rec: dict[str, Any], art: dict[str, Any]) -> Path:
        """Extract an artifact from git objects into the cache (``--rev`` reads), keyed by its sha256."""
        import tempfile

        from .errors import IntegrityError
        from .store.index import ensure_ignored

        source = self.source()
        assert isinstance(source, GitRevSource)
        name = str(art.get("path") or "")
        if not name or "/" in name or name in (".", ".."):
            raise IntegrityError(
                f"{rec['dir']}/metadata.json names an invalid artifact path {name!r}", hint="restore the file from git"
            )
        folder = self.layout.cache_dir / "artifacts"
        dest = folder / str(art.get("sha256")) / name
        if dest.exists():
            return dest
        base = f"{rec['dir']}/{name}"
        entry = source.entry(base)
        entries = {base: entry} if entry else source.under(base)  # a file, or a folder's files
        if not entries:
            raise NotFound(f"artifact {base} is not in {self.rev}", hint="check the revision")
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

    # -- versioning ------------------------------------------------------------------
    def version_model(self, name: str, version_type: str = "minor") -> str:
        """The next version of ``name`` for a bump; registers nothing."""
        V.validate_name(name)
        index = self.index()
        return V.bump([r["version"] for r in index.records_of(name)], version_type)

    # -- signers (SPEC §6 signed approvals; sw_registry/signers.py) ------------------------------
    @pushes
    def add_signer(self, email: str, pubkey_file: str | os.PathLike[str]) -> Any:
        """List ``email``'s SSH public key in the signers file (one commit, event policy)."""
        from . import signers

        return signers.add(self, email, Path(pubkey_file))

    @pushes
    def remove_signer(self, email: str) -> Any:
        """Drop ``email``'s keys from the signers file (one commit); their signed approvals stop counting."""
        from . import signers

        return signers.remove(self, email)

    def list_signers(self) -> dict[str, Any]:
        from . import signers

        return signers.listing(self)

    # -- environments (SPEC §11) ---------------------------------------------------------
    def promote_to(
        self,
        model: str,
        target_env: str,
        stage: str | None = None,
        *,
        from_stage: str | None = None,
        reason: str | None = None,
        force: bool = False,
        progress: NetProgress | None = None,
    ) -> EnvPromoteResult:
        """Promote ``NAME@VERSION`` (or the seed's ``NAME-vVERSION``) into another registry of registry.yaml's
        ``environments``, in ``stage`` (default: that environment's landing stage). See environments.py."""
        from .environments import parse_model_ref, promote_to_env

        name, version = parse_model_ref(model)
        return promote_to_env(
            self, name, version, target_env, stage=stage, from_stage=from_stage, reason=reason, force=force,
            progress=progress, push=self.push,
        )

    # -- writing ---------------------------------------------------------------------
    def _now(self) -> str:
        return iso(self.clock())

    def _write(self, *, allow_dirty: bool = False, adopt: tuple[str, ...] = ()) -> AbstractContextManager[Transaction]:
        if self.rev:
            raise InvalidInput(
                "--rev is for reading; a write always lands on the checked-out branch", hint="drop --rev"
            )
        from .transaction import transaction

        return transaction(
            self.layout, actor=self.actor, allow_detached=self.allow_detached, allow_dirty=allow_dirty, adopt=adopt
        )

    def _target_increment(self, explicit: str | None, from_metadata: Any) -> Increment:
        for given in (explicit, self.increment):
            if given is not None and not str(given).strip():
                raise InvalidInput("the increment id is empty", hint="pass --increment 42, 0042 or 0042-name")
        ref = explicit or self.increment or (str(from_metadata) if from_metadata else None)
        if ref:
            return self.layout.resolve_increment(ref, create=True)
        return self.layout.active_increment()

    def _refresh_derived(self, tx: Transaction, increments: set[str]) -> None:
        from .store.derived import refresh_increment

        known = {i.id: i for i in self.layout.increments()}
        for inc_id in sorted(increments):
            refresh_increment(tx, known[inc_id])  # issue 10: from a cache, only changed versions read again

    @pushes
    def register_model(
        self,
        name: str,
        model: Any,
        version: str | None = None,
        metadata: dict[str, Any] | None = None,
        stage: str = "dev",
        tags: list[str] | None = None,
        signature: dict[str, Any] | None = None,
        requirements: str | os.PathLike[str] | None = None,
        *,
        bump: str | None = None,
        increment: str | None = None,
        description: str | None = None,
        metrics: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        features: Any = None,
        inputs: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
        data_version: str | None = None,
        experiment: str | None = None,
        parent: str | None = None,
        allow_breaking: bool = False,
        progress: Progress | None = None,
        transaction: Transaction | None = None,
    ) -> ModelVersion:
        """Register a model object (pickled) or a file/folder path as a new version (SPEC §7.1).

        ``transaction``: register inside a write the caller holds (experiments.py), whose commit it makes.
        """
        import tempfile

        from .metadata import check_metrics, merge_signature, normalize_features, sort_flat

        # validate everything before any file is touched
        V.validate_name(name)
        if stage != "dev":
            raise InvalidInput(
                f"new versions start in dev, not {stage!r}", hint="register, then run registry-promote to move it on"
            )
        fields = sort_flat(metadata)
        if version is None:
            version = fields.pop("version", None)
        fields.pop("version", None)
        meta_increment = fields.pop("increment", None)
        if version is not None and bump is not None:
            raise InvalidInput("give either a version or a bump, not both", hint="drop --version or --bump")
        canonical = V.canonical(str(version)) if version is not None else None
        if bump is not None and bump != "auto":
            V.bump([], bump)
        if metrics:
            fields["metrics"].update(check_metrics(metrics))
        fields["hyperparameters"].update(params or {})
        if tags:
            fields["tags"] = list(dict.fromkeys([*fields["tags"], *tags]))
        if description is not None:
            fields["description"] = description
        if data_version:
            fields["lineage"]["data"] = data_version
        if experiment:
            fields["lineage"]["experiment"] = experiment
        if parent:
            pname, pver = V.parse_ref(parent)
            fields["lineage"]["parent"] = f"{pname}@{pver}"
        sig, feats = merge_signature(
            fields["signature"] or (signature and _signature(signature)),
            normalize_features(features) if features is not None else fields["features"],
            inputs,
            outputs,
        )
        fields["signature"], fields["features"] = sig, feats
        with tempfile.TemporaryDirectory(prefix="sw-registry-") as scratch:
            src, fmt = _artifact_source(model, Path(scratch))
            _refuse_project_paths(src, self.layout)
            req_text = _requirements_text(requirements, src)
            if src.name in SIDE_FILES:
                raise InvalidInput(f"the artifact may not be named {src.name!r}", hint="rename the file")
            inc = self._target_increment(increment, meta_increment)
            if transaction is not None:
                return self._register_in(
                    transaction, name, canonical, bump, fields, src, fmt, inc, req_text, progress, allow_breaking
                )
            with self._write() as tx:
                return self._register_in(
                    tx, name, canonical, bump, fields, src, fmt, inc, req_text, progress, allow_breaking
                )

    def _register_in(
        self,
        tx: Transaction,
        name: str,
        version: str | None,
        bump: str | None,
        fields: dict[str, Any],
        src: Path,
        fmt: str | None,
        inc: Increment,
        req_text: str,
        progress: Progress | None,
        allow_breaking: bool,
    ) -> ModelVersion:
        from .metadata import SCHEMA_VERSION, ordered
        from .store.artifacts import copy_artifact, hash_artifact
        from .store.files import dump_json

        index = tx.index
        recs = index.records_of(name)
        existing = [r["version"] for r in recs]
        previous = self._read_metadata(recs[-1]).get("signature") if recs else None
        change = V.signature_change(previous, fields["signature"])
        if version is not None and index.find(name, version) is None and not allow_breaking:
            should = V.breaks(existing, version, change)
            if should:
                raise BreakingChange(
                    f"the signature of {name} changes incompatibly against v{recs[-1]['version']}, "
                    f"so v{version} must be a new major version",
                    hint=f"register it as v{should}, or pass --allow-breaking",
                    details={"expected_version": should, "change": change},
                )
        version = V.choose(existing, version, bump, change)
        rec = index.find(name, version)
        if rec is not None:
            if _reading_artifact(src, hash_artifact, src) == (rec.get("artifact") or {}).get("sha256"):
                return self._version_of(self._read_metadata(rec), rec)
            raise AlreadyExists(
                f"{name}@{version} is already registered with a different artifact",
                hint=f"register it as a new version (--bump patch gives v{V.bump(existing, 'patch')})",
                details={"path": rec["dir"]},
            )
        folder = self.layout.version_rel(inc, name, version)
        warnings: list[str] = []
        store = self._object_store(index.policy)
        size = src.stat().st_size if src.is_file() else None
        limit = index.policy.large_artifact_warn_mb
        if store is None and size is not None and size > limit * 1024 * 1024:
            warnings.append(
                f"artifact is {size / 1048576:.0f} MB, above large_artifact_warn_mb ({limit:g}); "
                "set artifact_store in .specweave/registry.yaml (e.g. s3://bucket/prefix) "
                "to keep large files out of git"
            )
        dest = tx.make_dir(folder)
        if store is not None:
            from .store.objectstore import upload_artifact

            # before any metadata is written: a failed upload (store_error) leaves nothing behind
            artifact = upload_artifact(store, src, progress)
            if not artifact.pop("uploaded"):
                warnings.append(f"artifact already in the store ({artifact['store']}); nothing uploaded")
        else:
            artifact = _reading_artifact(src, copy_artifact, src, dest / src.name, progress)
        if fmt:
            artifact["format"] = fmt
        now = self._now()
        seq = index.max_seq(name) + 1
        meta: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "name": name,
            "version": version,
            "increment": inc.id,
            "stage": "dev",
            "created_at": now,
            "updated_at": now,
            "created_by": tx.actor,
            **fields,
            "artifact": artifact,
            "approvals": [],
            "stage_history": [
                {
                    "seq": seq,
                    "event": "register",
                    "from": None,
                    "to": "dev",
                    "at": now,
                    "by": tx.actor,
                    "reason": None,
                    "forced": False,
                }
            ],
            "deprecation": None,
        }
        meta = ordered(meta)
        tx.write(f"{folder}/requirements.txt", req_text.encode("utf-8"))
        tx.write(f"{folder}/features.yaml", _features_yaml(meta["features"]))
        tx.write(f"{folder}/metadata.json", dump_json(meta))
        self._refresh_derived(tx, {inc.id})
        commit = tx.commit(
            f"registry: register {name} v{version}",
            {"Event": "register", "Model": name, "Version": version, "To": "dev", "Actor": tx.actor, "Seq": str(seq)},
        )
        rec = tx.index.get(name, version)
        return self._version_of(meta, rec, commit, warnings=(*warnings, *tx.warnings))

    # -- monitoring and experiments (monitor.py, experiments.py) -------------------------
    def monitor(
        self,
        name: str,
        metrics: dict[str, Any] | None = None,
        *,
        observations: str | list[dict[str, Any]] | None = None,
        at: str | None = None,
        record: bool = True,
    ) -> MonitorResult:
        """registry-monitor (SPEC §7.8): record production observations, evaluate triggers, auto-rollback."""
        from . import monitor

        return monitor.record(self, name, metrics=metrics, observations=observations, at=at, record=record)

    @pushes
    def set_auto_rollback_triggers(
        self,
        name: str | None = None,
        error_rate_threshold: float | None = None,
        latency_threshold: float | None = None,
        accuracy_drop_threshold: float | None = None,
        *,
        window: str | None = None,
        min_observations: int | None = None,
    ) -> ChangeResult:
        """The seed's thresholds as SPEC §5 triggers of ``name`` (None: every model); one commit."""
        from . import monitor

        triggers = monitor.seed_triggers(
            error_rate_threshold=error_rate_threshold,
            latency_threshold=latency_threshold,
            accuracy_drop_threshold=accuracy_drop_threshold,
            window=window,
            min_observations=min_observations,
        )
        return monitor.set_triggers(self, name, triggers)

    def experiments(self, increment: str | None = None) -> list[Experiment]:
        """registry-experiments: the tracked experiments (of one increment), with the versions each produced."""
        from . import experiments

        return experiments.list_experiments(self, increment)

    def _object_store(self, policy: Any) -> Any:
        """The object store new artifacts go to (SPEC §11), or None when they are kept in git."""
        from .store.objectstore import from_policy

        return from_policy(policy, self.storage_uri)

    def _rewrite_metadata(
        self, tx: Transaction, rec: dict[str, Any], change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Read, check writable, change and write back one version's metadata (unknown keys kept)."""
        import copy

        from .store.files import check_writable, dump_json

        rel = f"{rec['dir']}/metadata.json"
        meta = self._read_metadata(rec)
        check_writable(meta, rel)
        meta = copy.deepcopy(meta)
        change(meta)
        meta["updated_at"] = self._now()
        tx.write(rel, dump_json(meta))
        return meta


def _signature(signature: dict[str, Any]) -> dict[str, dict[str, str]] | None:
    from .metadata import normalize_signature

    return normalize_signature(signature)


def _artifact_source(model: Any, scratch: Path) -> tuple[Path, str | None]:
    """A path to copy: the given file/folder, or a pickle of the model object written to scratch."""
    if isinstance(model, (str, os.PathLike)):
        from .inputs import check_path_text

        src = check_path_text(model, "artifact")
        try:
            exists, is_file, is_dir = src.exists(), src.is_file(), src.is_dir()
        except OSError as exc:
            raise InvalidInput(f"artifact {str(src)!r} cannot be read: {exc.strerror}", hint="check the path") from None
        if not exists:
            raise InvalidInput(f"artifact {str(src)!r} does not exist", hint="pass the path of a model file or folder")
        if not (is_file or is_dir):
            raise InvalidInput(f"artifact {str(src)!r} is not a file or folder", hint="pass a regular file")
        return src, None
    import pickle

    dest = scratch / "model.pkl"
    try:
        with open(dest, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"the model object cannot be pickled: {exc}", hint="save it to a file yourself and pass the path"
        ) from None
    return dest, PICKLE_FORMAT


def _reading_artifact(src: Path, func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func`` over the artifact; an OS error while reading it (EIO, a file that vanished) is
    ``invalid_input`` naming the artifact, and the transaction puts every file back."""
    try:
        return func(*args)
    except OSError as exc:
        raise InvalidInput(
            f"cannot read artifact {str(src)!r}: {exc.strerror or exc}", hint="pass a readable model file or folder"
        ) from None


def _refuse_project_paths(src: Path, layout: Layout) -> None:
    """An artifact may not be the project (or hold it), nor lie inside .git or .specweave (SPEC §9)."""
    real = src.resolve()
    root = layout.root.resolve()
    if real == root or real in root.parents:
        raise InvalidInput(
            f"artifact {str(src)!r} is the project folder or holds it; registering it would copy the project "
            "(and its .git) into itself",
            hint="pass the model file or a folder holding only the model",
        )
    for inner in (root / ".git", root / ".specweave"):
        if real == inner or inner in real.parents:
            raise InvalidInput(
                f"artifact {str(src)!r} lies inside {inner.name}/, which the registry and git own",
                hint="copy the model out of it first, or pass the model's own file",
            )
    if real.is_dir():
        for _dirpath, dirnames, _files in os.walk(real):
            if ".git" in dirnames or ".specweave" in dirnames:
                raise InvalidInput(
                    f"artifact folder {str(src)!r} holds a .git or .specweave folder: it is a project, not a model",
                    hint="pass a folder holding only the model's files",
                )


def _requirements_text(requirements: str | os.PathLike[str] | None, artifact: Path | None = None) -> str:
    if requirements is None:
        from .store.requirements import detect

        found = detect(artifact) if artifact is not None else None
        return (
            found
            or "# sw-registry: no requirements were given or detected for this version (pass --requirements FILE)\n"
        )
    from .inputs import decode_text, read_side_file

    return decode_text(read_side_file(requirements, "requirements"), "requirements", str(requirements))


def _features_yaml(features: list[dict[str, str]]) -> bytes:
    from .store import yamlout

    return yamlout.dump({"features": features}).encode("utf-8")
