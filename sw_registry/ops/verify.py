"""registry-verify (SPEC §7.14): every artifact hash, metadata file, derived file and the git record checked;
the problems are raised together as one ``integrity`` error."""

from __future__ import annotations

import os

from ..errors import IntegrityError, RegistryError
from ..layout import POLICY_REL
from ..store.files import parse_metadata
from ..store.index import WorkTreeSource, load_index

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from ..gitops import Repo
    from ..layout import Layout
    from ..policy import Policy
    from .context import Context


def problem(code: str, path: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "path": path, "message": message}


def is_content_path(rel: str) -> bool:
    """A metadata.json, an artifact, or registry.yaml: files whose changes must carry trailers."""
    if rel == POLICY_REL:
        return True
    parts = rel.split("/")
    return (
        "models" in parts[:-1]
        and parts.index("models") < len(parts) - 2
        and not rel.endswith(("/requirements.txt", "/features.yaml"))
    )


def unaudited_commits(repo: Repo, layout: Layout) -> list[dict[str, Any]]:
    """Commits without Registry-* trailers that change a metadata.json, an artifact or registry.yaml."""
    return classify_untracked(repo.unmarked_log(), layout)[0]


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


def verify(ctx: Context, deep: bool = False) -> dict[str, Any]:
    """Check every artifact hash, metadata file, derived file and the git record; raise on problems.

    An artifact in an object store is checked there: it exists with its recorded size, or with ``deep``
    it is downloaded and hashed. A store that cannot be reached is ``store_error``, not a problem."""
    source = WorkTreeSource(ctx.layout)
    problems: list[dict[str, Any]] = []
    metas: dict[str, dict[str, Any]] = {}  # the versions with signed approvals, for their check
    records = _check_versions(ctx, source, deep, problems, metas)
    problems += _orphan_folders(ctx.layout)
    policy = None
    if not any(p["code"] in ("bad_metadata", "duplicate") for p in problems):
        policy = load_index(source).policy
        problems += _stale_derived(ctx.layout, source)
    problems += _git_problems(ctx.layout, source, metas, policy)
    if problems:
        raise IntegrityError(
            f"registry-verify found {len(problems)} problem(s): " + "; ".join(p["message"] for p in problems[:3]),
            hint="run 'sw-registry registry-verify --repair' to restore uncommitted registry files and rebuild "
            "derived files; inspect unaudited commits with 'git show <commit>'",
            details={"problems": problems},
        )
    return {"ok": True, "problems": [], "versions": records}


def _check_versions(
    ctx: Context, source: WorkTreeSource, deep: bool, problems: list[dict[str, Any]], metas: dict[str, Any]
) -> int:
    """Each metadata.json parses, names a version once, and its artifact is whole; returns how many there are."""
    from ..store.artifacts import verify_artifact
    from ..store.objectstore import check_artifact, is_store_artifact, store_for

    policy = None
    records = 0
    seen: dict[tuple[str, str], str] = {}
    for rel in sorted(source.metadata_files()):
        raw = source.read(rel) or b""
        try:
            meta = parse_metadata(raw, rel)
        except IntegrityError as exc:
            problems.append(problem("bad_metadata", rel, exc.message))
            continue
        folder = rel.rsplit("/", 1)[0]
        key = (meta["name"], meta["version"])
        if key in seen:
            problems.append(problem("duplicate", folder, f"{key[0]}@{key[1]} is also registered in {seen[key]}"))
        seen[key] = folder
        art = meta.get("artifact") or {}
        where = f"{key[0]}@{key[1]}"
        records += 1
        if is_store_artifact(art):
            policy = policy or load_index(source).policy
            store = store_for(str(art["store"]), policy, ctx.storage_uri)
            found = check_artifact(store, art, where, deep=deep, scratch=ctx.layout.cache_dir)
            if found:
                problems.append(problem("artifact", folder, found))
            continue
        try:
            verify_artifact(ctx.layout.abs(f"{folder}/{art.get('path', '')}"), art, where)
        except IntegrityError as exc:
            problems.append(problem("artifact", folder, exc.message))
        if any(isinstance(a, dict) and a.get("signing_key") for a in meta.get("approvals") or []):
            metas[rel] = {k: meta[k] for k in ("name", "version", "approvals")}  # all the signature check reads
    return records


def _orphan_folders(layout: Layout) -> list[dict[str, Any]]:
    out = []
    for inc in layout.increments():
        rel = layout.models_rel(inc.rel)
        models = layout.abs(rel)
        if models.is_dir():
            for entry in sorted(os.listdir(models)):
                if not entry.startswith(".") and not (models / layout.metadata_rel(entry)).exists():
                    out.append(problem("orphan_folder", f"{rel}/{entry}", "version folder without metadata.json"))
    return out


def _stale_derived(layout: Layout, source: WorkTreeSource) -> list[dict[str, Any]]:
    """Each increment's derived files against a render of its own versions, one increment at a time: the records
    of one increment are all that is held (the index's records of every model cost ~40 MB at 10,002 versions).
    The records are the index's (``summarize`` of each metadata.json, in the index's order: by model, then
    version), so the bytes are those ``derived_of`` renders."""
    from operator import itemgetter

    from ..store.derived import derived_files
    from ..store.records import parse_record_source, summarize

    by_increment: dict[str, list[str]] = {}
    for rel in source.metadata_files():
        by_increment.setdefault(rel.rsplit("/", 1)[0].split("/")[-3], []).append(rel)
    out = []
    for inc in layout.increments():
        rels = by_increment.get(inc.id, [])
        if not rels and not layout.abs(layout.registry_rel(inc.rel)).is_dir():
            continue
        recs = [summarize(parse_record_source(source.read(rel) or b"", rel), rel) for rel in rels]
        recs.sort(key=itemgetter("name", "key", "dir"))
        for rel, data in derived_files(inc.rel, inc.id, recs).items():
            current = source.read(rel)
            if current != data and not (current is None and not recs):
                message = f"{rel} does not match the metadata; run 'sw-registry registry-reindex'"
                out.append(problem("stale_derived", rel, message))
    return out


def _git_problems(
    layout: Layout, source: WorkTreeSource, metas: dict[str, dict[str, Any]], policy: Policy | None
) -> list[dict[str, Any]]:
    """Uncommitted registry files, commits without trailers, a leftover index.lock, signatures that fail."""
    from ..gitops import open_repo
    from ..transaction import dirty_paths

    try:
        repo = open_repo(layout.root)
    except RegistryError:
        return []
    problems = []
    # inside a pre-commit hook (pre-commit sets PRE_COMMIT=1), changes staged in full are the commit
    # being made, sw-registry's own writes included: only unstaged and untracked ones are problems
    status = repo.changed_paths()
    staged = {p for st, p in status if st[0] not in " ?" and st[1] == " "}
    in_hook = os.environ.get("PRE_COMMIT") == "1"
    for rel in dirty_paths(repo, layout, None, status=status):
        if in_hook and rel in staged:
            continue
        problems.append(problem("uncommitted", rel, f"{rel} differs from HEAD (uncommitted change)"))
    for c in unaudited_commits(repo, layout):
        found = problem(
            "unaudited_commit",
            ", ".join(c["paths"]),
            f"commit {c['commit']} by {c['author']} changed registry files without Registry-* trailers",
        )
        found["commit"] = c["commit"]
        problems.append(found)
    if repo.index_lock().exists():
        problems.append(problem("index_lock", ".git/index.lock", "git's index.lock exists"))
    return problems + _signature_problems(repo, source, metas, policy)


def _signature_problems(
    repo: Repo, source: WorkTreeSource, metas: dict[str, dict[str, Any]], policy: Policy | None
) -> list[dict[str, Any]]:
    """Signed approvals that no longer verify; with require_signed, unsigned registry commits (SPEC §6)."""
    from .. import signing

    if policy is None:
        try:
            policy = load_index(source).policy
        except RegistryError:
            return []  # reported above as bad metadata or config
    problems = signing.approval_problems(repo, policy, metas) + signing.signers_file_problems(repo, policy)
    if policy.require_signed:
        problems += signing.unsigned_commit_problems(repo, policy)
    return problems
