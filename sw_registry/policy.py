"""registry.yaml's schema and meaning (SPEC §5): ``validate`` checks a parsed file, ``Policy`` answers
questions about it with the spec's defaults, ``primary_metric_of`` picks the metric list/info show.

Reading the file is store/index.py's ``read_policy_file``; writing it is ops/policy.py's ``write_policy``
(registry-policy, set_approval_required, update_policy)."""

from __future__ import annotations

from .errors import ConfigError
from .layout import POLICY_REL, REGISTRY_PARTS
from .plain import Plain

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

DEFAULT_LOWER_IS_BETTER = ["latency", "error", "loss", "rmse", "mae", "mse", "size", "fpr"]
STAGES_WITH_APPROVAL = ("staging", "production")

_TOP_KEYS = {
    "schema_version": int,
    "artifact_store": str,
    "artifact_store_options": dict,
    "large_artifact_warn_mb": (int, float),
    "docs_path": str,
    "metrics": dict,
    "branch": str,
    "defaults": dict,
    "models": dict,
    "environments": dict,
    "signers_file": (str, type(None)),
    "require_signed": bool,
    "mlflow_tracking_uri": (str, type(None)),
}
_MODEL_KEYS = {"owner": str, "primary_metric": str, "approval": dict, "auto_rollback": dict}
_APPROVAL_KEYS = {"approvers": list, "min_approvals": int, "allow_self_approval": bool, "signed": bool}
_TRIGGER_KEYS = {"max": (int, float), "min": (int, float), "window": str, "min_observations": int}


def _check(where: str, value: Any, kinds: Any) -> None:
    if isinstance(value, bool) and kinds in (int, (int, float)):
        raise ConfigError(
            f"registry.yaml: {where} must be a number, not {value!r}", hint="fix .specweave/registry.yaml"
        )
    if not isinstance(value, kinds):
        kinds_ = kinds if isinstance(kinds, tuple) else (kinds,)
        names = "/".join(k.__name__ if k is not type(None) else "null" for k in kinds_)
        raise ConfigError(
            f"registry.yaml: {where} must be {names}, got {type(value).__name__}",
            hint="fix .specweave/registry.yaml (SPEC §5)",
        )


def _check_keys(where: str, data: dict[str, Any], spec: dict[str, Any]) -> None:
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in spec:
            raise ConfigError(
                f"registry.yaml: unknown key {path!r}",
                hint="known keys here: " + ", ".join(sorted(spec)),
            )
        _check(path, value, spec[key])


def _check_approval(where: str, approval: dict[str, Any]) -> None:
    for stage, rule in approval.items():
        path = f"{where}.{stage}"
        if stage not in STAGES_WITH_APPROVAL:
            raise ConfigError(f"registry.yaml: unknown key {path!r}", hint="approval applies to staging or production")
        _check(path, rule, dict)
        _check_keys(path, rule, _APPROVAL_KEYS)
        for approver in rule.get("approvers", []):
            _check(f"{path}.approvers[]", approver, str)
        if rule.get("min_approvals", 1) < 1:
            raise ConfigError(f"registry.yaml: {path}.min_approvals must be at least 1", hint="use 1 or more")


def _check_triggers(where: str, triggers: dict[str, Any]) -> None:
    for metric, rule in triggers.items():
        path = f"{where}.{metric}"
        if metric == "accuracy_drop":
            _check(path, rule, (int, float))
        else:
            _check(path, rule, dict)
            _check_keys(path, rule, _TRIGGER_KEYS)
        from .triggers import check_trigger  # values beyond types: windows, bounds (SPEC §5)

        check_trigger(path, str(metric), rule)


def _check_own_file(key: str, value: str) -> None:
    """``docs_path`` and ``signers_file`` name a file a write rewrites and commits: a path relative to the project
    root that stays inside it (SPEC §8: a write never touches anything outside the work tree), outside git's folder
    and the registry's own files (a metadata.json rewritten as a living doc would be lost)."""
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or "\0" in value or value.startswith(("/", "\\", "~")) or ".." in parts:
        raise ConfigError(
            f"registry.yaml: {key} must be a path relative to the project root, inside the project, not {value!r}",
            hint=f"e.g. {key}: .specweave/docs/internal/architecture/model-registry.md" if key == "docs_path"
            else f"e.g. {key}: .specweave/allowed_signers",
        )
    owned = (
        ".git" in parts
        or parts[:2] == [".specweave", "cache"]
        or parts == [".specweave", "registry.yaml"]
        or (parts[:2] == [".specweave", "increments"] and any(p in REGISTRY_PARTS for p in parts[2:-1]))
    )
    if owned:
        raise ConfigError(f"registry.yaml: {key} {value!r} is a file git or sw-registry keeps",
                          hint=f"point {key} at a file of your own, e.g. under .specweave/docs/")


def validate(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("registry.yaml must be a mapping", hint="see SPEC §5 for its keys")
    schema = data.get("schema_version", 1)
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > 1:
        from .errors import IntegrityError

        raise IntegrityError(
            f"registry.yaml has schema_version {schema}, newer than this sw-registry knows; nothing was written",
            hint="upgrade sw-registry (pip install -U sw-registry)",
            details={"path": POLICY_REL},
        )
    _check_keys("", data, _TOP_KEYS)
    for key in ("docs_path", "signers_file"):
        if data.get(key) is not None:  # signers_file: null is "none"; "" is refused here
            _check_own_file(key, data[key])
    if "@" in str(data.get("mlflow_tracking_uri") or "").partition("//")[2].partition("/")[0]:
        raise ConfigError(
            "registry.yaml: mlflow_tracking_uri must not carry credentials (the file is committed)",
            hint="drop user:password@ from the URL; set MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN",
        )
    if "artifact_store" in data or "artifact_store_options" in data:
        from .store.objectstore import check_options, check_url

        check_url(data.get("artifact_store", "git"))
        check_options(data.get("artifact_store_options"))
    metrics = data.get("metrics") or {}
    _check_keys("metrics", metrics, {"lower_is_better": list})
    defaults = data.get("defaults") or {}
    _check_keys("defaults", defaults, {"approval": dict, "auto_rollback": dict})
    if "approval" in defaults:
        _check_approval("defaults.approval", defaults["approval"])
    if "auto_rollback" in defaults:
        _check_triggers("defaults.auto_rollback", defaults["auto_rollback"])
    for name, model in (data.get("models") or {}).items():
        where = f"models.{name}"
        _check(where, model, dict)
        _check_keys(where, model, _MODEL_KEYS)
        if "approval" in model:
            _check_approval(f"{where}.approval", model["approval"])
        if "auto_rollback" in model:
            _check_triggers(f"{where}.auto_rollback", model["auto_rollback"])
    if "environments" in data:
        _check_environments(data["environments"])
    _check_signing(data)
    return data


def _check_signing(data: dict[str, Any]) -> None:
    """Signed rules and require_signed need a signers_file (SPEC §6; where it may be: ``_check_own_file``)."""
    if data.get("signers_file"):
        return
    rules = [("defaults", (data.get("defaults") or {}).get("approval") or {})]
    rules += [(f"models.{n}", (m or {}).get("approval") or {}) for n, m in (data.get("models") or {}).items()]
    for where, approval in rules:
        for stage, rule in approval.items():
            if rule.get("signed"):
                raise ConfigError(
                    f"registry.yaml: {where}.approval.{stage}.signed needs signers_file",
                    hint="set signers_file: .specweave/allowed_signers (sw-registry registry-signers add creates it)",
                )
    if data.get("require_signed"):
        raise ConfigError(
            "registry.yaml: require_signed needs signers_file",
            hint="set signers_file: .specweave/allowed_signers (sw-registry registry-signers add creates it)",
        )


ENVIRONMENT_NAME = r"[a-z0-9][a-z0-9._-]{0,62}"  # also a folder name in the cache (SPEC §11)
_ENVIRONMENT_KEYS = {"root": str, "stage": str}
ENVIRONMENT_STAGES = ("dev", "staging", "production")


def _check_environments(envs: dict[str, Any]) -> None:
    """``environments: {NAME: {root: PATH_OR_GIT_URL, stage: dev|staging|production}}`` (SPEC §11)."""
    import re

    for name, env in envs.items():
        path = f"environments.{name}"
        if not isinstance(name, str) or not re.fullmatch(ENVIRONMENT_NAME, name) or ".." in name:
            raise ConfigError(
                f"registry.yaml: invalid environment name {path!r}",
                hint="environment names are lower-case letters, digits, '.', '_' and '-'",
            )
        _check(path, env, dict)
        _check_keys(path, env, _ENVIRONMENT_KEYS)
        if not str(env.get("root") or "").strip():
            raise ConfigError(
                f"registry.yaml: {path}.root is required",
                hint="give the other registry's folder or git URL, e.g. root: ../prod-registry",
            )
        if env.get("stage", "dev") not in ENVIRONMENT_STAGES:
            raise ConfigError(
                f"registry.yaml: {path}.stage must be one of {', '.join(ENVIRONMENT_STAGES)}, not {env['stage']!r}",
                hint="the stage a version lands in when --to is not given (default dev)",
            )


class Policy(Plain):
    """The validated content of registry.yaml, with the defaults SPEC §5 gives."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = {} if data is None else data

    @property
    def artifact_store(self) -> str:
        return str(self.data.get("artifact_store") or "git")

    @property
    def large_artifact_warn_mb(self) -> float:
        return float(self.data.get("large_artifact_warn_mb", 100))

    @property
    def docs_path(self) -> str | None:
        return self.data.get("docs_path")

    @property
    def branch(self) -> str | None:
        return self.data.get("branch")

    @property
    def signers_file(self) -> str | None:
        return self.data.get("signers_file") or None

    @property
    def require_signed(self) -> bool:
        return bool(self.data.get("require_signed", False))

    @property
    def lower_is_better(self) -> list[str]:
        return list((self.data.get("metrics") or {}).get("lower_is_better") or DEFAULT_LOWER_IS_BETTER)

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        return {str(k): dict(v) for k, v in (self.data.get("environments") or {}).items()}

    def model(self, name: str) -> dict[str, Any]:
        return dict((self.data.get("models") or {}).get(name) or {})

    def owner(self, name: str) -> str | None:
        return self.model(name).get("owner")

    def primary_metric(self, name: str) -> str | None:
        return self.model(name).get("primary_metric")

    def approval(self, name: str, stage: str) -> dict[str, Any] | None:
        """The approval rule for promoting ``name`` into ``stage``, with defaults filled in."""
        rule = (self.model(name).get("approval") or {}).get(stage)
        if rule is None:
            rule = ((self.data.get("defaults") or {}).get("approval") or {}).get(stage)
        if rule is None:
            return None
        out = {
            "approvers": list(rule.get("approvers") or []),
            "min_approvals": int(rule.get("min_approvals", 1)),
            "allow_self_approval": bool(rule.get("allow_self_approval", True)),
        }
        if rule.get("signed"):
            out["signed"] = True  # only when set: the shape of an unsigned rule stays as it was
        return out

    def auto_rollback(self, name: str) -> dict[str, Any]:
        """The model's auto-rollback triggers: ``defaults.auto_rollback`` overlaid by its own, per metric."""
        merged = dict((self.data.get("defaults") or {}).get("auto_rollback") or {})
        merged.update(self.model(name).get("auto_rollback") or {})
        return merged

    def model_policy(self, name: str) -> dict[str, Any]:
        """What registry-info shows as ``policy``: the model's section with resolved approvals."""
        import copy  # only registry-info shows it: a write need not import copy

        out = copy.deepcopy(self.model(name))
        out["approval"] = {s: r for s in STAGES_WITH_APPROVAL if (r := self.approval(name, s)) is not None}
        out.setdefault("primary_metric", None)
        return out


def primary_metric_of(policy: Policy, name: str, metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The metric list/info show: the policy's primary_metric, else accuracy, else the first metric."""
    chosen = policy.primary_metric(name)
    if chosen is None:
        if not metrics:
            return None
        chosen = "accuracy" if "accuracy" in metrics else sorted(metrics)[0]
    if chosen not in metrics:
        return {"name": chosen, "value": None}
    return {"name": chosen, "value": metrics[chosen]}
