"""Network work, clone, fetch and push, through GitPython."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import GitError, RegistryError
from .run import _STRIP_ENV, git_env

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .repo import Repo

# GitPython costs 100-250 ms to import (README, "GitPython"), so only these functions import it, inside
# themselves: a network operation pays it once, reads and local writes never. It gives push and fetch
# results as data (a rejected push is a flag, not a word to find in git's output), parses git's progress
# for us, and refuses git's unsafe transports (ext::) and options in URLs that come from registry.yaml.

NetProgress = Callable[[str, int, "int | None"], None]  # (what git is doing, done, total or None)
_URL_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def redact_url(text: str) -> str:
    """``text`` with the user and password of every ``scheme://user:secret@host`` URL left out."""
    return _URL_USERINFO.sub(r"\1", text)


@contextmanager
def _clean_environ() -> Iterator[None]:
    """GitPython runs git with a copy of os.environ (it can add variables, not remove them): drop the ones
    that would redirect git to another repository (inside a git hook they point at the user's repo)."""
    saved = {k: os.environ.pop(k) for k in _STRIP_ENV if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _gitpython() -> Any:
    try:
        import git
    except ImportError as exc:  # GitPython missing, or no git binary for it to find
        raise GitError(f"GitPython cannot be used: {exc}", hint="pip install 'gitpython>=3.1.40,<4' and git") from None
    import logging

    # GitPython logs git's words about a rejected push ("Error lines received while pushing: ...") at ERROR; with
    # no handler configured, Python's last-resort handler printed them on stderr, which SPEC §9 keeps empty (what
    # git said reaches the user inside an error's message or details). A program that configures logging still
    # gets them through its own handlers.
    log = logging.getLogger("git")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    return git


def _progress(progress: NetProgress | None) -> Any:
    if progress is None:
        return None
    from git import RemoteProgress

    names = {
        RemoteProgress.COUNTING: "counting objects",
        RemoteProgress.COMPRESSING: "compressing objects",
        RemoteProgress.WRITING: "writing objects",
        RemoteProgress.RECEIVING: "receiving objects",
        RemoteProgress.RESOLVING: "resolving deltas",
        RemoteProgress.FINDING_SOURCES: "finding sources",
        RemoteProgress.CHECKING_OUT: "checking out files",
    }

    report = progress

    class Adapter(RemoteProgress):  # type: ignore[misc]
        def update(self, op_code: int, cur_count: Any, max_count: Any = None, message: str = "") -> None:
            what = names.get(op_code & RemoteProgress.OP_MASK, "working")
            report(what, int(float(cur_count or 0)), int(float(max_count)) if max_count else None)

    return Adapter()


def _net_error(what: str, url: str, exc: BaseException) -> RegistryError:
    text = str(getattr(exc, "stderr", "") or exc).strip().strip("'").strip()
    return GitError(
        redact_url(f"git {what} of {url} failed: {text}"),
        hint="check the URL and your access to it (git's credentials: ssh keys, a credential helper)",
        details={"url": redact_url(url), "network": True},
    )


def net_clone(url: str, dest: Path, progress: NetProgress | None = None) -> None:
    """Clone ``url`` into ``dest`` (which must not exist); GitError naming the URL without credentials."""
    git = _gitpython()
    with _clean_environ():
        try:
            git.Repo.clone_from(url, str(dest), progress=_progress(progress), env=git_env())
        except git.GitCommandError as exc:
            raise _net_error("clone", url, exc) from None


def net_fetch(repo: Repo, remote: str, refspec: str, progress: NetProgress | None = None) -> None:
    """``git fetch remote refspec`` (FETCH_HEAD names what came)."""
    git = _gitpython()
    with _clean_environ():
        try:
            git.Repo(str(repo.toplevel)).remote(remote).fetch(refspec, progress=_progress(progress), env=git_env())
        except (git.GitCommandError, ValueError) as exc:
            raise _net_error("fetch", _remote_url(repo, remote), exc) from None


def net_push(repo: Repo, remote: str, branch: str, progress: NetProgress | None = None) -> bool:
    """Push HEAD to ``remote``'s ``branch``: True when it landed, False when it was rejected as out of date."""
    git = _gitpython()
    with _clean_environ():
        try:
            infos = (
                git.Repo(str(repo.toplevel))
                .remote(remote)
                .push(f"HEAD:refs/heads/{branch}", progress=_progress(progress), env=git_env())
            )
        except (git.GitCommandError, ValueError) as exc:
            raise _net_error("push", _remote_url(repo, remote), exc) from None
    flags = [info.flags for info in infos]
    if flags and all(f & git.PushInfo.REJECTED for f in flags):
        return False  # out of date: the caller fetches and re-runs
    if not flags or infos.error is not None or any(f & git.PushInfo.ERROR for f in flags):
        summary = "; ".join(info.summary.strip() for info in infos) or str(infos.error or "no result")
        raise GitError(
            redact_url(f"git push to {remote} ({_remote_url(repo, remote)}) failed: {summary}"),
            hint="check the remote and your access to it (a protected branch or hook may refuse it)",
            details={"url": _remote_url(repo, remote), "network": True},
        )
    return True


def _remote_url(repo: Repo, remote: str) -> str:
    proc = repo.git("remote", "get-url", remote, check=False)
    return redact_url(proc.stdout.decode("utf-8", "replace").strip() or remote)
