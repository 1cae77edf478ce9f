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

This module resolves an environment (its folder, or a clone of its git URL in the cache) and is the entry
point; env_promote.py does the promotion itself (the source side and the link commit), env_landing.py the
landing inside the other registry.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import versions as V
from .errors import (
    ConfigError,
    GitError,
    InvalidInput,
    RegistryError,
    StoreError,
)
from .results import _Result

if TYPE_CHECKING:
    from .gitops import NetProgress
    from .registry import ModelRegistry

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
    env = environment(reg.ctx.index().policy, env_name, reg.root)
    to = stage or env.stage
    if to not in ("dev", "staging", "production"):
        raise InvalidInput(
            f"a version is promoted into another registry's dev, staging or production, not {to}",
            hint="archive it in that registry itself",
        )

    from .env_promote import promote

    def run() -> EnvPromoteResult:
        return promote(reg, name, ver, env, to, from_stage, reason, force, progress)

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
