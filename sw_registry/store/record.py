"""The one builder of a stage event: the entry a version's ``stage_history`` gets for every stage change
(register, promote, archive, rollback), as SPEC §4 lays it out."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any



def stage_event(
    seq: int,
    event: str,
    frm: str | None,
    to: str,
    at: str,
    by: str | None,
    reason: str | None = None,
    *,
    forced: bool = False,
    auto: bool = False,
) -> dict[str, Any]:
    """One ``stage_history`` entry; ``auto`` (a stage change registry-monitor made on its own) only when set."""
    entry: dict[str, Any] = {
        "seq": seq,
        "event": event,
        "from": frm,
        "to": to,
        "at": at,
        "by": by,
        "reason": reason,
        "forced": forced,
    }
    if auto:
        entry["auto"] = True
    return entry

