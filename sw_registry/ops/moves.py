"""The write pieces every stage change shares: move a version (its metadata and a deployment_history.md row),
archive the version it displaces, the Registry-* trailers of a stage change, and the closing commit."""

from __future__ import annotations

from pathlib import Path

from ..store.record import stage_event
from .common import refresh_derived, rewrite_metadata

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..store.records import Record
    from ..transaction import Transaction
    from .context import Context

HISTORY_HEADER = (
    "# Deployment history\n\n"
    "Stage changes of the model versions in this increment, appended by sw-registry.\n"
    "Git history (Registry-* trailers) is the record; this page is for people.\n\n"
    "| Time | Model | Version | From | To | Actor | Reason |\n"
    "|---|---|---|---|---|---|---|\n"
)


def read_text_exact(path: Path, rel: str) -> str | None:
    """A registry text file exactly as stored (CRLF stays CRLF), or None when it does not exist; a folder,
    FIFO, device, huge or non-UTF-8 file there is an ``integrity`` error naming it."""
    import os

    from ..errors import IntegrityError
    from ..inputs import decode_text, read_side_file

    if not os.path.lexists(path):
        return None
    return decode_text(read_side_file(path, rel, IntegrityError, limit=64 * 1024 * 1024), rel, rel, IntegrityError)


def cell(text: Any) -> str:
    """A deployment_history.md table cell."""
    return "-" if text in (None, "") else str(text).replace("|", "\\|").replace("\n", " ")


def stage_change(
    ctx: Context,
    tx: Transaction,
    rec: Record,
    *,
    event: str,
    to: str,
    seq: int,
    reason: str | None,
    forced: bool = False,
    auto: bool = False,
) -> dict[str, Any]:
    """Move one version to ``to``: rewrite its metadata and append a deployment_history.md row.

    ``auto``: done by registry-monitor on its own (SPEC §7.8)."""
    now = ctx.now()
    entry = stage_event(seq, event, rec["stage"], to, now, tx.actor, reason, forced=forced, auto=auto)

    def change(meta: dict[str, Any]) -> None:
        meta["stage"] = to
        meta.setdefault("stage_history", []).append(entry)

    meta = rewrite_metadata(ctx, tx, rec, change)
    rel = ctx.layout.history_rel(rec["dir"])
    row = (
        f"| {now} | {cell(rec['name'])} | v{rec['version']} | {cell(rec['stage'])} | {to} | "
        f"{cell(tx.actor)} | {cell(reason)} |\n"
    )
    if not tx.append(rel, row.encode("utf-8"), limit=64 * 1024 * 1024):  # in place: not read, not rewritten
        text = read_text_exact(ctx.layout.abs(rel), rel) or HISTORY_HEADER
        text += row if text.endswith("\n") else "\n" + row
        tx.write(rel, text.encode("utf-8"), durable=False)  # prose for people; git history is the record
    return meta


def move(
    ctx: Context,
    tx: Transaction,
    rec: Record,
    event: str,
    to: str,
    reason: str | None,
    forced: bool,
    displaced: Record | None,
    displaced_reason: str,
    *,
    auto: bool = False,
) -> tuple[list[str], set[str]]:
    """Move ``rec`` to ``to`` and archive the version it displaces, as consecutive seqs of one write.

    Returns the seqs (for the Registry-Seq trailer) and the increments whose derived files changed.
    ``auto`` marks both stage changes as made by an auto-rollback.
    """
    seq = tx.index.max_seq(rec["name"]) + 1
    stage_change(ctx, tx, rec, event=event, to=to, seq=seq, reason=reason, forced=forced, auto=auto)
    seqs, incs = [str(seq)], {str(rec["increment"])}
    if displaced is not None:
        stage_change(
            ctx, tx, displaced, event="archive", to="archived", seq=seq + 1, reason=displaced_reason, auto=auto
        )
        seqs.append(str(seq + 1))
        incs.add(str(displaced["increment"]))
    return seqs, incs


def move_trailers(
    event: str, rec: Record, to: str, actor: str | None, reason: str | None, *, forced: bool,
    replaced: str | None, seqs: list[str],
) -> dict[str, str | None]:
    """The Registry-* trailers of a stage change that may displace the stage's holder (promote, rollback)."""
    return {
        "Event": event,
        "Model": rec["name"],
        "Version": rec["version"],
        "From": rec["stage"],
        "To": to,
        "Actor": actor,
        "Reason": reason,
        "Forced": "true" if forced else None,
        "Replaced": replaced,
        "Seq": ",".join(seqs),
    }


def finish(
    ctx: Context,
    tx: Transaction,
    increments: set[str],
    subject: str,
    trailers: dict[str, str | None],
    author: tuple[str, str] | None = None,
    sign: bool = False,
) -> str | None:
    """Refresh the derived files of ``increments`` and make the write's one commit (its body: the reason)."""
    refresh_derived(ctx.layout, tx, increments)
    return tx.commit(subject, trailers, body=trailers.get("Reason"), author=author, sign=sign)
