"""Environments (SPEC §11): promote a version into another registry, given as a folder or a git URL.

``registry.yaml`` names them: ``environments: {prod: {root: ../prod-registry | git@host:org/models.git,
stage: staging}}``. A promotion copies the version (artifact, metadata.json, features.yaml,
requirements.txt) into the same increment id of the other registry (the artifact where that registry's own
``artifact_store`` keeps artifacts: its git folder or its object store; one kept in an object store here is
fetched and verified first, as registry-get does), verifies its hash there, applies that
registry's own rules (approvals, exclusivity, archiving the displaced holder) and commits there with a
``Registry-Source`` trailer; a git URL is cloned into this project's cache, and the commit is pushed (a
rejected push re-runs the landing on the new remote head, as ``--push`` does). Then the source version's
metadata gains ``environments.<env>: {stage, commit, at}`` in a commit of its own. The source's stages never
change. The source's write lock is held throughout, so a source that cannot take the link commit (dirty,
detached, wrong branch) refuses before the other registry is touched, and a refusal in the other registry
(approvals, an existing version with other bytes, a conflict) changes neither side.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import versions as V
from .errors import (
    AlreadyExists,
    ConfigError,
    GitError,
    IntegrityError,
    InvalidInput,
    InvalidTransition,
    RegistryError,
    StoreError,
)
from .results import _Result

if TYPE_CHECKING:
    from .gitops import NetProgress, Repo
    from .registry import ModelRegistry
    from .store.index import Record
    from .transaction import Transaction

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SCP = re.compile(r"^[^/:@\s]+@[^/:\s]+:")  # git@host:org/models.git
_SEED_REF = re.compile(r"^(?P<name>.+)-v(?P<version>\d[0-9A-Za-z.+-]*)$")  # fraud-detection-v3.1.0


@dataclass(frozen=True)
class Environment:
    name: str
    root: str  # as registry.yaml gives it
    stage: str  # the landing stage when --to is not given
    url: str | None  # a git URL (cloned into the cache), or None
    path: Path | None  # a work-tree folder, or None

    @property
    def where(self) -> str:
        from .gitops import redact_url

        return redact_url(self.url) if self.url is not None else str(self.path)


@dataclass(frozen=True)
class EnvPromoteResult(_Result):
    """``registry-promote --to-env`` data: the promote shape (commit = the other registry's commit) plus where
    it went and the source's own link commit."""

    name: str
    version: str
    from_stage: str | None  # the version's stage in the other registry before (None: it was not there)
    to_stage: str
    replaced: str | None
    commit: str | None
    environment: str
    target: str  # the other registry's folder or URL (without credentials)
    source_commit: str | None  # the commit that recorded environments.<env> in this registry's metadata
    actor: str | None = None
    forced: bool = False
    warnings: tuple[str, ...] = ()


def parse_model_ref(model: str) -> tuple[str, str]:
    """``NAME@VERSION``, or the seed's ``NAME-vVERSION`` (``fraud-detection-v3.1.0``)."""
    if "@" not in model:
        m = _SEED_REF.fullmatch(model.strip())
        if m is None:
            raise InvalidInput(
                f"not a model version reference: {model!r}",
                hint="use NAME@VERSION, e.g. fraud-detection-model@3.1.0 (or NAME-vVERSION)",
            )
        model = f"{m.group('name')}@{m.group('version')}"
    return V.parse_ref(model)


# -- resolving an environment ----------------------------------------------------------------


def environment(policy: Any, name: str, base: Path) -> Environment:
    """The environment ``name`` of registry.yaml; relative folders are relative to the project root ``base``."""
    envs: dict[str, dict[str, Any]] = policy.environments
    if name not in envs:
        raise ConfigError(
            f"registry.yaml has no environment {name!r} (environments.{name})",
            hint="known environments: " + (", ".join(sorted(envs)) or "none")
            + "; add one: environments: {" + name + ": {root: ../other-registry}}",
        )
    conf = envs[name]
    root = str(conf["root"]).strip()
    stage = str(conf.get("stage") or "dev")
    if _SCHEME.match(root) or _SCP.match(root):
        return Environment(name, root, stage, root, None)
    path = (base / os.path.expanduser(root)).resolve()
    if _is_bare(path):
        return Environment(name, root, stage, str(path), None)
    return Environment(name, root, stage, None, path)


def _is_bare(path: Path) -> bool:
    if not (path / "HEAD").is_file() or not (path / "objects").is_dir():
        return False
    from .gitops import run_git

    proc = run_git(path, "rev-parse", "--is-bare-repository", check=False)
    return proc.returncode == 0 and proc.stdout.decode().strip() == "true"


def target_root(env: Environment, base: Path, progress: NetProgress | None = None) -> Path:
    """The other registry's project root: its folder, or (git URL) a fresh clone in the cache."""
    if env.url is None:
        assert env.path is not None
        if not env.path.is_dir():
            raise StoreError(
                f"environment {env.name!r}: the registry folder {env.path} does not exist",
                hint=f"create it (git init; sw-registry init), or fix environments.{env.name}.root",
                details={"environment": env.name, "root": str(env.path)},
            )
        return env.path
    from .layout import Layout
    from .store.index import ensure_ignored

    folder = Layout(base).cache_dir / "environments"
    folder.mkdir(parents=True, exist_ok=True)
    ensure_ignored(folder)
    with _cache_lock(folder / f"{env.name}.lock"):
        return _sync_clone(env, folder / env.name, progress)


@contextlib.contextmanager
def _cache_lock(path: Path) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _sync_clone(env: Environment, dest: Path, progress: NetProgress | None) -> Path:
    """Bring the cache clone of ``env.url`` to the remote's head (cloning it when missing or for another URL).

    The clone is ours alone: anything left in it by an earlier run (an unpushed commit of a refused push, files
    of a killed write) is discarded, since the remote is the truth.
    """
    from .gitops import net_clone, net_fetch, open_repo, run_git

    assert env.url is not None
    try:
        if (dest / ".git").is_dir() and _origin(dest) == env.url:
            try:
                repo = open_repo(dest)
                branch = repo.branch()
                net_fetch(repo, "origin", "+refs/heads/*:refs/remotes/origin/*", progress)
                tracked = f"refs/remotes/origin/{branch}"
                if branch and run_git(dest, "rev-parse", "-q", "--verify", tracked, check=False).returncode == 0:
                    run_git(dest, "reset", "-q", "--hard", tracked)
                    run_git(dest, "clean", "-q", "-f", "-d")
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(repo.journal())
                    return dest
                if not run_git(dest, "for-each-ref", "refs/remotes/origin").stdout.strip():
                    return dest  # the remote is still empty: the first write makes its branch
            except RegistryError as exc:
                if (exc.details or {}).get("network"):
                    raise
            # a damaged clone, or one made of an empty remote that has a branch now: clone it again
        if dest.exists():
            shutil.rmtree(dest)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            net_clone(env.url, tmp, progress)
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except GitError as exc:
        if (exc.details or {}).get("network"):
            raise _unreachable(env, exc) from None
        raise
    return dest


def _origin(folder: Path) -> str:
    from .gitops import run_git

    return run_git(folder, "remote", "get-url", "origin", check=False).stdout.decode("utf-8", "replace").strip()


def _unreachable(env: Environment, exc: RegistryError) -> RegistryError:
    from .gitops import redact_url

    return StoreError(
        f"environment {env.name!r}: the registry at {env.where} could not be reached: {redact_url(exc.message)}",
        hint="check the URL in environments." + env.name + ".root and your access to it (ssh key, credential helper)",
        details={"environment": env.name, "url": env.where},
    )


def open_environment(root: str | os.PathLike[str] | None, name: str) -> tuple[Path, bool]:
    """For ``ModelRegistry(environment=name)``: the environment's project root, and whether writes push."""
    from .layout import Layout, find_root
    from .store.index import WorkTreeSource, load_index

    base = find_root(root)
    env = environment(load_index(WorkTreeSource(Layout(base))).policy, name, base)
    return target_root(env, base), env.url is not None


# -- promoting into an environment --------------------------------------------------------------


def promote_to_env(
    reg: ModelRegistry,
    name: str,
    version: str,
    env_name: str,
    *,
    stage: str | None = None,
    from_stage: str | None = None,
    reason: str | None = None,
    force: bool = False,
    progress: NetProgress | None = None,
    push: bool = False,
) -> EnvPromoteResult:
    """Promote NAME@VERSION of ``reg`` into the environment ``env_name`` (see the module's doc)."""
    from . import lifecycle as L

    V.validate_name(name)
    ver = V.canonical(version)
    if stage is not None:
        L.check_stage(stage)
    if from_stage is not None:
        L.check_stage(from_stage)
    if force and not (reason and reason.strip()):
        from .errors import UsageError

        raise UsageError("--force needs a --reason", hint="say why the rule is being bypassed: --reason TEXT")
    env = environment(reg.index().policy, env_name, reg.root)
    to = stage or env.stage
    if to not in ("dev", "staging", "production"):
        raise InvalidInput(
            f"a version is promoted into another registry's dev, staging or production, not {to}",
            hint="archive it in that registry itself",
        )

    def run() -> EnvPromoteResult:
        return _promote(reg, name, ver, env, to, from_stage, reason, force, progress)

    if not push:
        return run()
    from .publish import publish

    # --push publishes this registry's link commit; a re-run on the new head re-lands (a no-op there) and links
    # again, so publish() must judge "nothing left to do" by the link commit, not by the other registry's
    return publish(reg.root, lambda: _Linked(run())).result


@dataclass(frozen=True)
class _Linked:
    result: EnvPromoteResult

    @property
    def commit(self) -> str | None:
        return self.result.source_commit


def _promote(
    reg: ModelRegistry,
    name: str,
    ver: str,
    env: Environment,
    to: str,
    from_stage: str | None,
    reason: str | None,
    force: bool,
    progress: NetProgress | None,
) -> EnvPromoteResult:
    from .publish import publish
    from .store.artifacts import verify_artifact
    from .store.files import check_writable

    ref = f"{name}@{ver}"
    with reg._write() as stx:  # held to the end: the link commit cannot be refused after the other side moved
        rec = stx.index.get(name, ver)
        if from_stage is not None and rec["stage"] != from_stage:
            raise InvalidTransition(
                f"{ref} is in {rec['stage']}, not {from_stage}",
                hint="drop --from, or check the version's stage with registry-info",
                details={"stage": rec["stage"], "expected": from_stage},
            )
        meta = reg._read_metadata(rec)
        check_writable(meta, f"{rec['dir']}/metadata.json")
        art = meta.get("artifact") or {}
        src_dir = reg.layout.abs(rec["dir"])
        from .store.objectstore import is_store_artifact

        if is_store_artifact(art):
            # as registry-get: a copy in this project's cache, downloaded if needed, its hash verified
            artifact = Path(reg._verified(meta, rec).path)
        else:
            artifact = src_dir / str(art.get("path", ""))
            verify_artifact(artifact, art, ref)
        source_ref = f"{_describe(stx.repo)}@{stx.head or 'unborn'}"
        troot = target_root(env, reg.root, progress)
        if troot.resolve() == reg.root.resolve():
            raise ConfigError(
                f"environment {env.name!r} is this registry itself", hint=f"fix environments.{env.name}.root"
            )
        from .registry import ModelRegistry

        target = ModelRegistry(root=troot, actor=reg.actor or stx.actor)

        def land() -> _Landed:
            return _land(target, rec, meta, src_dir, artifact, to, reason, force, source_ref)

        try:
            landed = publish(troot, land) if env.url is not None else land()
        except GitError as exc:
            if env.url is not None and (exc.details or {}).get("network"):
                raise _unreachable(env, exc) from None
            raise _in_env(exc, env) from None
        except RegistryError as exc:
            raise _in_env(exc, env) from None
        link = (meta.get("environments") or {}).get(env.name) if isinstance(meta.get("environments"), dict) else None
        if landed.commit is None and isinstance(link, dict) and link.get("stage") == to:
            return _result(name, ver, env, to, landed, None, stx)
        entry = {"stage": to, "commit": landed.commit or landed.head, "at": reg._now()}

        def change(m: dict[str, Any]) -> None:
            envs = m.get("environments")
            if not isinstance(envs, dict):
                envs = m["environments"] = {}
            envs[env.name] = entry

        reg._rewrite_metadata(stx, rec, change)
        source_commit = reg._finish(
            stx,
            {str(rec["increment"])},
            f"registry: {name} v{ver} is in {to} of environment {env.name}",
            {
                "Event": "promote",
                "Model": name,
                "Version": ver,
                "Environment": env.name,
                "Environment-Stage": to,
                "Environment-Commit": entry["commit"],
                "Actor": stx.actor,
                "Reason": reason,
            },
        )
        return _result(name, ver, env, to, landed, source_commit, stx)


def _result(
    name: str, ver: str, env: Environment, to: str, landed: _Landed, source_commit: str | None, stx: Transaction
) -> EnvPromoteResult:
    return EnvPromoteResult(
        name,
        ver,
        landed.from_stage,
        to,
        landed.replaced,
        landed.commit,
        env.name,
        env.where,
        source_commit,
        landed.actor,
        landed.forced,
        tuple(dict.fromkeys([*landed.warnings, *stx.warnings])),
    )


def _in_env(exc: RegistryError, env: Environment) -> RegistryError:
    """The other registry's refusal, said to be theirs (same code and exit code)."""
    exc.message = f"environment {env.name!r} ({env.where}): {exc.message}"
    exc.args = (exc.message,)
    exc.details = {**(exc.details or {}), "environment": env.name, "target": env.where}
    if exc.hint:
        exc.hint = f"{exc.hint} (in that registry: {env.where})"
    return exc


def _describe(repo: Repo) -> str:
    """This registry as the other one should name it: its origin URL without credentials, else its folder."""
    from .gitops import redact_url

    proc = repo.git("remote", "get-url", "origin", check=False)
    url = proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else ""
    return redact_url(url) if url else str(repo.toplevel)


@dataclass(frozen=True)
class _Landed:
    from_stage: str | None
    replaced: str | None
    commit: str | None  # publish() reads this: None means there was nothing to do
    actor: str
    forced: bool
    head: str | None  # the other registry's HEAD after the landing
    warnings: tuple[str, ...]


def _land(
    target: ModelRegistry,
    src: Record,
    src_meta: dict[str, Any],
    src_dir: Path,
    artifact: Path,
    to: str,
    reason: str | None,
    force: bool,
    source_ref: str,
) -> _Landed:
    """Inside the other registry: copy (if new) and put the version in ``to`` under its own rules; one commit."""
    from . import lifecycle as L

    name, ver = str(src["name"]), str(src["version"])
    ref = f"{name}@{ver}"
    sha = (src_meta.get("artifact") or {}).get("sha256")
    with target._write() as tx:
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
                return _Landed(have["stage"], None, None, tx.actor, False, tx.head, ())
            tmeta = target._read_metadata(have)
            L.check_approvals(rule, tmeta.get("approvals") or [], to, tmeta.get("created_by"), ref)
            seqs, incs = target._move(tx, have, "promote", to, reason, move.forced, holder, f"replaced by v{ver}")
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
            seqs, incs = _copy_in(target, tx, src, src_meta, src_dir, artifact, to, reason, source_ref, holder, ver)
            from_stage, forced = None, False
        commit = target._finish(
            tx,
            incs,
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
        return _Landed(from_stage, replaced, commit, tx.actor, forced, commit, tuple(tx.warnings))


def _copy_in(
    target: ModelRegistry,
    tx: Transaction,
    src: Record,
    src_meta: dict[str, Any],
    src_dir: Path,
    artifact: Path,
    to: str,
    reason: str | None,
    source_ref: str,
    holder: Record | None,
    ver: str,
) -> tuple[list[str], set[str]]:
    """Copy a version new to the other registry into the same increment id, verify it there, place it in ``to``.

    ``artifact`` is the verified local copy (in git, or fetched from the source's store). The other registry's
    own ``artifact_store`` decides where it goes: into the version folder (git), or a content-addressed upload to
    its object store (nothing sent when the object is there already, as when both registries share one store).
    """
    from .metadata import ordered
    from .store.artifacts import copy_artifact, verify_artifact
    from .store.files import dump_json
    from .workflow import HISTORY_HEADER, _cell

    name = str(src["name"])
    art = dict(src_meta.get("artifact") or {})
    inc = target.layout.resolve_increment(str(src["increment"]), create=True)
    folder = target.layout.version_rel(inc, name, ver)
    if target.layout.abs(folder).exists():
        raise IntegrityError(
            f"{folder} exists there but holds no registered version",
            hint="run 'sw-registry registry-verify' in that registry and remove or commit the folder",
            details={"path": folder},
        )
    dest = tx.make_dir(folder)
    store = target._object_store(tx.index.policy)
    if store is not None:
        from .store.objectstore import upload_artifact

        # before any metadata is written: a failed upload (store_error) leaves nothing behind, on either side
        placed = upload_artifact(store, artifact)  # hashes the bytes it reads, and again the bytes it sends
        if not placed.pop("uploaded"):
            tx.warnings.append(f"artifact already in the store ({placed['store']}); nothing uploaded")
        if placed["sha256"] != art.get("sha256"):
            raise IntegrityError(
                f"{name}@{ver}: the artifact uploaded to {placed['store']} hashes {placed['sha256']}, "
                f"metadata says {art.get('sha256')}",
                hint="the artifact changed while it was being promoted; run registry-verify and promote again",
            )
    else:
        placed = copy_artifact(artifact, dest / str(art["path"]))
        verify_artifact(dest / str(art["path"]), art, f"{name}@{ver} (copied)")  # its hash, read back there
    art.pop("files", None)
    art.update(placed)  # where this registry keeps it (store, files); format and the rest as the source says
    for side in ("requirements.txt", "features.yaml"):
        data = (src_dir / side).read_bytes() if (src_dir / side).is_file() else b""
        tx.write(f"{folder}/{side}", data)
    now = target._now()
    seq = tx.index.max_seq(name) + 1
    meta = copy.deepcopy(src_meta)
    meta.pop("environments", None)  # the source's links are not this registry's
    meta.update(
        {
            "artifact": art,
            "increment": inc.id,
            "stage": to,
            "updated_at": now,
            "approvals": [],  # approvals are this registry's own
            "deprecation": None,
            "stage_history": [
                {
                    "seq": seq,
                    "event": "promote",
                    "from": None,
                    "to": to,
                    "at": now,
                    "by": tx.actor,
                    "reason": reason,
                    "forced": False,
                    "source": source_ref,
                }
            ],
            "source": {"registry": source_ref.rsplit("@", 1)[0], "commit": source_ref.rsplit("@", 1)[1]},
        }
    )
    tx.write(f"{folder}/metadata.json", dump_json(ordered(meta)))
    rel = f"{inc.rel}/registry/deployment_history.md"
    path = target.layout.abs(rel)
    text = path.read_text(encoding="utf-8") if path.exists() else HISTORY_HEADER
    text += ("" if text.endswith("\n") else "\n") + (
        f"| {now} | {_cell(name)} | v{ver} | from {_cell(source_ref)} | {to} | {_cell(tx.actor)} | {_cell(reason)} |\n"
    )
    tx.write(rel, text.encode("utf-8"), durable=False)
    seqs, incs = [str(seq)], {inc.id}
    if holder is not None:
        target._stage_change(tx, holder, event="archive", to="archived", seq=seq + 1, reason=f"replaced by v{ver}")
        seqs.append(str(seq + 1))
        incs.add(str(holder["increment"]))
    return seqs, incs

