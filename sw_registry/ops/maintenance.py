"""registry-verify --repair and registry-reindex (SPEC §7.14); the checks of registry-verify are in verify.py."""

from __future__ import annotations

import time

from ..errors import GitError
from .common import derived_of

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from ..layout import Layout
    from ..results import ChangeResult
    from ..transaction import Transaction
    from .context import Context

STALE_INDEX_LOCK_SECONDS = 5.0


def repair(ctx: Context) -> dict[str, Any]:
    """After a crash: revert only what the interrupted write recorded as its own (copied first), clear a
    stale index.lock, rebuild derived files. Any other change is reported and left exactly as it is."""
    from ..transaction import clear_journal, dirty_paths, journal_paths, owned_by_journal

    repaired: list[str] = []
    restored: list[dict[str, str | None]] = []
    with ctx.write(allow_dirty=True) as tx:
        _clear_stale_index_lock(tx, repaired)
        recorded = journal_paths(tx.repo)
        dirty = dirty_paths(tx.repo, ctx.layout, None, thorough=True)
        owned = [p for p in dirty if owned_by_journal(p, recorded)]
        left = [p for p in dirty if p not in owned]
        if owned:
            restored = _restore(ctx.layout, tx, owned)
            for item in restored:
                saved = f" (copy: {item['copy']})" if item["copy"] else " (it was deleted; nothing to copy)"
                repaired.append(f"restored {item['path']} to HEAD{saved}")
        for rel in left:
            repaired.append(f"left {rel} as it is: no interrupted write recorded it (a change of yours)")
        clear_journal(tx.repo)  # what the interrupted write owned is as HEAD has it again: that write is over
        commit = None
        if not left:
            commit = rebuild(ctx, tx, "repair", "registry: repair derived files")
            if commit:
                repaired.append("rebuilt derived files (model_catalog.yaml, lineage_graph.json)")
    return {"repaired": repaired, "commit": commit, "restored": restored, "left_alone": left}


def _clear_stale_index_lock(tx: Transaction, repaired: list[str]) -> None:
    lock = tx.repo.index_lock()
    if lock.exists():
        age = time.time() - lock.stat().st_mtime
        if age < STALE_INDEX_LOCK_SECONDS:
            raise GitError(
                "git's index.lock is fresh: another git command may be running",
                hint="wait a few seconds and run registry-verify --repair again",
            )
        lock.unlink()
        repaired.append(f"removed a stale .git/index.lock ({age:.0f}s old, left by a killed git command)")


def _restore(layout: Layout, tx: Transaction, owned: list[str]) -> list[dict[str, str | None]]:
    """Copy the interrupted write's paths aside, then put them back as HEAD has them."""
    restored = _save_copies(layout, owned)
    for rel in tx.repo.restore_to_head(owned):
        path = layout.abs(rel)
        if path.is_file() or path.is_symlink():
            path.unlink()
        _prune_empty(path.parent, layout.root)
    return restored


def reindex(ctx: Context) -> ChangeResult:
    """Rebuild every derived file from the metadata files; one commit if anything changed.

    During a merge (after a conflict in a derived file) it rewrites and stages them without committing,
    so ``git commit`` concludes the merge.
    """
    from ..gitops import open_repo, write_lock
    from ..results import ChangeResult

    repo = open_repo(ctx.root)
    if repo.operation_in_progress():
        from ..store.files import atomic_write
        from ..store.index import WorkTreeSource, load_index

        with write_lock(repo):
            index = load_index(WorkTreeSource(ctx.layout))
            paths = []
            for rel, data, _ in derived_of(ctx.layout, index):
                atomic_write(ctx.layout.abs(rel), data)
                paths.append(rel)
            if paths:
                repo.stage(paths)
        return ChangeResult(bool(paths), None)
    with ctx.write() as tx:
        commit = rebuild(ctx, tx, "reindex", "registry: rebuild derived files")
    return ChangeResult(commit is not None, commit, tuple(tx.warnings))


def rebuild(ctx: Context, tx: Transaction, event: str, subject: str) -> str | None:
    """Rewrite every derived file from the metadata as it now is (durably); commit when anything changed."""
    from .common import refresh_derived

    tx.reload()
    refresh_derived(ctx.layout, tx, None, durable=True)
    return tx.commit(subject, {"Event": event, "Actor": tx.actor})


def _save_copies(layout: Layout, paths: list[str]) -> list[dict[str, str | None]]:
    """Copy each path that exists to ``.specweave/cache/sw-registry/repair/<UTC time>/<path>`` before repair
    reverts it; returns ``[{"path", "copy"}]`` (copy None for a path that no longer exists)."""
    import shutil
    from datetime import datetime, timezone
    from pathlib import Path

    from ..store.index import ensure_ignored

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    base = layout.cache_dir / "repair" / stamp
    out: list[dict[str, str | None]] = []
    for rel in paths:
        src = layout.abs(rel)
        if not (src.is_file() or src.is_symlink()):
            out.append({"path": rel, "copy": None})
            continue
        dest = base / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest, follow_symlinks=False)
        out.append({"path": rel, "copy": str(Path(dest))})
    if out:
        ensure_ignored(base)
    return out


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
