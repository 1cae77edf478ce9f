"""What the operations return, as plain classes; the Python API hands out their dataclass twins.

SPEC §8 makes the API's return types dataclasses (model.py, results.py), but ``dataclasses`` and the building of
those classes cost a CLI process a fifth of a write (issue 10), and the CLI only renders ``to_dict()``. So the
behaviour (properties, ``to_dict()``) lives here in ``*Face`` classes that both forms share; the operations build
the plain ``Plain*`` form, the CLI renders it, and ``ModelRegistry`` turns it into the public dataclass with
``public()`` (which imports model.py/results.py only then). Both forms have the same fields in the same order.
"""

from __future__ import annotations

from .plain import Plain

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

JSON_NAMES = {"from_stage": "from", "to_stage": "to"}  # field names that the JSON spells differently (keywords)


def _warned(data: dict[str, Any], warnings: tuple[str, ...]) -> dict[str, Any]:
    """SPEC §9: warnings (a large artifact, hook output) go in ``data.warnings`` when there are any."""
    if warnings:
        data["warnings"] = list(warnings)
    return data


class VersionFace:
    """ModelVersion's behaviour: one registered version, its metadata (SPEC §4) and where its artifact lives."""

    __slots__ = ()
    metadata: dict[str, Any]
    path: str  # absolute path of the artifact (file or folder)
    commit: str | None
    verified: bool
    warnings: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def stage(self) -> str:
        return str(self.metadata.get("stage"))

    @property
    def sha256(self) -> str | None:
        art = self.metadata.get("artifact") or {}
        return art.get("sha256")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        from .store.files import copy_json

        out = copy_json(self.metadata)
        out["commit"] = self.commit
        out["path"] = self.path
        out["sha256"] = self.sha256
        out["verified"] = self.verified
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


class FieldsFace:
    """``to_dict()``: every field under its JSON name, in field order; then ``warnings`` when there are any. The
    fields are the dataclass's, or the plain form's ``__slots__`` (the same names in the same order)."""

    __slots__ = ()

    @classmethod
    def _json_pairs(cls) -> tuple[tuple[str, str], ...]:
        """(field, its JSON name) of every field but ``warnings``; worked out once per class."""
        pairs: tuple[tuple[str, str], ...] | None = cls.__dict__.get("_pairs")
        if pairs is None:
            names = tuple(getattr(cls, "__dataclass_fields__", None) or cls.__slots__)
            pairs = tuple((name, JSON_NAMES.get(name, name)) for name in names if name != "warnings")
            type.__setattr__(cls, "_pairs", pairs)
        return pairs

    def to_dict(self) -> dict[str, Any]:
        data = {json: getattr(self, name) for name, json in self._json_pairs()}
        return _warned(data, getattr(self, "warnings", ()))


class RowFace(FieldsFace):
    """VersionRow's behaviour: one version as registry-info lists it (its metrics copied)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["metrics"] = dict(data["metrics"])
        return data


class InfoFace(FieldsFace):
    """ModelInfo's behaviour: a model's owner, policy, stage holders and versions (copies, rows as dicts)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        from .store.files import copy_json

        data = super().to_dict()
        data.update(policy=copy_json(data["policy"]), stages=dict(data["stages"]))
        data["versions"] = [v.to_dict() for v in data["versions"]]
        return data


class HistoryFace:
    """History's behaviour: a model's events, in seq order."""

    __slots__ = ()
    name: str
    events: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "events": [e.to_dict() for e in self.events]}


# -- the plain forms the operations build --------------------------------------------------------------------
class Outcome(Plain):
    """A plain result; ``public_type`` names its dataclass twin (module, class) for ``public()``."""

    __slots__ = ()
    public_type: tuple[str, str] = ("", "")

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` (``dataclasses.replace`` of the twin)."""
        names: tuple[str, ...] = self.__slots__
        return type(self)(**{**{name: getattr(self, name) for name in names}, **changes})


class PlainVersion(Outcome, VersionFace):
    __slots__ = ("metadata", "path", "commit", "verified", "warnings")  # noqa: RUF023 (field order)
    public_type = ("model", "ModelVersion")

    def __init__(
        self, metadata: dict[str, Any], path: str, commit: str | None = None, verified: bool = False,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.metadata, self.path, self.commit, self.verified, self.warnings = metadata, path, commit, verified, warnings


class PlainSummary(Outcome, FieldsFace):
    __slots__ = (  # noqa: RUF023 (field order)
        "name", "production", "staging", "latest", "version_count", "primary_metric", "updated_at", "owner")
    public_type = ("model", "ModelSummary")

    def __init__(
        self, name: str, production: str | None, staging: str | None, latest: str | None, version_count: int,
        primary_metric: dict[str, Any] | None, updated_at: str | None, owner: str | None = None,
    ) -> None:
        self.name, self.production, self.staging, self.latest = name, production, staging, latest
        self.version_count, self.primary_metric, self.updated_at, self.owner = (
            version_count, primary_metric, updated_at, owner)


class PlainRow(Outcome, RowFace):
    __slots__ = (  # noqa: RUF023 (field order)
        "version", "stage", "created_at", "increment", "deprecated", "metrics", "primary_metric")
    public_type = ("model", "VersionRow")

    def __init__(
        self, version: str, stage: str, created_at: str | None, increment: str, deprecated: bool,
        metrics: dict[str, Any], primary_metric: dict[str, Any] | None = None,
    ) -> None:
        self.version, self.stage, self.created_at, self.increment = version, stage, created_at, increment
        self.deprecated, self.metrics, self.primary_metric = deprecated, metrics, primary_metric


class PlainInfo(Outcome, InfoFace):
    __slots__ = ("name", "owner", "policy", "stages", "versions")
    public_type = ("model", "ModelInfo")

    def __init__(
        self, name: str, owner: str | None, policy: dict[str, Any], stages: dict[str, str | None],
        versions: list[Any] | None = None,
    ) -> None:
        self.name, self.owner, self.policy, self.stages = name, owner, policy, stages
        self.versions = [] if versions is None else versions


class PlainPromote(Outcome, FieldsFace):
    __slots__ = (  # noqa: RUF023 (field order)
        "name", "version", "from_stage", "to_stage", "replaced", "commit", "actor", "forced", "warnings")
    public_type = ("results", "PromoteResult")

    def __init__(
        self, name: str, version: str, from_stage: str, to_stage: str, replaced: str | None, commit: str | None,
        actor: str | None = None, forced: bool = False, warnings: tuple[str, ...] = (),
    ) -> None:
        self.name, self.version, self.from_stage, self.to_stage = name, version, from_stage, to_stage
        self.replaced, self.commit, self.actor, self.forced, self.warnings = replaced, commit, actor, forced, warnings


class PlainRollback(Outcome, FieldsFace):
    __slots__ = ("name", "from_version", "to_version", "reason", "commit", "actor", "warnings")  # noqa: RUF023
    public_type = ("results", "RollbackResult")

    def __init__(
        self, name: str, from_version: str | None, to_version: str, reason: str | None, commit: str | None,
        actor: str | None = None, warnings: tuple[str, ...] = (),
    ) -> None:
        self.name, self.from_version, self.to_version, self.reason = name, from_version, to_version, reason
        self.commit, self.actor, self.warnings = commit, actor, warnings


class PlainApprove(Outcome, FieldsFace):
    __slots__ = (  # noqa: RUF023 (field order)
        "name", "version", "stage", "approver", "approvals", "required", "commit", "warnings", "signing_key")
    public_type = ("results", "ApproveResult")

    def __init__(
        self, name: str, version: str, stage: str, approver: str, approvals: int, required: int, commit: str | None,
        warnings: tuple[str, ...] = (), signing_key: str | None = None,
    ) -> None:
        self.name, self.version, self.stage, self.approver = name, version, stage, approver
        self.approvals, self.required, self.commit = approvals, required, commit
        self.warnings, self.signing_key = warnings, signing_key


class PlainDeprecate(Outcome, FieldsFace):
    __slots__ = ("name", "version", "reason", "end_of_life", "commit", "actor", "warnings")  # noqa: RUF023
    public_type = ("results", "DeprecateResult")

    def __init__(
        self, name: str, version: str, reason: str, end_of_life: str | None, commit: str | None,
        actor: str | None = None, warnings: tuple[str, ...] = (),
    ) -> None:
        self.name, self.version, self.reason, self.end_of_life = name, version, reason, end_of_life
        self.commit, self.actor, self.warnings = commit, actor, warnings


class PlainEvent(Outcome, FieldsFace):
    __slots__ = (  # noqa: RUF023 (field order)
        "event", "version", "from_stage", "to_stage", "at", "by", "reason", "commit", "seq", "forced", "auto")
    public_type = ("results", "HistoryEvent")

    def __init__(
        self, event: str, version: str, from_stage: str | None, to_stage: str | None, at: str | None, by: str | None,
        reason: str | None, commit: str | None, seq: int = 0, forced: bool = False, auto: bool = False,
    ) -> None:
        self.event, self.version, self.from_stage, self.to_stage = event, version, from_stage, to_stage
        self.at, self.by, self.reason, self.commit = at, by, reason, commit
        self.seq, self.forced, self.auto = seq, forced, auto


class PlainHistory(Outcome, HistoryFace):
    __slots__ = ("name", "events")  # noqa: RUF023 (field order)
    public_type = ("results", "History")

    def __init__(self, name: str, events: list[Any] | None = None) -> None:
        self.name = name
        self.events = [] if events is None else events


def public(value: Any) -> Any:
    """``value`` as the Python API returns it: a plain result (or a list of them) as its dataclass twin."""
    if isinstance(value, list):  # a list of results; any other list (e.g. a loaded model) is left as it is
        return [public(v) for v in value] if any(isinstance(v, Outcome) for v in value) else value
    if not isinstance(value, Outcome):
        return value
    import importlib

    module, name = value.public_type
    cls = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    names: tuple[str, ...] = value.__slots__
    return cls(*(public(getattr(value, name)) for name in names))
