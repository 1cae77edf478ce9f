"""registry-verify [--repair] and registry-reindex (SPEC §7.14)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from .errors import GitError, IntegrityError, RegistryError
from .publish import pushes
from .store.files import parse_metadata
from .store.index import WorkTreeSource, load_index

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from pathlib import Path

    from .gitops import Repo
    from .layout import Layout
    from .policy import Policy
    from .results import ChangeResult
    from .transaction import Transaction

STALE_INDEX_LOCK_SECONDS = 5.0


def _problem(code: str, path: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "path": path, "message": message}


def is_content_path(rel: str) -> bool:
    """A metadata.json, an artifact, or registry.yaml: files whose changes must carry trailers."""
    if rel == ".specweave/registry.yaml":
        return True
    parts = rel.split("/")
    return (
        "models" in parts[:-1]
        and parts.index("models") < len(parts) - 2
        and not rel.endswith(("/requirements.txt", "/features.yaml"))
    )


def unaudited_commits(repo: Repo, layout: Layout) -> list[dict[str, Any]]:
    """Commits without Registry-* trailers that change a metadata.json, an artifact or registry.yaml."""
    return classify_untracked(repo.registry_log(), layout)[0]


def classify_untracked(log: list[dict[str, Any]], layout: Layout) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sort the commits without Registry-* trailers into (unaudited content changes, renames and merges).

    Pure renames (SpecWeave archiving an increment) and merge commits change no content: they are listed,
    not flagged.
    """
    unaudited: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for c in log:
        if c["event"]:
            continue
        base = {"commit": c["commit"], "author": c["author"], "at": c["date"]}
        if len(c["parents"]) > 1:
            other.append({**base, "kind": "merge"})
            continue
        paths = sorted(
            {
                p
                for status, names in c["changes"]
                if status != "R100"
                for p in names
                if layout.is_registry_path(p) and is_content_path(p)
            }
        )
        if paths:
            unaudited.append({**base, "paths": paths})
        elif any(
            status == "R100" and any(layout.is_registry_path(p) for p in names) for status, names in c["changes"]
        ):  # only renames that moved registry files: SpecWeave archives many increments that never held a model
            other.append({**base, "kind": "rename"})
    return unaudited, other


class Maintenance:
    """Mixed into ModelRegistry."""

    if TYPE_CHECKING:  # provided by ModelRegistry
        layout: Layout
        storage_uri: str | None

        @property
        def root(self) -> Path: ...
        def _write(
            self, *, allow_dirty: bool = False, adopt: tuple[str, ...] = ()
        ) -> AbstractContextManager[Transaction]: ...

    def verify(self, deep: bool = False) -> dict[str, Any]:
        """Check every artifact hash, metadata file, derived file and the git record; raise on problems.

        An artifact in an object store is checked there: it exists with its recorded size, or with ``deep``
        it is downloaded and hashed. A store that cannot be reached is ``store_error``, not a problem."""
        from .gitops import open_repo
        from .store.artifacts import verify_artifact
        from .store.derived import derived_files
        from .store.objectstore import check_artifact, is_store_artifact, store_for
        from .transaction import dirty_paths

        problems: list[dict[str, Any]] = []
        source = WorkTreeSource(self.layout)
        policy = None
        records = []
        metas: dict[str, dict[str, Any]] = {}  # for the signed-approval check
        seen: dict[tuple[str, str], str] = {}
        for rel in sorted(source.metadata_files()):
            raw = source.read(rel) or b""
            try:
                meta = parse_metadata(raw, rel)
            except IntegrityError as exc:
                problems.append(_problem("bad_metadata", rel, exc.message))
                continue
            folder = rel.rsplit("/", 1)[0]
            key = (meta["name"], meta["version"])
            if key in seen:
                problems.append(_problem("duplicate", folder, f"{key[0]}@{key[1]} is also registered in {seen[key]}"))
            seen[key] = folder
            art = meta.get("artifact") or {}
            if is_store_artifact(art):
                policy = policy or load_index(source).policy
                where = f"{key[0]}@{key[1]}"
                found = check_artifact(
                    store_for(str(art["store"]), policy, self.storage_uri),
                    art,
                    where,
                    deep=deep,
                    scratch=self.layout.cache_dir,
                )
                if found:
                    problems.append(_problem("artifact", folder, found))
                records.append(rel)
                continue
            try:
                verify_artifact(self.layout.abs(f"{folder}/{art.get('path', '')}"), art, f"{key[0]}@{key[1]}")
            except IntegrityError as exc:
                problems.append(_problem("artifact", folder, exc.message))
            records.append(rel)
            metas[rel] = meta
        for inc in self.layout.increments():
            models = self.layout.abs(f"{inc.rel}/models")
            if models.is_dir():
                for entry in sorted(os.listdir(models)):
                    if not entry.startswith(".") and not (models / entry / "metadata.json").exists():
                        problems.append(
                            _problem(
                                "orphan_folder", f"{inc.rel}/models/{entry}", "version folder without metadata.json"
                            )
                        )
        policy = None
        if not any(p["code"] in ("bad_metadata", "duplicate") for p in problems):
            index = load_index(source)
            policy = index.policy
            for inc in self.layout.increments():
                recs = index.in_increment(inc.id)
                if not recs and not self.layout.abs(f"{inc.rel}/registry").is_dir():
                    continue
                for rel, data in derived_files(inc.rel, inc.id, recs).items():
                    current = source.read(rel)
                    if current != data and not (current is None and not recs):
                        problems.append(
                            _problem(
                                "stale_derived",
                                rel,
                                f"{rel} does not match the metadata; run 'sw-registry registry-reindex'",
                            )
                        )
        try:
            repo = open_repo(self.root)
        except RegistryError:
            repo = None
        if repo is not None:
            # inside a pre-commit hook (pre-commit sets PRE_COMMIT=1), changes staged in full are the commit
            # being made, sw-registry's own writes included: only unstaged and untracked ones are problems
            status = repo.changed_paths()
            staged = {p for st, p in status if st[0] not in " ?" and st[1] == " "}
            in_hook = os.environ.get("PRE_COMMIT") == "1"
            for rel in dirty_paths(repo, self.layout, None, status=status):
                if in_hook and rel in staged:
                    continue
                problems.append(_problem("uncommitted", rel, f"{rel} differs from HEAD (uncommitted change)"))
            for c in unaudited_commits(repo, self.layout):
                problem = _problem(
                    "unaudited_commit",
                    ", ".join(c["paths"]),
                    f"commit {c['commit']} by {c['author']} changed registry files without Registry-* trailers",
                )
                problem["commit"] = c["commit"]
                problems.append(problem)
            if repo.index_lock().exists():
                problems.append(_problem("index_lock", ".git/index.lock", "git's index.lock exists"))
            problems += _signature_problems(repo, source, metas, policy)
        if problems:
            raise IntegrityError(
                f"registry-verify found {len(problems)} problem(s): " + "; ".join(p["message"] for p in problems[:3]),
                hint="run 'sw-registry registry-verify --repair' to restore uncommitted registry files and rebuild "
                "derived files; inspect unaudited commits with 'git show <commit>'",
                details={"problems": problems},
            )
        return {"ok": True, "problems": [], "versions": len(records)}

    def repair(self) -> dict[str, Any]:
        """After a crash: revert only what the interrupted write recorded as its own (copied first), clear a
        stale index.lock, rebuild derived files. Any other change is reported and left exactly as it is."""
        from .transaction import clear_journal, dirty_paths, journal_paths, owned_by_journal

        repaired: list[str] = []
        restored: list[dict[str, str | None]] = []
        left: list[str] = []
        with self._write(allow_dirty=True) as tx:
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
            recorded = journal_paths(tx.repo)
            dirty = dirty_paths(tx.repo, self.layout, None, thorough=True)
            owned = [p for p in dirty if owned_by_journal(p, recorded)]
            left = [p for p in dirty if p not in owned]
            if owned:
                restored = _save_copies(self.layout, owned)
                for rel in tx.repo.restore_to_head(owned):
                    path = self.layout.abs(rel)
                    if path.is_file() or path.is_symlink():
                        path.unlink()
                    _prune_empty(path.parent, self.layout.root)
                for item in restored:
                    saved = f" (copy: {item['copy']})" if item["copy"] else " (it was deleted; nothing to copy)"
                    repaired.append(f"restored {item['path']} to HEAD{saved}")
            for rel in left:
                repaired.append(f"left {rel} as it is: no interrupted write recorded it (a change of yours)")
            clear_journal(tx.repo)  # what the interrupted write owned is as HEAD has it again: that write is over
            commit = None
            if not left:
                commit = self._rebuild(tx, "repair", "registry: repair derived files")
                if commit:
                    repaired.append("rebuilt derived files (model_catalog.yaml, lineage_graph.json)")
        return {"repaired": repaired, "commit": commit, "restored": restored, "left_alone": left}

    @pushes
    def reindex(self) -> ChangeResult:
        """Rebuild every derived file from the metadata files; one commit if anything changed.

        During a merge (after a conflict in a derived file) it rewrites and stages them without committing,
        so ``git commit`` concludes the merge.
        """
        from .gitops import open_repo, write_lock
        from .results import ChangeResult
        from .store.derived import derived_files

        repo = open_repo(self.root)
        if repo.operation_in_progress():
            with write_lock(repo):
                index = load_index(WorkTreeSource(self.layout))
                paths = []
                for inc in self.layout.increments():
                    recs = index.in_increment(inc.id)
                    if recs or self.layout.abs(f"{inc.rel}/registry").is_dir():
                        for rel, data in derived_files(inc.rel, inc.id, recs).items():
                            from .store.files import atomic_write

                            atomic_write(self.layout.abs(rel), data)
                            paths.append(rel)
                if paths:
                    repo.stage(paths)
            return ChangeResult(bool(paths), None)
        with self._write() as tx:
            commit = self._rebuild(tx, "reindex", "registry: rebuild derived files")
        return ChangeResult(commit is not None, commit, tuple(tx.warnings))

    def _rebuild(self, tx: Transaction, event: str, subject: str) -> str | None:
        from .store.derived import derived_files

        index = tx.reload()
        for inc in self.layout.increments():
            recs = index.in_increment(inc.id)
            if recs or self.layout.abs(f"{inc.rel}/registry").is_dir():
                for rel, data in derived_files(inc.rel, inc.id, recs).items():
                    tx.write_if_changed(rel, data)
        return tx.commit(subject, {"Event": event, "Actor": tx.actor})


def _signature_problems(
    repo: Repo, source: WorkTreeSource, metas: dict[str, dict[str, Any]], policy: Policy | None
) -> list[dict[str, Any]]:
    """Signed approvals that no longer verify; with require_signed, unsigned registry commits (SPEC §6)."""
    from . import signing

    if policy is None:
        try:
            policy = load_index(source).policy
        except RegistryError:
            return []  # reported above as bad metadata or config
    problems = signing.approval_problems(repo, policy, metas) + signing.signers_file_problems(repo, policy)
    if policy.require_signed:
        problems += signing.unsigned_commit_problems(repo, policy)
    return problems


def _save_copies(layout: Layout, paths: list[str]) -> list[dict[str, str | None]]:
    """Copy each path that exists to ``.specweave/cache/sw-registry/repair/<UTC time>/<path>`` before repair
    reverts it; returns ``[{"path", "copy"}]`` (copy None for a path that no longer exists)."""
    import shutil
    from datetime import datetime, timezone
    from pathlib import Path

    from .store.index import ensure_ignored

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
