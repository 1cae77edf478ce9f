"""Stage changes (SPEC §6, §7.4–§7.7): promote, approve, rollback, deprecate.

The rules are the pure functions of lifecycle.py; each operation here reads the state under the write lock
(``ctx.write()``), applies them, and lands as one commit (moves.py has the shared pieces).
"""

from __future__ import annotations

from contextlib import ExitStack

from .. import lifecycle as L
from .. import versions as V
from ..errors import InvalidInput, InvalidTransition, UsageError
from .common import read_metadata, rewrite_metadata, writing
from .moves import finish, move, move_trailers

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from ..outcomes import PlainApprove as ApproveResult
    from ..outcomes import PlainDeprecate as DeprecateResult
    from ..outcomes import PlainPromote as PromoteResult
    from ..outcomes import PlainRollback as RollbackResult
    from ..store.index import Index
    from ..store.records import Record
    from ..transaction import Transaction
    from .context import Context


def promote(
    ctx: Context,
    name: str,
    version: str,
    from_stage: str | None = None,
    to_stage: str = "staging",
    approval_required: bool | None = None,
    reason: str | None = None,
    *,
    force: bool = False,
) -> PromoteResult:
    """Move a version to another stage (SPEC §6). ``force`` relaxes order and deprecation, never approvals."""
    from ..outcomes import PlainPromote as PromoteResult  # the plain form: ModelRegistry hands out the dataclass

    V.validate_name(name)
    ver = V.canonical(version)
    L.check_stage(to_stage)
    if from_stage is not None:
        L.check_stage(from_stage)
    with writing(ctx) as tx, ExitStack() as running:
        index = tx.index
        rec = index.get(name, ver)
        move_plan = L.plan_promotion(
            rec["stage"], to_stage, from_stage=from_stage, force=force, reason=reason,
            deprecated=rec["deprecated"], ref=f"{name}@{ver}",
        )
        if move_plan.noop:
            return PromoteResult(name, ver, rec["stage"], to_stage, None, None, tx.actor)
        if to_stage in L.EXCLUSIVE:
            _check_promotion_approvals(ctx, tx, rec, to_stage, approval_required, running)
        holder = index.holder(name, to_stage) if to_stage in L.EXCLUSIVE else None
        holder = holder if holder is not None and holder["version"] != ver else None
        replaced = holder["version"] if holder else None
        seqs, incs = move(ctx, tx, rec, "promote", to_stage, reason, move_plan.forced, holder, f"replaced by v{ver}")
        commit = finish(
            ctx,
            tx,
            incs,
            f"registry: promote {name} v{ver} {rec['stage']} -> {to_stage}",
            move_trailers(
                "promote", rec, to_stage, tx.actor, reason, forced=move_plan.forced, replaced=replaced, seqs=seqs
            ),
        )
        return PromoteResult(
            name, ver, rec["stage"], to_stage, replaced, commit, tx.actor, move_plan.forced, tuple(tx.warnings)
        )


def _check_promotion_approvals(
    ctx: Context, tx: Transaction, rec: Record, to_stage: str, approval_required: bool | None, running: ExitStack
) -> None:
    """Refuse a promotion into staging/production that lacks the approvals registry.yaml requires.

    Signed approvals are verified by a ``git log`` that runs while the promotion writes its files: started here
    (closed by ``running`` on every way out), joined by ``tx.commit`` once the files are staged."""
    index = tx.index
    name, ver = rec["name"], rec["version"]
    rule = index.policy.approval(name, to_stage)
    if rule is None and approval_required:
        rule = {"approvers": [], "min_approvals": 1, "allow_self_approval": True}
    meta = read_metadata(ctx, rec)
    approvals = meta.get("approvals") or []
    if rule is not None and (rule.get("signed") or index.policy.require_signed):
        from ..signing import start_signed_check

        pending = start_signed_check(tx.repo, index.policy, name, ver, to_stage, rule, approvals, meta)
        tx.before_commit.append(running.enter_context(pending).result)
    else:
        L.check_approvals(rule, approvals, to_stage, meta.get("created_by"), f"{name}@{ver}")


def approve(
    ctx: Context,
    name: str,
    version: str,
    approver: str | None = None,
    comments: str | None = None,
    stage: str = "production",
) -> ApproveResult:
    """Record an approval of a version for a stage; the commit is authored by the approver."""
    from ..outcomes import PlainApprove as ApproveResult

    V.validate_name(name)
    ver = V.canonical(version)
    L.check_stage(stage)
    if stage not in L.EXCLUSIVE:
        raise InvalidInput(f"approvals are for staging or production, not {stage}", hint="use --stage production")
    with writing(ctx) as tx:
        index = tx.index
        rec = index.get(name, ver)
        who = approver or tx.actor
        meta = read_metadata(ctx, rec)
        rule = index.policy.approval(name, stage)
        L.check_approver(rule, who, meta.get("created_by"), stage, f"{name}@{ver}")
        signed = bool(rule and rule.get("signed")) or index.policy.require_signed
        key = _approver_key(tx, index, who) if signed else None
        approvals = [a for a in meta.get("approvals") or [] if not signed or a.get("signing_key")]
        required = int(rule["min_approvals"]) if rule else 0
        counted = rule or {"approvers": [], "min_approvals": 0, "allow_self_approval": True}
        if any(
            a.get("approver") == who and a.get("stage") == stage and (not signed or a.get("signing_key") == key)
            for a in approvals
        ):
            have = len(L.valid_approvals(counted, approvals, stage, meta.get("created_by")))
            return ApproveResult(name, ver, stage, who, have, required, None)
        seq = index.max_seq(name) + 1
        entry = {"stage": stage, "approver": who, "at": ctx.now(), "comment": comments, "seq": seq}
        if key:
            entry["signing_key"] = key  # the approval claims a signature: verify and promotion check it
        rewrite_metadata(ctx, tx, rec, lambda m: m.setdefault("approvals", []).append(entry))
        have = len(L.valid_approvals(counted, [*approvals, entry], stage, meta.get("created_by")))
        trailers = {
            "Event": "approve", "Model": name, "Version": ver, "To": stage, "Actor": who, "Approver": who,
            "Reason": comments, "Seq": str(seq),
        }
        commit = finish(
            ctx, tx, {str(rec["increment"])}, f"registry: approve {name} v{ver} for {stage}", trailers,
            author=(who.split("@", 1)[0] or who, who), sign=signed,
        )
        return ApproveResult(name, ver, stage, who, have, required, commit, tuple(tx.warnings), key)


def _approver_key(tx: Transaction, index: Index, who: str) -> str:
    """SPEC §6: a signed approval is refused before anything is written unless the user's key is listed for ``who``."""
    from ..signing import check_approver_key

    return check_approver_key(tx.repo, index.policy, who).fingerprint


def rollback(
    ctx: Context, name: str, to_version: str | None = None, reason: str | None = None, *, force: bool = False
) -> RollbackResult:
    """Make an earlier production version production again, in one commit; no approval needed."""
    from ..outcomes import PlainRollback as RollbackResult
    from .reads import verified

    V.validate_name(name)
    target_ver = V.canonical(to_version) if to_version is not None else None
    L.check_force_reason(force, reason)
    with writing(ctx) as tx:
        index = tx.index
        # light records carry the production events, all rollback needs; versions_of: not_found for an unknown model
        evts = L.stage_events(index.light_of(name) or index.versions_of(name))
        current = index.holder(name, "production")
        current_ver = current["version"] if current else None
        if target_ver is None:
            target_ver = L.previous_production(evts, current_ver)
            if target_ver is None:
                raise InvalidTransition(
                    f"{name} has no earlier production version to roll back to",
                    hint=f"name a version with --to (see 'sw-registry registry-history {name}')",
                )
        target = index.get(name, target_ver)
        if target_ver == current_ver:
            return RollbackResult(name, current_ver, target_ver, reason, None, tx.actor)
        L.check_rollback(target_ver, evts, deprecated=target["deprecated"], force=force, ref=f"{name}@{target_ver}")
        verified(ctx, read_metadata(ctx, target), target)  # in git, or fetched from the store and hashed
        displaced_reason = f"rolled back to v{target_ver}" + (f": {reason}" if reason else "")
        seqs, incs = move(ctx, tx, target, "rollback", "production", reason, force, current, displaced_reason)
        commit = finish(
            ctx,
            tx,
            incs,
            f"registry: rollback {name} to v{target_ver}",
            move_trailers("rollback", target, "production", tx.actor, reason, forced=force, replaced=current_ver,
                          seqs=seqs),
        )
        return RollbackResult(name, current_ver, target_ver, reason, commit, tx.actor, tuple(tx.warnings))


def deprecate(
    ctx: Context, name: str, version: str, reason: str, end_of_life: str | None = None, *, force: bool = False
) -> DeprecateResult:
    """Mark a version deprecated (with an end-of-life date); production's version only with ``force``."""
    from ..outcomes import PlainDeprecate as DeprecateResult

    V.validate_name(name)
    ver = V.canonical(version)
    eol = L.check_date(end_of_life)
    if not (reason and str(reason).strip()):
        raise UsageError("deprecation needs a reason", hint="pass --reason TEXT")
    with writing(ctx) as tx:
        index = tx.index
        rec = index.get(name, ver)
        if rec["stage"] == "production" and not force:
            raise InvalidTransition(
                f"{name}@{ver} is the production version",
                hint="promote or roll back to another version first, or pass --force",
            )
        meta = read_metadata(ctx, rec)
        dep = meta.get("deprecation") or {}
        if dep and dep.get("reason") == reason and dep.get("end_of_life") == eol:
            return DeprecateResult(name, ver, reason, eol, None, tx.actor)
        seq = index.max_seq(name) + 1
        entry = {"reason": reason, "end_of_life": eol, "at": ctx.now(), "by": tx.actor, "seq": seq}
        rewrite_metadata(ctx, tx, rec, lambda m: m.__setitem__("deprecation", entry))
        trailers = {
            "Event": "deprecate", "Model": name, "Version": ver, "Actor": tx.actor, "Reason": reason,
            "Forced": "true" if force and rec["stage"] == "production" else None, "Seq": str(seq),
        }
        commit = finish(ctx, tx, {str(rec["increment"])}, f"registry: deprecate {name} v{ver}", trailers)
        return DeprecateResult(name, ver, reason, eol, commit, tx.actor, tuple(tx.warnings))
