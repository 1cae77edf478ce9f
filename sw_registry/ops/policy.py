"""Policy writes (SPEC §5, §7.15): approval rules, owner, primary metric and triggers in registry.yaml, a hand
edit of registry.yaml committed as it is, and a version's signature (its metadata and features.yaml)."""

from __future__ import annotations

import copy

from .. import versions as V
from ..errors import UsageError
from ..layout import POLICY_REL

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..outcomes import PlainVersion as ModelVersion
    from ..results import ChangeResult
    from ..transaction import Transaction
    from .context import Context


def approval_rule(
    stage: str,
    approvers: list[str] | None,
    min_approvals: int,
    allow_self_approval: bool | None,
    signed: bool,
    signers_file: str | None,
) -> dict[str, Any]:
    """One approval rule of registry.yaml (SPEC §5, §6), checked before anything is written."""
    from .. import lifecycle as L

    L.check_stage(stage)
    if signers_file is not None and not signed:
        raise UsageError("a signers file is for signed approvals", hint="add --signed (API: signed=True)")
    rule: dict[str, Any] = {"approvers": list(approvers or []), "min_approvals": int(min_approvals)}
    if allow_self_approval is not None:
        rule["allow_self_approval"] = bool(allow_self_approval)
    if signed:
        rule["signed"] = True
    return rule


def write_policy(
    tx: Transaction, data: dict[str, Any], subject: str, name: str | None, reason: str | None = None
) -> ChangeResult:
    """Validate ``data`` and write it as registry.yaml; one commit (event policy) when it changed."""
    import yaml

    from ..policy import validate
    from ..results import ChangeResult

    validate(data)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    if not tx.write_if_changed(POLICY_REL, text.encode("utf-8")):
        return ChangeResult(False, None)
    commit = tx.commit(subject, {"Event": "policy", "Model": name, "Actor": tx.actor, "Reason": reason}, body=reason)
    return ChangeResult(True, commit, tuple(tx.warnings))


def _policy_data(tx: Transaction) -> dict[str, Any]:
    return copy.deepcopy(tx.index.policy.data) or {"schema_version": 1}


def set_approval_required(
    ctx: Context,
    stage: str = "production",
    approvers: list[str] | None = None,
    name: str | None = None,
    *,
    min_approvals: int = 1,
    allow_self_approval: bool | None = None,
    signed: bool = False,
    signers_file: str | None = None,
) -> ChangeResult:
    """Require approvals to promote into ``stage``, for one model or (name None) every model (one commit)."""
    if name is not None:
        V.validate_name(name)
    rule = approval_rule(stage, approvers, min_approvals, allow_self_approval, signed, signers_file)
    with ctx.write() as tx:
        data = _policy_data(tx)
        if name is None:
            section = data.setdefault("defaults", {})
        else:
            section = data.setdefault("models", {}).setdefault(name, {})
        _set_approval(ctx, data, section, stage, rule, signers_file)
        who = name or "every model"
        return write_policy(tx, data, f"registry: require approval for {stage} ({who})", name)


def _set_approval(
    ctx: Context, data: dict[str, Any], section: dict[str, Any], stage: str, rule: dict[str, Any],
    signers_file: str | None,
) -> None:
    """Put ``rule`` in ``section``; a signed rule also names the signers file in registry.yaml (SPEC §6)."""
    section.setdefault("approval", {})[stage] = rule
    if rule.get("signed"):
        from ..signing import DEFAULT_SIGNERS_FILE, project_path

        if signers_file is not None:
            data["signers_file"] = project_path(ctx.layout, signers_file)
        else:
            data["signers_file"] = data.get("signers_file") or DEFAULT_SIGNERS_FILE


def update_policy(
    ctx: Context,
    name: str,
    *,
    require_approval: str | None = None,
    approvers: list[str] | None = None,
    min_approvals: int = 1,
    allow_self_approval: bool | None = None,
    signed: bool = False,
    signers_file: str | None = None,
    owner: str | None = None,
    primary_metric: str | None = None,
    triggers: dict[str, Any] | None = None,
    reason: str | None = None,
) -> ChangeResult:
    """Everything one ``registry-policy NAME ...`` call sets, in one commit (SPEC §7.15)."""
    V.validate_name(name)
    rule = None
    if require_approval is not None:
        rule = approval_rule(require_approval, approvers, min_approvals, allow_self_approval, signed, signers_file)
    elif signed or signers_file is not None:
        raise UsageError("--signed makes an approval rule signed", hint="add --require-approval STAGE --approver EMAIL")
    with ctx.write() as tx:
        data = _policy_data(tx)
        section = data.setdefault("models", {}).setdefault(name, {})
        if require_approval is not None and rule is not None:
            _set_approval(ctx, data, section, require_approval, rule, signers_file)
        if owner is not None:
            section["owner"] = owner
        if primary_metric is not None:
            section["primary_metric"] = primary_metric
        if triggers:
            section.setdefault("auto_rollback", {}).update(triggers)
        return write_policy(tx, data, f"registry: policy for {name}", name, reason=reason)


def commit_policy(ctx: Context, reason: str | None = None, name: str | None = None) -> ChangeResult:
    """``registry-policy --commit``: validate .specweave/registry.yaml as it is on disk (a hand edit) and
    commit it (event policy). Unchanged from HEAD: nothing to do, ``commit`` None (SPEC §5)."""
    from ..results import ChangeResult
    from ..store.index import read_policy_file

    if name is not None:
        V.validate_name(name)
    with ctx.write(adopt=(POLICY_REL,)) as tx:
        read_policy_file(ctx.layout)  # the file as it is now, under the lock: parse, bound, validate
        if not tx.adopted:
            return ChangeResult(False, None)
        commit = tx.commit(
            "registry: commit a hand edit of registry.yaml",
            {"Event": "policy", "Model": name, "Actor": tx.actor, "Reason": reason},
            body=reason,
        )
        return ChangeResult(True, commit, tuple(tx.warnings))


def set_signature(
    ctx: Context, model: str, inputs: dict[str, str] | None = None, outputs: dict[str, str] | None = None
) -> ModelVersion:
    """Set the input/output signature of ``NAME@VERSION`` (features.yaml follows its inputs); one commit."""
    from ..metadata import merge_signature, normalize_signature
    from .common import read_metadata, rewrite_metadata, version_of
    from .moves import finish
    from .register import features_yaml

    name, version = V.parse_ref(model)
    signature = normalize_signature({"inputs": inputs or {}, "outputs": outputs or {}})
    sig, feats = merge_signature(signature, [])
    with ctx.write() as tx:
        rec = tx.index.get(name, version)
        meta = read_metadata(ctx, rec)
        if meta.get("signature") == sig and meta.get("features") == feats:
            return version_of(ctx, meta, rec)

        def change(m: dict[str, Any]) -> None:
            m["signature"], m["features"] = sig, feats

        meta = rewrite_metadata(ctx, tx, rec, change)
        tx.write(f"{rec['dir']}/features.yaml", features_yaml(feats))
        commit = finish(
            ctx,
            tx,
            {str(rec["increment"])},
            f"registry: signature of {name} v{version}",
            {"Event": "signature", "Model": name, "Version": version, "Actor": tx.actor},
        )
        return version_of(ctx, meta, tx.index.get(name, version), commit, warnings=tuple(tx.warnings))
