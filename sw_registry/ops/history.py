"""History (SPEC §7.12, §7.13): a model's events in seq order, the production version at a date, and the
governance audit built from git history (the Registry-* trailers; its markdown is in sw_registry/audit.py)."""

from __future__ import annotations

from .. import versions as V
from ..errors import NotFound

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..gitops.history import PendingSeqs
    from ..outcomes import PlainHistory as History
    from ..store.index import Index
    from ..store.records import Record
    from ..store.sources import Source
    from .context import Context


def history(ctx: Context, name: str, since: str | None = None, until: str | None = None) -> History:
    """Every event of a model (register, promote, archive, rollback, approve, deprecate) in seq order; with
    ``since``/``until``, those whose time lies within them (a date: from the start, or to the end, of that UTC day,
    as registry-audit reads them; SPEC §7.12)."""
    from ..outcomes import PlainEvent as HistoryEvent  # the plain forms: ModelRegistry hands out the dataclasses
    from ..outcomes import PlainHistory as History
    from ..store.index import EVENT_FIELDS

    V.validate_name(name)
    low, high = _bound(since, False), _bound(until, True)  # a bad date is refused before anything is read
    repo = _repo(ctx)
    pending = _start_seq_commits(ctx, repo, name)  # git's walk, where one is due, runs while the index reads the files
    try:
        recs = ctx.index().versions_of(name)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    # from the index's records (stat-validated cache), not by reading every version's metadata.json
    raw: list[dict[str, Any]] = [
        {**dict(zip(EVENT_FIELDS, e)), "version": rec["version"]} for rec in recs for e in rec["events"]
    ]
    raw.sort(key=lambda e: (e.get("seq") is None, e.get("seq") or 0, e.get("at") or ""))
    if low is not None or high is not None:
        from ..lifecycle import to_instant

        raw = [e for e in raw if _within(e.get("at"), low, high, to_instant)]
    commits = seq_commits(ctx, repo, name, pending)
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


def _repo(ctx: Context) -> Repo | None:
    """The project's repository; None where there is no git (history then comes from the files alone)."""
    from ..errors import RegistryError
    from ..gitops import open_repo

    try:
        return open_repo(ctx.root)
    except RegistryError:
        return None


def seq_commits(ctx: Context, repo: Repo | None, name: str, pending: PendingSeqs | None = None) -> dict[int, str]:
    """The commit of each seq of ``name`` (a cache over git log); empty where there is no git."""
    from ..errors import RegistryError
    from ..store import seqcache

    try:
        return {} if repo is None else seqcache.seq_commits(ctx.layout, repo, name, pending)
    except RegistryError:
        return {}


def _start_seq_commits(ctx: Context, repo: Repo | None, name: str) -> PendingSeqs | None:
    from ..errors import RegistryError
    from ..store import seqcache

    try:
        return None if repo is None else seqcache.start(ctx.layout, repo, name)
    except RegistryError:
        return None


def production_at(index: Index, name: str, date: str) -> Record:
    """The version of ``name`` that was in production at ``date`` (SPEC §7.13), from seq-ordered events."""
    from .. import lifecycle as L

    instant = L.to_instant(date)
    recs = index.versions_of(name)
    version = L.holder_at(L.stage_events(recs), "production", instant)
    if version is None:
        raise NotFound(
            f"no version of {name} was in production at {instant}", hint=f"see 'sw-registry registry-history {name}'"
        )
    return index.get(name, version).copy()


def _within(at: Any, low: str | None, high: str | None, to_instant: Any) -> bool:
    """Whether an event's time lies within ``low`` and ``high`` (instants as ``to_instant`` writes them); an event
    without a readable time is outside any bound."""
    from ..errors import RegistryError

    try:
        instant = to_instant(at) if isinstance(at, str) else None
    except RegistryError:
        return False
    return instant is not None and (low is None or instant >= low) and (high is None or instant <= high)


def _bound(text: str | None, end: bool) -> str | None:
    """A --since/--until value for git: a date means the start (since) or the end (until) of that UTC day."""
    if not text:
        return None
    from ..lifecycle import to_instant

    instant = to_instant(text)
    return instant[:10] + "T00:00:00Z" if len(str(text).strip()) == 10 and not end else instant


def audit(ctx: Context, name: str | None = None, since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """registry-audit: every registry event in a span, with production deployments, approvals, rollbacks,
    forced moves, and the commits that changed registry files without trailers."""
    from ..gitops import open_repo
    from ..gitops.history import walk_log
    from .verify import classify_untracked

    repo = open_repo(ctx.root)
    index = ctx.index()
    source = ctx.source()  # one for every deployment's metadata (at --rev: one listing of that commit's tree)
    commit = getattr(source, "commit", None) if ctx.rev else None  # --rev: the log as of that commit
    events, deployments, approvals, unmarked = [], [], [], []
    # newest first, as git prints the log: each commit's record is made, turned into its event and dropped (the
    # whole log is 18 MB of records at 10,002 versions); the lists are put oldest first at the end
    for c in walk_log(repo, _bound(since, False), _bound(until, True), commit):
        t: dict[str, str] = c["trailers"]
        if not c["event"]:
            unmarked.append(c)
        if not c["event"] or (name is not None and t.get("model") != name):
            continue
        event = _event(c)
        events.append(event)
        if event["event"] == "approve":
            approvals.append(
                {
                    "model": event["model"],
                    "version": event["version"],
                    "stage": event["to"],
                    "approver": t.get("approver") or event["actor"],
                    "author": c["author"],
                    "at": c["date"],
                    "comment": event["reason"],
                    "commit": c["commit"],
                }
            )
        if event["to"] == "production" and event["event"] in ("promote", "rollback"):
            deployments.append(_deployment(ctx, index, event, source))
    for made in (events, deployments, approvals, unmarked):
        made.reverse()
    unaudited, other = classify_untracked(unmarked, ctx.layout)
    if name is not None:  # this model's version folders, and registry.yaml (which holds every model's policy)
        unaudited = [u for u in unaudited if any(ctx.layout.is_model_version_path(p, name) for p in u["paths"])]
    if approvals:  # signer, key fingerprint and signature status of each approval (SPEC §6)
        from ..signing import audit_signatures

        audit_signatures(repo, index.policy, approvals)
    return {
        "model": name,
        "since": since,
        "until": until,
        "events": events,
        "deployments": deployments,
        "approvals": approvals,
        "rollbacks": [e for e in events if e["event"] == "rollback"],
        "forced": [e for e in events if e["forced"]],
        "unaudited_commits": unaudited,
        "other_commits": other,
    }


def _event(c: dict[str, Any]) -> dict[str, Any]:
    """One registry commit of the log as an audit event."""
    t: dict[str, str] = c["trailers"]
    return {
        "event": t.get("event"),
        "model": t.get("model"),
        "version": t.get("version"),
        "from": t.get("from"),
        "to": t.get("to"),
        "actor": t.get("actor"),
        "author": c["author"],
        "at": c["date"],
        "reason": t.get("reason"),
        "forced": t.get("forced") == "true",
        "auto": t.get("auto") == "true",
        "replaced": t.get("replaced"),
        "commit": c["commit"],
    }


def _by_folder_name(ctx: Context, name: str, version: str, source: Source) -> dict[str, Any]:
    """The metadata of ``name`` v``version`` from the version folder named for it (``{name}-v{version}``) in an
    increment, if that file says it is that version; else {}. Read directly: the model's records (13 MB for a model
    with 3,334 versions) are not loaded for a deployment's metrics (registry-audit at 10,002 versions peaked at
    97 MB)."""
    from ..errors import RegistryError
    from ..store.files import parse_metadata

    layout = ctx.layout
    for inc in layout.increments():
        rel = layout.metadata_rel(layout.version_rel(inc, name, version))
        raw = source.read(rel)
        if raw is None:
            continue
        try:
            meta = parse_metadata(raw, rel)
            same = meta.get("name") == name and V.canonical(str(meta.get("version"))) == version
        except RegistryError:
            return {}
        return meta if same else {}
    return {}


def _deployment(ctx: Context, index: Index, event: dict[str, Any], source: Source) -> dict[str, Any]:
    """A production deployment with who approved it, its metrics and the data it was trained on (as now stored)."""
    from .common import read_metadata

    meta: dict[str, Any] = {}
    if event["model"] and event["version"]:
        meta = _by_folder_name(ctx, event["model"], event["version"], source)
        if not meta:  # a folder renamed by hand: the model's records say where the version is
            rec = index.find(event["model"], event["version"])
            meta = read_metadata(ctx, rec) if rec is not None else {}
    return {
        "model": event["model"],
        "version": event["version"],
        "at": event["at"],
        "by": event["actor"],
        "kind": event["event"],
        "reason": event["reason"],
        "forced": event["forced"],
        "auto": event["auto"],
        "commit": event["commit"],
        "approved_by": list(
            dict.fromkeys(a.get("approver") for a in meta.get("approvals") or [] if a.get("stage") == "production")
        ),  # once each: a signed approval may follow the same approver's unsigned one
        "metrics": meta.get("metrics") or {},
        "data_version": (meta.get("lineage") or {}).get("data"),
    }
