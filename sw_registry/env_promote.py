"""Promoting into an environment, the source side (SPEC §11; see environments.py for the whole flow).

Under this registry's write lock: check and verify the version here, land it in the other registry
(env_landing.py; through publish() for a git URL), then record ``environments.<env>`` in this version's
metadata in a commit of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .env_landing import Landed, SourceVersion, land
from .environments import Environment, EnvPromoteResult, _origin, _unreachable, target_root
from .errors import ConfigError, GitError, InvalidTransition, RegistryError

if TYPE_CHECKING:
    from .gitops import NetProgress, Repo
    from .registry import ModelRegistry
    from .transaction import Transaction


def promote(
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
    """Land NAME@VER in ``env`` at stage ``to`` and link it here; the source's write lock is held throughout."""
    from .publish import publish

    with reg.ctx.write() as stx:  # held to the end: the link commit cannot be refused after the other side moved
        src = _source(reg, stx, name, ver, from_stage)
        troot = target_root(env, reg.root, progress)
        if troot.resolve() == reg.root.resolve():
            raise ConfigError(
                f"environment {env.name!r} is this registry itself", hint=f"fix environments.{env.name}.root"
            )
        from .registry import ModelRegistry

        target = ModelRegistry(root=troot, actor=reg.actor or stx.actor)

        def landing() -> Landed:
            return land(target, src, to, reason, force)

        try:
            landed = publish(troot, landing) if env.url is not None else landing()
        except GitError as exc:
            if env.url is not None and (exc.details or {}).get("network"):
                raise _unreachable(env, exc) from None
            raise _in_env(exc, env) from None
        except RegistryError as exc:
            raise _in_env(exc, env) from None
        return _result(name, ver, env, to, landed, _link(reg, stx, src, env, to, landed, reason), stx)


def _source(reg: ModelRegistry, stx: Transaction, name: str, ver: str, from_stage: str | None) -> SourceVersion:
    """The version here, its stage checked against ``--from`` and its artifact's hash verified."""
    from .ops.common import read_metadata
    from .ops.reads import verified
    from .store.artifacts import verify_artifact
    from .store.files import check_writable
    from .store.objectstore import is_store_artifact

    ref = f"{name}@{ver}"
    rec = stx.index.get(name, ver)
    if from_stage is not None and rec["stage"] != from_stage:
        raise InvalidTransition(
            f"{ref} is in {rec['stage']}, not {from_stage}",
            hint="drop --from, or check the version's stage with registry-info",
            details={"stage": rec["stage"], "expected": from_stage},
        )
    meta = read_metadata(reg.ctx, rec)
    check_writable(meta, f"{rec['dir']}/metadata.json")
    art = meta.get("artifact") or {}
    folder = reg.layout.abs(rec["dir"])
    if is_store_artifact(art):
        # as registry-get: a copy in this project's cache, downloaded if needed, its hash verified
        artifact = Path(verified(reg.ctx, meta, rec).path)
    else:
        artifact = folder / str(art.get("path", ""))
        verify_artifact(artifact, art, ref)
    return SourceVersion(rec, meta, folder, artifact, f"{_describe(stx.repo)}@{stx.head or 'unborn'}")


def _link(
    reg: ModelRegistry,
    stx: Transaction,
    src: SourceVersion,
    env: Environment,
    to: str,
    landed: Landed,
    reason: str | None,
) -> str | None:
    """Record ``environments.<env>: {stage, commit, at}`` in the source version's metadata (one commit here);
    None when the landing changed nothing and the link already says so."""
    from .ops.common import rewrite_metadata
    from .ops.moves import finish

    rec, meta = src.rec, src.meta
    name, ver = str(rec["name"]), str(rec["version"])
    link = (meta.get("environments") or {}).get(env.name) if isinstance(meta.get("environments"), dict) else None
    if landed.commit is None and isinstance(link, dict) and link.get("stage") == to:
        return None
    entry = {"stage": to, "commit": landed.commit or landed.head, "at": reg.ctx.now()}

    def change(m: dict[str, Any]) -> None:
        envs = m.get("environments")
        if not isinstance(envs, dict):
            envs = m["environments"] = {}
        envs[env.name] = entry

    rewrite_metadata(reg.ctx, stx, rec, change)
    return finish(
        reg.ctx,
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


def _result(
    name: str, ver: str, env: Environment, to: str, landed: Landed, source_commit: str | None, stx: Transaction
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

    url = _origin(repo.toplevel)
    return redact_url(url) if url else str(repo.toplevel)
