"""Promoting into an environment, the other registry's side (SPEC §11; see environments.py for the flow).

Inside the other registry, under its own write lock and rules: copy the version in when it is new there
(into the same increment id; the artifact where that registry keeps artifacts), or move the copy it already
has; approvals and exclusivity are that registry's own; one commit with a ``Registry-Source`` trailer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AlreadyExists, IntegrityError
from .layout import HISTORY_FILE
from .ops import moves as M
from .ops.common import object_store, read_metadata

if TYPE_CHECKING:
    from .registry import ModelRegistry
    from .store.index import Record
    from .transaction import Transaction


@dataclass(frozen=True)
class Landed:
    from_stage: str | None
    replaced: str | None
    commit: str | None  # publish() reads this: None means there was nothing to do
    actor: str
    forced: bool
    head: str | None  # the other registry's HEAD after the landing
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class SourceVersion:
    """The version being promoted, as read and verified in the source registry."""

    rec: Record
    meta: dict[str, Any]
    folder: Path  # its version folder there
    artifact: Path  # a verified local copy of its artifact (in git, or fetched from the object store)
    ref: str  # "<source registry>@<its HEAD>": the Registry-Source trailer of the commit here


def land(target: ModelRegistry, source: SourceVersion, to: str, reason: str | None, force: bool) -> Landed:
    """Inside the other registry: copy (if new) and put the version in ``to`` under its own rules; one commit."""
    from . import lifecycle as L

    src, src_meta, source_ref = source.rec, source.meta, source.ref
    name, ver = str(src["name"]), str(src["version"])
    ref = f"{name}@{ver}"
    sha = (src_meta.get("artifact") or {}).get("sha256")
    with target.ctx.write() as tx:
        index = tx.index
        have = index.find(name, ver)
        holder = index.holder(name, to) if to in L.EXCLUSIVE else None
        holder = holder if holder is not None and holder["version"] != ver else None
        replaced = holder["version"] if holder else None
        rule = index.policy.approval(name, to) if to in L.EXCLUSIVE else None
        if have is not None:
            if (have.get("artifact") or {}).get("sha256") != sha:
                raise AlreadyExists(
                    f"{ref} exists there with a different artifact",
                    hint="register a new version here and promote that one",
                    details={"path": have["dir"]},
                )
            move = L.plan_promotion(
                have["stage"], to, force=force, reason=reason, deprecated=have["deprecated"], ref=ref
            )
            if move.noop:
                return Landed(have["stage"], None, None, tx.actor, False, tx.head, ())
            tmeta = read_metadata(target.ctx, have)
            L.check_approvals(rule, tmeta.get("approvals") or [], to, tmeta.get("created_by"), ref)
            seqs, incs = M.move(target.ctx, tx, have, "promote", to, reason, move.forced, holder, f"replaced by v{ver}")
            from_stage: str | None = have["stage"]
            forced = move.forced
        else:
            if src_meta.get("deprecation") and not force:
                from .errors import Deprecated

                raise Deprecated(
                    f"{ref} is deprecated and cannot be promoted to another registry",
                    hint="pick another version, or pass --force with --reason",
                )
            L.check_approvals(rule, [], to, src_meta.get("created_by"), ref)
            seqs, incs = _copy_in(target, tx, source, to, reason, holder)
            from_stage, forced = None, False
        commit = M.finish(
            target.ctx, tx, incs,
            f"registry: promote {name} v{ver} {from_stage or 'from ' + source_ref.rsplit('@', 1)[0]} -> {to}",
            {
                "Event": "promote",
                "Model": name,
                "Version": ver,
                "From": from_stage,
                "To": to,
                "Actor": tx.actor,
                "Reason": reason,
                "Forced": "true" if forced else None,
                "Replaced": replaced,
                "Seq": ",".join(seqs),
                "Source": source_ref,
            },
        )
        return Landed(from_stage, replaced, commit, tx.actor, forced, commit, tuple(tx.warnings))


def _copy_in(
    target: ModelRegistry, tx: Transaction, c: SourceVersion, to: str, reason: str | None, holder: Record | None
) -> tuple[list[str], set[str]]:
    """Copy a version new to the other registry into the same increment id, verify it there, place it in ``to``."""
    from .metadata import ordered
    from .store.files import dump_json

    name, ver = str(c.rec["name"]), str(c.rec["version"])
    inc = target.layout.resolve_increment(str(c.rec["increment"]), create=True)
    folder = target.layout.version_rel(inc, name, ver)
    if target.layout.abs(folder).exists():
        raise IntegrityError(
            f"{folder} exists there but holds no registered version",
            hint="run 'sw-registry registry-verify' in that registry and remove or commit the folder",
            details={"path": folder},
        )
    art = _place_artifact(target, tx, c, folder)
    for side in ("requirements.txt", "features.yaml"):
        data = (c.folder / side).read_bytes() if (c.folder / side).is_file() else b""
        tx.write(f"{folder}/{side}", data)
    now = target.ctx.now()
    seq = tx.index.max_seq(name) + 1
    tx.write(f"{folder}/metadata.json", dump_json(ordered(_copied_metadata(c, art, inc.id, to, now, seq, tx, reason))))
    _append_history(target, tx, inc.rel, now, name, ver, c.ref, to, reason)
    seqs, incs = [str(seq)], {inc.id}
    if holder is not None:
        M.stage_change(
            target.ctx, tx, holder, event="archive", to="archived", seq=seq + 1, reason=f"replaced by v{ver}"
        )
        seqs.append(str(seq + 1))
        incs.add(str(holder["increment"]))
    return seqs, incs


def _place_artifact(target: ModelRegistry, tx: Transaction, c: SourceVersion, folder: str) -> dict[str, Any]:
    """The artifact where the other registry keeps artifacts, verified there; its new ``artifact`` metadata.

    The other registry's own ``artifact_store`` decides: into the version folder (git), or a content-addressed
    upload to its object store (nothing sent when the object is there already, as when both share one store).
    """
    from .store.artifacts import copy_artifact, verify_artifact

    name, ver = str(c.rec["name"]), str(c.rec["version"])
    art = dict(c.meta.get("artifact") or {})
    dest = tx.make_dir(folder)
    store = object_store(target.ctx, tx.index.policy)
    if store is not None:
        from .store.objectstore import upload_artifact

        # before any metadata is written: a failed upload (store_error) leaves nothing behind, on either side
        placed = upload_artifact(store, c.artifact)  # hashes the bytes it reads, and again the bytes it sends
        if not placed.pop("uploaded"):
            tx.warnings.append(f"artifact already in the store ({placed['store']}); nothing uploaded")
        if placed["sha256"] != art.get("sha256"):
            raise IntegrityError(
                f"{name}@{ver}: the artifact uploaded to {placed['store']} hashes {placed['sha256']}, "
                f"metadata says {art.get('sha256')}",
                hint="the artifact changed while it was being promoted; run registry-verify and promote again",
            )
    else:
        placed = copy_artifact(c.artifact, dest / str(art["path"]))
        verify_artifact(dest / str(art["path"]), art, f"{name}@{ver} (copied)")  # its hash, read back there
    art.pop("files", None)
    art.update(placed)  # where this registry keeps it (store, files); format and the rest as the source says
    return art


def _copied_metadata(
    c: SourceVersion, art: dict[str, Any], inc_id: str, to: str, now: str, seq: int, tx: Transaction, reason: str | None
) -> dict[str, Any]:
    """The source's metadata as the other registry's own: its stage, no approvals or links, one stage event."""
    meta = copy.deepcopy(c.meta)
    meta.pop("environments", None)  # the source's links are not this registry's
    registry, commit = c.ref.rsplit("@", 1)
    event = {
        "seq": seq,
        "event": "promote",
        "from": None,
        "to": to,
        "at": now,
        "by": tx.actor,
        "reason": reason,
        "forced": False,
        "source": c.ref,
    }
    meta.update(
        {
            "artifact": art,
            "increment": inc_id,
            "stage": to,
            "updated_at": now,
            "approvals": [],  # approvals are this registry's own
            "deprecation": None,
            "stage_history": [event],
            "source": {"registry": registry, "commit": commit},
        }
    )
    return meta


def _append_history(
    target: ModelRegistry,
    tx: Transaction,
    inc_rel: str,
    now: str,
    name: str,
    ver: str,
    source_ref: str,
    to: str,
    reason: str | None,
) -> None:
    """A row in the increment's deployment_history.md of the other registry."""
    from .ops.moves import HISTORY_HEADER
    from .ops.moves import cell as _cell

    rel = target.layout.registry_rel(inc_rel, HISTORY_FILE)
    path = target.layout.abs(rel)
    text = path.read_text(encoding="utf-8") if path.exists() else HISTORY_HEADER
    text += ("" if text.endswith("\n") else "\n") + (
        f"| {now} | {_cell(name)} | v{ver} | from {_cell(source_ref)} | {to} | {_cell(tx.actor)} | {_cell(reason)} |\n"
    )
    tx.write(rel, text.encode("utf-8"), durable=False)
