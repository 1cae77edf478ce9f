"""registry-register (SPEC §7.1): validate everything, copy (or upload) the artifact, write the version folder,
refresh the derived files, commit. The artifact checks live in artifact_input.py."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from .. import versions as V
from ..errors import AlreadyExists, BreakingChange, InvalidInput
from ..outcomes import PlainVersion as ModelVersion  # the plain form: ModelRegistry hands out the dataclass
from ..plain import Plain
from .artifact_input import SIDE_FILES, artifact_source, reading_artifact, refuse_project_paths, requirements_text
from .common import read_metadata, refresh_derived, target_increment, version_of, writing

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..layout import Increment
    from ..store.artifacts import Progress
    from ..store.index import Index
    from ..store.records import Record
    from ..transaction import Transaction
    from .context import Context


class Draft(Plain):
    """What a register call asks for, checked before the write lock is taken."""

    __slots__ = ("name", "version", "bump", "fields", "src", "fmt", "inc", "req_text")  # noqa: RUF023 (field order)

    def __init__(self, name: str, version: str | None, bump: str | None, fields: dict[str, Any]) -> None:
        self.name, self.version, self.bump, self.fields = name, version, bump, fields
        self.src = Path()
        self.fmt: str | None = None
        self.inc: Increment | None = None
        self.req_text = ""


def register(
    ctx: Context,
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
    # validate everything before any file is touched
    V.validate_name(name)
    if stage != "dev":
        raise InvalidInput(
            f"new versions start in dev, not {stage!r}", hint="register, then run registry-promote to move it on"
        )
    draft, meta_increment = _draft(name, version, bump, metadata)
    _apply_options(
        draft.fields, tags=tags, description=description, metrics=metrics, params=params, data_version=data_version,
        experiment=experiment, parent=parent,
    )
    _apply_signature(draft.fields, signature, features, inputs, outputs)
    with _scratch(model) as scratch:
        draft.src, draft.fmt = artifact_source(model, scratch)
        refuse_project_paths(draft.src, ctx.layout)
        draft.req_text = requirements_text(requirements, draft.src)
        if draft.src.name in SIDE_FILES:
            raise InvalidInput(f"the artifact may not be named {draft.src.name!r}", hint="rename the file")
        draft.inc = target_increment(ctx, increment, meta_increment)
        if transaction is not None:
            return register_in(ctx, transaction, draft, progress, allow_breaking)
        with writing(ctx) as tx:
            return register_in(ctx, tx, draft, progress, allow_breaking)


@contextmanager
def _scratch(model: Any) -> Iterator[Path]:
    """A temporary folder for the pickle of a model object; none for a path (tempfile is not imported)."""
    if isinstance(model, (str, os.PathLike)):
        yield Path()  # artifact_source copies a path from where it is
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sw-registry-") as scratch:
        yield Path(scratch)


def _draft(name: str, version: str | None, bump: str | None, metadata: dict[str, Any] | None) -> tuple[Draft, Any]:
    from ..metadata import sort_flat

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
    return Draft(name, canonical, bump, fields), meta_increment


def _apply_options(fields: dict[str, Any], **given: Any) -> None:
    """The register options that add to the metadata's fields (tags, metrics, params, lineage …)."""
    from ..metadata import check_metrics

    if given["metrics"]:
        fields["metrics"].update(check_metrics(given["metrics"]))
    fields["hyperparameters"].update(given["params"] or {})
    if given["tags"]:
        fields["tags"] = list(dict.fromkeys([*fields["tags"], *given["tags"]]))
    if given["description"] is not None:
        fields["description"] = given["description"]
    if given["data_version"]:
        fields["lineage"]["data"] = given["data_version"]
    if given["experiment"]:
        fields["lineage"]["experiment"] = given["experiment"]
    if given["parent"]:
        pname, pver = V.parse_ref(given["parent"])
        fields["lineage"]["parent"] = f"{pname}@{pver}"


def _apply_signature(
    fields: dict[str, Any], signature: dict[str, Any] | None, features: Any, inputs: dict[str, str] | None,
    outputs: dict[str, str] | None,
) -> None:
    from ..metadata import merge_signature, normalize_features, normalize_signature

    sig, feats = merge_signature(
        fields["signature"] or (signature and normalize_signature(signature)),
        normalize_features(features) if features is not None else fields["features"],
        inputs,
        outputs,
    )
    fields["signature"], fields["features"] = sig, feats


def register_in(
    ctx: Context, tx: Transaction, draft: Draft, progress: Progress | None, allow_breaking: bool
) -> ModelVersion:
    """The write: choose the version under the lock, store the artifact, write the folder, commit."""
    from ..metadata import SCHEMA_VERSION, ordered
    from ..store.files import dump_json
    from ..store.record import stage_event

    index, name, fields = tx.index, draft.name, draft.fields
    version, existing = _choose_version(ctx, index, draft, allow_breaking)
    rec = index.find(name, version)
    if rec is not None:
        return _already_registered(ctx, draft, rec, version, existing)
    assert draft.inc is not None
    folder = ctx.layout.version_rel(draft.inc, name, version)
    artifact, warnings = _store_artifact(ctx, tx, index, draft, folder, progress)
    now = ctx.now()
    seq = index.max_seq(name) + 1
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "version": version,
        "increment": draft.inc.id,
        "stage": "dev",
        "created_at": now,
        "updated_at": now,
        "created_by": tx.actor,
        **fields,
        "artifact": artifact,
        "approvals": [],
        "stage_history": [stage_event(seq, "register", None, "dev", now, tx.actor)],
        "deprecation": None,
    }
    meta = ordered(meta)
    tx.write(f"{folder}/requirements.txt", draft.req_text.encode("utf-8"))
    tx.write(f"{folder}/features.yaml", features_yaml(meta["features"]))
    tx.write(ctx.layout.metadata_rel(folder), dump_json(meta))
    refresh_derived(ctx.layout, tx, {draft.inc.id})
    commit = tx.commit(
        f"registry: register {name} v{version}",
        {"Event": "register", "Model": name, "Version": version, "To": "dev", "Actor": tx.actor, "Seq": str(seq)},
    )
    return version_of(ctx, meta, tx.index.get(name, version), commit, warnings=(*warnings, *tx.warnings))


def _choose_version(ctx: Context, index: Index, draft: Draft, allow_breaking: bool) -> tuple[str, list[str]]:
    """The version to register (given, bumped, or auto-bumped from the signature change); refuses a breaking
    signature change under a non-major version unless ``allow_breaking``."""
    name, version = draft.name, draft.version
    recs = index.light_of(name)
    existing = _bump_basis(recs)
    previous = read_metadata(ctx, recs[-1]).get("signature") if recs else None
    change = V.signature_change(previous, draft.fields["signature"])
    if version is not None and index.find(name, version) is None and not allow_breaking:
        should = V.breaks(existing, version, change)
        if should:
            raise BreakingChange(
                f"the signature of {name} changes incompatibly against v{recs[-1]['version']}, "
                f"so v{version} must be a new major version",
                hint=f"register it as v{should}, or pass --allow-breaking",
                details={"expected_version": should, "change": change},
            )
    return V.choose(existing, version, draft.bump, change), existing


def _bump_basis(recs: list[Record]) -> list[str]:
    """What ``versions.bump``/``breaks`` look at among a model's versions: the highest final release and the highest
    pre-release (records are in version order; key[3] is 1 for a final release), and an unparseable version, which
    sorts first and makes them refuse as before. The same answers as from every version, without parsing each."""
    basis = [r["version"] for r in recs[:1] if r["key"][0] == -1]
    for final in (1, 0):
        found = next((r["version"] for r in reversed(recs) if r["key"][3] == final and r["key"][0] != -1), None)
        if found is not None:
            basis.append(found)
    return basis


def _already_registered(
    ctx: Context, draft: Draft, rec: Record, version: str, existing: list[str]
) -> ModelVersion:
    """The same artifact again is the version as it is; another artifact under its number is refused."""
    from ..store.artifacts import hash_artifact

    if reading_artifact(draft.src, hash_artifact, draft.src) == (rec.get("artifact") or {}).get("sha256"):
        return version_of(ctx, read_metadata(ctx, rec), rec)
    raise AlreadyExists(
        f"{draft.name}@{version} is already registered with a different artifact",
        hint=f"register it as a new version (--bump patch gives v{V.bump(existing, 'patch')})",
        details={"path": rec["dir"]},
    )


def _store_artifact(
    ctx: Context, tx: Transaction, index: Index, draft: Draft, folder: str, progress: Progress | None
) -> tuple[dict[str, Any], list[str]]:
    """Copy the artifact into the version folder, or upload it to the object store; with the warnings."""
    from ..store.artifacts import copy_artifact
    from .common import object_store

    src = draft.src
    warnings: list[str] = []
    store = object_store(ctx, index.policy)
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
        from ..store.objectstore import upload_artifact

        # before any metadata is written: a failed upload (store_error) leaves nothing behind
        artifact = upload_artifact(store, src, progress)
        if not artifact.pop("uploaded"):
            warnings.append(f"artifact already in the store ({artifact['store']}); nothing uploaded")
    else:
        artifact = reading_artifact(src, copy_artifact, src, dest / src.name, progress)
    if draft.fmt:
        artifact["format"] = draft.fmt
    return artifact, warnings


def features_yaml(features: list[dict[str, str]]) -> bytes:
    from ..store import yamlout

    return yamlout.dump({"features": features}).encode("utf-8")
