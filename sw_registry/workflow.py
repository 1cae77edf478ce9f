"""The ``Workflow`` mixin of ModelRegistry: the stage changes and the other operations around them.

- stage changes (SPEC §6, §7.4–§7.7): promote_model, approve_model, rollback, deprecate_model;
- policy writes to registry.yaml (§5, §7.15): set_approval_required, set_model_policy, update_policy,
  commit_policy, and set_model_signature (a version's signature in its metadata);
- docs (§7.9): sync_docs, review_docs; insight (§7.10–§7.12): compare_models, get_lineage, history;
- ``production_at``: the production version of a model at a date (registry-get --date, §7.13).

The stage rules are the pure functions of lifecycle.py; each write here reads state, applies them under
the write lock (transaction.py) and lands as one commit.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import versions as V
from .errors import InvalidTransition, NotFound
from .publish import pushes

# lifecycle rules, results and artifact checks load inside the operations: read commands never need them
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from .layout import Layout
    from .model import ModelVersion
    from .results import (
        ApproveResult,
        ChangeResult,
        Comparison,
        DeprecateResult,
        History,
        Lineage,
        PromoteResult,
        RollbackResult,
    )
    from .store.index import Index, Source
    from .transaction import Transaction

HISTORY_HEADER = (
    "# Deployment history\n\n"
    "Stage changes of the model versions in this increment, appended by sw-registry.\n"
    "Git history (Registry-* trailers) is the record; this page is for people.\n\n"
    "| Time | Model | Version | From | To | Actor | Reason |\n"
    "|---|---|---|---|---|---|---|\n"
)


def _read_text_exact(path: Path, rel: str) -> str | None:
    """A registry text file exactly as stored (CRLF stays CRLF), or None when it does not exist; a folder,
    FIFO, device, huge or non-UTF-8 file there is an ``integrity`` error naming it."""
    import os

    from .errors import IntegrityError
    from .inputs import decode_text, read_side_file

    if not os.path.lexists(path):
        return None
    return decode_text(read_side_file(path, rel, IntegrityError, limit=64 * 1024 * 1024), rel, rel, IntegrityError)


def _cell(text: Any) -> str:
    return "-" if text in (None, "") else str(text).replace("|", "\\|").replace("\n", " ")


def _approval_rule(
    stage: str,
    approvers: list[str] | None,
    min_approvals: int,
    allow_self_approval: bool | None,
    signed: bool,
    signers_file: str | None,
) -> dict[str, Any]:
    """One approval rule of registry.yaml (SPEC §5, §6), checked before anything is written."""
    from . import lifecycle as L

    L.check_stage(stage)
    if signers_file is not None and not signed:
        from .errors import UsageError

        raise UsageError("a signers file is for signed approvals", hint="add --signed (API: signed=True)")
    rule: dict[str, Any] = {"approvers": list(approvers or []), "min_approvals": int(min_approvals)}
    if allow_self_approval is not None:
        rule["allow_self_approval"] = bool(allow_self_approval)
    if signed:
        rule["signed"] = True
    return rule


class Workflow:
    """Mixed into ModelRegistry; uses its layout, clock, index and transaction."""

    if TYPE_CHECKING:  # provided by ModelRegistry
        layout: Layout

        @property
        def root(self) -> Path: ...
        def index(self) -> Index: ...
        def source(self) -> Source: ...
        def _now(self) -> str: ...
        def _write(
            self, *, allow_dirty: bool = False, adopt: tuple[str, ...] = ()
        ) -> AbstractContextManager[Transaction]: ...
        def _read_metadata(self, rec: dict[str, Any]) -> dict[str, Any]: ...
        def _refresh_derived(self, tx: Transaction, increments: set[str]) -> None: ...
        def _verified(self, meta: dict[str, Any], rec: dict[str, Any]) -> ModelVersion: ...
        def _version_of(
            self,
            meta: dict[str, Any],
            rec: dict[str, Any],
            commit: str | None = None,
            verified: bool = False,
            warnings: tuple[str, ...] = (),
        ) -> ModelVersion: ...
        def _rewrite_metadata(
            self, tx: Transaction, rec: dict[str, Any], change: Callable[[dict[str, Any]], None]
        ) -> dict[str, Any]: ...

    # -- shared pieces -----------------------------------------------------------------
    def _stage_change(
        self,
        tx: Transaction,
        rec: dict[str, Any],
        *,
        event: str,
        to: str,
        seq: int,
        reason: str | None,
        forced: bool = False,
        auto: bool = False,
    ) -> dict[str, Any]:
        """Move one version to ``to``: rewrite its metadata and append a deployment_history.md row."""
        now = self._now()
        entry = {
            "seq": seq,
            "event": event,
            "from": rec["stage"],
            "to": to,
            "at": now,
            "by": tx.actor,
            "reason": reason,
            "forced": forced,
        }
        if auto:  # done by registry-monitor on its own (SPEC §7.8)
            entry["auto"] = True

        def change(meta: dict[str, Any]) -> None:
            meta["stage"] = to
            meta.setdefault("stage_history", []).append(entry)

        meta = self._rewrite_metadata(tx, rec, change)
        inc_rel = rec["dir"].rsplit("/models/", 1)[0]
        rel = f"{inc_rel}/registry/deployment_history.md"
        path = self.layout.abs(rel)
        text = _read_text_exact(path, rel) or HISTORY_HEADER
        if not text.endswith("\n"):
            text += "\n"
        text += (
            f"| {now} | {_cell(rec['name'])} | v{rec['version']} | {_cell(rec['stage'])} | {to} | "
            f"{_cell(tx.actor)} | {_cell(reason)} |\n"
        )
        tx.write(rel, text.encode("utf-8"), durable=False)  # prose for people; git history is the record
        return meta

    def _move(
        self,
        tx: Transaction,
        rec: dict[str, Any],
        event: str,
        to: str,
        reason: str | None,
        forced: bool,
        displaced: dict[str, Any] | None,
        displaced_reason: str,
        *,
        auto: bool = False,
    ) -> tuple[list[str], set[str]]:
        """Move ``rec`` to ``to`` and archive the version it displaces, as consecutive seqs of one write.

        Returns the seqs (for the Registry-Seq trailer) and the increments whose derived files changed.
        ``auto`` marks both stage changes as made by an auto-rollback.
        """
        seq = tx.index.max_seq(rec["name"]) + 1
        self._stage_change(tx, rec, event=event, to=to, seq=seq, reason=reason, forced=forced, auto=auto)
        seqs, incs = [str(seq)], {self._inc(rec)}
        if displaced is not None:
            self._stage_change(
                tx, displaced, event="archive", to="archived", seq=seq + 1, reason=displaced_reason, auto=auto
            )
            seqs.append(str(seq + 1))
            incs.add(self._inc(displaced))
        return seqs, incs

    def _finish(
        self,
        tx: Transaction,
        increments: set[str],
        subject: str,
        trailers: dict[str, str | None],
        author: tuple[str, str] | None = None,
        sign: bool = False,
    ) -> str | None:
        self._refresh_derived(tx, increments)
        return tx.commit(subject, trailers, body=trailers.get("Reason"), author=author, sign=sign)

    @staticmethod
    def _inc(rec: dict[str, Any]) -> str:
        return str(rec["increment"])

    # -- promote -------------------------------------------------------------------------
    @pushes
    def promote_model(
        self,
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
        from . import lifecycle as L
        from .results import PromoteResult

        V.validate_name(name)
        ver = V.canonical(version)
        L.check_stage(to_stage)
        if from_stage is not None:
            L.check_stage(from_stage)
        with self._write() as tx:
            index = tx.index
            rec = index.get(name, ver)
            ref = f"{name}@{ver}"
            move = L.plan_promotion(
                rec["stage"],
                to_stage,
                from_stage=from_stage,
                force=force,
                reason=reason,
                deprecated=rec["deprecated"],
                ref=ref,
            )
            if move.noop:
                return PromoteResult(name, ver, rec["stage"], to_stage, None, None, tx.actor)
            if to_stage in L.EXCLUSIVE:
                rule = index.policy.approval(name, to_stage)
                if rule is None and approval_required:
                    rule = {"approvers": [], "min_approvals": 1, "allow_self_approval": True}
                meta = self._read_metadata(rec)
                approvals = meta.get("approvals") or []
                if rule is not None and (rule.get("signed") or index.policy.require_signed):
                    from .signing import check_signed_approvals

                    check_signed_approvals(tx.repo, index.policy, name, ver, to_stage, rule, approvals, meta)
                else:
                    L.check_approvals(rule, approvals, to_stage, meta.get("created_by"), ref)
            holder = index.holder(name, to_stage) if to_stage in L.EXCLUSIVE else None
            holder = holder if holder is not None and holder["version"] != ver else None
            replaced = holder["version"] if holder else None
            seqs, incs = self._move(tx, rec, "promote", to_stage, reason, move.forced, holder, f"replaced by v{ver}")
            commit = self._finish(
                tx,
                incs,
                f"registry: promote {name} v{ver} {rec['stage']} -> {to_stage}",
                {
                    "Event": "promote",
                    "Model": name,
                    "Version": ver,
                    "From": rec["stage"],
                    "To": to_stage,
                    "Actor": tx.actor,
                    "Reason": reason,
                    "Forced": "true" if move.forced else None,
                    "Replaced": replaced,
                    "Seq": ",".join(seqs),
                },
            )
            return PromoteResult(
                name, ver, rec["stage"], to_stage, replaced, commit, tx.actor, move.forced, tuple(tx.warnings)
            )

    # -- approve -------------------------------------------------------------------------
    @pushes
    def approve_model(
        self,
        name: str,
        version: str,
        approver: str | None = None,
        comments: str | None = None,
        stage: str = "production",
    ) -> ApproveResult:
        """Record an approval of a version for a stage; the commit is authored by the approver."""
        from . import lifecycle as L
        from .results import ApproveResult

        V.validate_name(name)
        ver = V.canonical(version)
        L.check_stage(stage)
        if stage not in L.EXCLUSIVE:
            from .errors import InvalidInput

            raise InvalidInput(f"approvals are for staging or production, not {stage}", hint="use --stage production")
        with self._write() as tx:
            index = tx.index
            rec = index.get(name, ver)
            who = approver or tx.actor
            ref = f"{name}@{ver}"
            meta = self._read_metadata(rec)
            rule = index.policy.approval(name, stage)
            L.check_approver(rule, who, meta.get("created_by"), stage, ref)
            signed = bool(rule and rule.get("signed")) or index.policy.require_signed
            key = None
            if signed:  # SPEC §6: refused before anything is written unless the user's key is listed for ``who``
                from .signing import check_approver_key

                key = check_approver_key(tx.repo, index.policy, who).fingerprint
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
            entry = {"stage": stage, "approver": who, "at": self._now(), "comment": comments, "seq": seq}
            if key:
                entry["signing_key"] = key  # the approval claims a signature: verify and promotion check it
            self._rewrite_metadata(tx, rec, lambda m: m.setdefault("approvals", []).append(entry))
            have = len(L.valid_approvals(counted, [*approvals, entry], stage, meta.get("created_by")))
            commit = self._finish(
                tx,
                {self._inc(rec)},
                f"registry: approve {name} v{ver} for {stage}",
                {
                    "Event": "approve",
                    "Model": name,
                    "Version": ver,
                    "To": stage,
                    "Actor": who,
                    "Approver": who,
                    "Reason": comments,
                    "Seq": str(seq),
                },
                author=(who.split("@", 1)[0] or who, who),
                sign=signed,
            )
            return ApproveResult(name, ver, stage, who, have, required, commit, tuple(tx.warnings), key)

    # -- rollback ------------------------------------------------------------------------
    @pushes
    def rollback(
        self, name: str, to_version: str | None = None, reason: str | None = None, *, force: bool = False
    ) -> RollbackResult:
        """Make an earlier production version production again, in one commit; no approval needed."""
        from . import lifecycle as L
        from .results import RollbackResult

        V.validate_name(name)
        target_ver = V.canonical(to_version) if to_version is not None else None
        if force and not (reason and reason.strip()):
            from .errors import UsageError

            raise UsageError("--force needs a --reason", hint="say why the rule is being bypassed: --reason TEXT")
        with self._write() as tx:
            index = tx.index
            recs = index.versions_of(name)
            evts = L.stage_events(recs)
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
            self._verified(self._read_metadata(target), target)  # in git, or fetched from the store and hashed
            seqs, incs = self._move(
                tx,
                target,
                "rollback",
                "production",
                reason,
                force,
                current,
                f"rolled back to v{target_ver}" + (f": {reason}" if reason else ""),
            )
            commit = self._finish(
                tx,
                incs,
                f"registry: rollback {name} to v{target_ver}",
                {
                    "Event": "rollback",
                    "Model": name,
                    "Version": target_ver,
                    "From": target["stage"],
                    "To": "production",
                    "Actor": tx.actor,
                    "Reason": reason,
                    "Forced": "true" if force else None,
                    "Replaced": current_ver,
                    "Seq": ",".join(seqs),
                },
            )
            return RollbackResult(name, current_ver, target_ver, reason, commit, tx.actor, tuple(tx.warnings))

    # -- deprecate -----------------------------------------------------------------------
    @pushes
    def deprecate_model(
        self,
        name: str,
        version: str,
        reason: str,
        end_of_life: str | None = None,
        *,
        force: bool = False,
    ) -> DeprecateResult:
        from . import lifecycle as L
        from .results import DeprecateResult

        V.validate_name(name)
        ver = V.canonical(version)
        eol = L.check_date(end_of_life)
        if not (reason and str(reason).strip()):
            from .errors import UsageError

            raise UsageError("deprecation needs a reason", hint="pass --reason TEXT")
        with self._write() as tx:
            index = tx.index
            rec = index.get(name, ver)
            if rec["stage"] == "production" and not force:
                raise InvalidTransition(
                    f"{name}@{ver} is the production version",
                    hint="promote or roll back to another version first, or pass --force",
                )
            meta = self._read_metadata(rec)
            dep = meta.get("deprecation") or {}
            if dep and dep.get("reason") == reason and dep.get("end_of_life") == eol:
                return DeprecateResult(name, ver, reason, eol, None, tx.actor)
            seq = index.max_seq(name) + 1
            entry = {"reason": reason, "end_of_life": eol, "at": self._now(), "by": tx.actor, "seq": seq}
            self._rewrite_metadata(tx, rec, lambda m: m.__setitem__("deprecation", entry))
            commit = self._finish(
                tx,
                {self._inc(rec)},
                f"registry: deprecate {name} v{ver}",
                {
                    "Event": "deprecate",
                    "Model": name,
                    "Version": ver,
                    "Actor": tx.actor,
                    "Reason": reason,
                    "Forced": "true" if force and rec["stage"] == "production" else None,
                    "Seq": str(seq),
                },
            )
            return DeprecateResult(name, ver, reason, eol, commit, tx.actor, tuple(tx.warnings))

    # -- policy --------------------------------------------------------------------------
    def _write_policy(
        self, tx: Transaction, data: dict[str, Any], subject: str, name: str | None, reason: str | None = None
    ) -> ChangeResult:
        import yaml

        from .policy import validate
        from .results import ChangeResult

        validate(data)
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
        if not tx.write_if_changed(".specweave/registry.yaml", text.encode("utf-8")):
            return ChangeResult(False, None)
        commit = tx.commit(
            subject, {"Event": "policy", "Model": name, "Actor": tx.actor, "Reason": reason}, body=reason
        )
        return ChangeResult(True, commit, tuple(tx.warnings))

    @pushes
    def set_approval_required(
        self,
        stage: str = "production",
        approvers: list[str] | None = None,
        name: str | None = None,
        *,
        min_approvals: int = 1,
        allow_self_approval: bool | None = None,
        signed: bool = False,
        signers_file: str | None = None,
    ) -> ChangeResult:
        """Require approvals to promote into ``stage``, for one model or (name None) every model.

        ``signed``: an approval counts only while its commit's signature verifies against a key the signers file
        (``signers_file``, default ``.specweave/allowed_signers`` unless registry.yaml names one) lists for the
        approver (SPEC §6)."""
        if name is not None:
            V.validate_name(name)
        rule = _approval_rule(stage, approvers, min_approvals, allow_self_approval, signed, signers_file)
        with self._write() as tx:
            data = copy.deepcopy(tx.index.policy.data) or {"schema_version": 1}
            if name is None:
                section = data.setdefault("defaults", {})
            else:
                section = data.setdefault("models", {}).setdefault(name, {})
            self._set_approval(data, section, stage, rule, signers_file)
            who = name or "every model"
            return self._write_policy(tx, data, f"registry: require approval for {stage} ({who})", name)

    def _set_approval(
        self, data: dict[str, Any], section: dict[str, Any], stage: str, rule: dict[str, Any], signers_file: str | None
    ) -> None:
        """Put ``rule`` in ``section``; a signed rule also names the signers file in registry.yaml (SPEC §6)."""
        section.setdefault("approval", {})[stage] = rule
        if rule.get("signed"):
            from .signing import DEFAULT_SIGNERS_FILE, project_path

            if signers_file is not None:
                data["signers_file"] = project_path(self.layout, signers_file)
            else:
                data["signers_file"] = data.get("signers_file") or DEFAULT_SIGNERS_FILE

    def set_model_policy(
        self,
        name: str,
        *,
        owner: str | None = None,
        primary_metric: str | None = None,
        triggers: dict[str, Any] | None = None,
    ) -> ChangeResult:
        """Set a model's owner, primary metric or auto-rollback triggers (one commit; see ``update_policy``)."""
        return self.update_policy(name, owner=owner, primary_metric=primary_metric, triggers=triggers)

    @pushes
    def update_policy(
        self,
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
            rule = _approval_rule(require_approval, approvers, min_approvals, allow_self_approval, signed, signers_file)
        elif signed or signers_file is not None:
            from .errors import UsageError

            raise UsageError(
                "--signed makes an approval rule signed", hint="add --require-approval STAGE --approver EMAIL"
            )
        with self._write() as tx:
            data = copy.deepcopy(tx.index.policy.data) or {"schema_version": 1}
            section = data.setdefault("models", {}).setdefault(name, {})
            if require_approval is not None and rule is not None:
                self._set_approval(data, section, require_approval, rule, signers_file)
            if owner is not None:
                section["owner"] = owner
            if primary_metric is not None:
                section["primary_metric"] = primary_metric
            if triggers:
                section.setdefault("auto_rollback", {}).update(triggers)
            return self._write_policy(tx, data, f"registry: policy for {name}", name, reason=reason)

    @pushes
    def commit_policy(self, reason: str | None = None, name: str | None = None) -> ChangeResult:
        """``registry-policy --commit``: validate .specweave/registry.yaml as it is on disk (a hand edit) and
        commit it (event policy). Unchanged from HEAD: nothing to do, ``commit`` None (SPEC §5)."""
        from .results import ChangeResult
        from .store.index import read_policy_file

        if name is not None:
            V.validate_name(name)
        rel = ".specweave/registry.yaml"
        with self._write(adopt=(rel,)) as tx:
            read_policy_file(self.layout)  # the file as it is now, under the lock: parse, bound, validate
            if not tx.adopted:
                return ChangeResult(False, None)
            commit = tx.commit(
                "registry: commit a hand edit of registry.yaml",
                {"Event": "policy", "Model": name, "Actor": tx.actor, "Reason": reason},
                body=reason,
            )
            return ChangeResult(True, commit, tuple(tx.warnings))

    # -- signature -------------------------------------------------------------------------
    @pushes
    def set_model_signature(
        self, model: str, inputs: dict[str, str] | None = None, outputs: dict[str, str] | None = None
    ) -> ModelVersion:
        """Set the input/output signature of ``NAME@VERSION`` (features.yaml follows its inputs); one commit."""
        from .metadata import merge_signature, normalize_signature
        from .store import yamlout

        name, version = V.parse_ref(model)
        signature = normalize_signature({"inputs": inputs or {}, "outputs": outputs or {}})
        sig, feats = merge_signature(signature, [])
        with self._write() as tx:
            rec = tx.index.get(name, version)
            meta = self._read_metadata(rec)
            if meta.get("signature") == sig and meta.get("features") == feats:
                return self._version_of(meta, rec)

            def change(m: dict[str, Any]) -> None:
                m["signature"], m["features"] = sig, feats

            meta = self._rewrite_metadata(tx, rec, change)
            tx.write(f"{rec['dir']}/features.yaml", yamlout.dump({"features": feats}).encode("utf-8"))
            commit = self._finish(
                tx,
                {self._inc(rec)},
                f"registry: signature of {name} v{version}",
                {"Event": "signature", "Model": name, "Version": version, "Actor": tx.actor},
            )
            return self._version_of(meta, tx.index.get(name, version), commit, warnings=tuple(tx.warnings))

    # -- living docs -----------------------------------------------------------------------
    def _docs_text(self, index: Index) -> tuple[str, str | None, str]:
        """(docs path, its current text or None, the text it should have)."""
        from . import docs

        rel = self.layout.docs_rel(index.policy.docs_path)
        path = self.layout.abs(rel)
        current = _read_text_exact(path, rel)
        from .monitor import doc_status

        models = [(n, index.records_of(n), index.policy.primary_metric(n)) for n in index.names()]
        monitoring = {n: st for n in index.names() if (st := doc_status(self.source(), index, n)) is not None}
        return rel, current, docs.splice(current, docs.render(models, monitoring))

    @pushes
    def sync_docs(self) -> dict[str, Any]:
        """Rewrite the living doc's generated block; one commit when it changed (event docs)."""
        with self._write() as tx:
            rel, current, wanted = self._docs_text(tx.index)
            if current == wanted:
                return {"path": str(self.layout.abs(rel)), "changed": False, "commit": None}
            tx.write(rel, wanted.encode("utf-8"))
            commit = tx.commit("registry: update the living doc", {"Event": "docs", "Actor": tx.actor})
            out: dict[str, Any] = {"path": str(self.layout.abs(rel)), "changed": True, "commit": commit}
            if tx.warnings:
                out["warnings"] = list(tx.warnings)
            return out

    def review_docs(self) -> dict[str, Any]:
        """What sync-docs would change, as a unified diff; writes nothing."""
        import difflib

        rel, current, wanted = self._docs_text(self.index())
        diff = "".join(
            difflib.unified_diff(
                (current or "").splitlines(keepends=True),
                wanted.splitlines(keepends=True),
                fromfile=f"a/{rel}",
                tofile=f"b/{rel}",
            )
        )
        return {"path": str(self.layout.abs(rel)), "changed": current != wanted, "commit": None, "diff": diff}

    # -- compare ---------------------------------------------------------------------------
    def compare_models(self, model_a: str, model_b: str) -> Comparison:
        """Compare ``NAME@V1`` with ``NAME@V2`` (SPEC §7.10): metrics, artifact size, features, hyperparameters,
        signature compatibility and a recommendation."""
        from . import compare
        from .results import Comparison

        index = self.index()
        metas = []
        for ref in (model_a, model_b):
            name, version = V.parse_ref(ref)
            metas.append(self._read_metadata(index.get(name, version)))
        return Comparison(compare.compare(metas[0], metas[1], index.policy.lower_is_better))

    # -- lineage ---------------------------------------------------------------------------
    def get_lineage(
        self,
        name: str | None = None,
        version: str | None = None,
        *,
        uses: str | None = None,
        feature: str | None = None,
    ) -> Lineage:
        """The lineage graph of a model, of one version (with its parents), of the versions that use a node
        (``uses="data:v2024-01"``), or of the versions with a feature."""
        from . import lineage
        from .errors import UsageError
        from .results import Lineage

        if sum(x is not None for x in (name, uses, feature)) != 1:
            raise UsageError(
                "ask about one thing: a model, --uses NODE or --feature NAME",
                hint="e.g. registry-lineage fraud-model v3.1.0, or --uses data:v2024-01",
            )
        index = self.index()
        canonical = V.canonical(version) if version is not None else None
        if name is not None:
            V.validate_name(name)
            index.versions_of(name)  # not_found for an unknown model
            if canonical is not None:
                index.get(name, canonical)
        every = [r for n in index.names() for r in index.records_of(n)]  # parents may be other models
        chosen = lineage.select(every, name=name, version=canonical, uses=uses, feature=feature)
        g = lineage.graph(chosen)
        refs = [f"{r['name']}@{r['version']}" for r in chosen]
        return Lineage(
            g["nodes"],
            g["edges"],
            refs,
            chains={ref: lineage.chain(r) for ref, r in zip(refs, chosen)},
            parents={ref: (r.get("lineage") or {}).get("parent") for ref, r in zip(refs, chosen)},
        )

    # -- history ---------------------------------------------------------------------------
    def history(self, name: str) -> History:
        """Every event of a model (register, promote, archive, rollback, approve, deprecate) in seq order."""
        from .results import History, HistoryEvent

        V.validate_name(name)
        index = self.index()
        recs = index.versions_of(name)
        # from the index's records (stat-validated cache), not by reading every version's metadata.json
        from .store.index import EVENT_FIELDS

        raw: list[dict[str, Any]] = [
            {**dict(zip(EVENT_FIELDS, e)), "version": rec["version"]} for rec in recs for e in rec["events"]
        ]
        raw.sort(key=lambda e: (e.get("seq") is None, e.get("seq") or 0, e.get("at") or ""))
        commits = self._seq_commits(name)
        events = [
            HistoryEvent(
                str(e.get("event")),
                e["version"],
                e.get("from"),
                e.get("to"),
                e.get("at"),
                e.get("by"),
                e.get("reason"),
                commits.get(e.get("seq") or -1),
                e.get("seq") or 0,
                bool(e.get("forced")),
                bool(e.get("auto")),
            )
            for e in raw
        ]
        return History(name, events)

    def _seq_commits(self, name: str) -> dict[int, str]:
        from .errors import RegistryError
        from .gitops import open_repo
        from .store import seqcache

        try:
            return seqcache.seq_commits(self.layout, open_repo(self.root), name)
        except RegistryError:
            return {}  # no git here: history still comes from the files


def production_at(index: Any, name: str, date: str, read: Any) -> dict[str, Any]:
    """The version of ``name`` that was in production at ``date`` (SPEC §7.13), from seq-ordered events."""
    from . import lifecycle as L

    instant = L.to_instant(date)
    recs = index.versions_of(name)
    version = L.holder_at(L.stage_events(recs), "production", instant)
    if version is None:
        raise NotFound(
            f"no version of {name} was in production at {instant}", hint=f"see 'sw-registry registry-history {name}'"
        )
    return dict(index.get(name, version))
