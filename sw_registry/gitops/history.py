"""Reading what git has: the registry's commits and trailers, and files at a revision."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import GitError
from .run import git_env

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any

    from .repo import Repo

# git's pack window and delta cache bounded: a walk that diffs every commit's tree keeps its memory flat (issue 10)
LEAN = ("-c", "core.deltaBaseCacheLimit=4m", "-c", "core.packedGitWindowSize=1m", "-c", "core.packedGitLimit=8m")


SEQ_FORMAT = (
    "%H%x1f%(trailers:key=Registry-Model,valueonly,separator=%x2C)"
    "%x1f%(trailers:key=Registry-Seq,valueonly,separator=%x2C)%x1e"
)


def _seq_log(span: list[str]) -> list[str]:
    # the walk diffs every commit's tree: LEAN keeps its memory flat (10,002 versions: 163 MB -> 21 MB peak)
    return [*LEAN, "log", f"--format={SEQ_FORMAT}", *span, "--", ".specweave"]


def seq_commits(repo: Repo, name: str, since: str | None = None) -> dict[int, str]:
    """seq -> commit id, from the Registry-Seq trailers of the commits about model ``name`` (only the commits
    after ``since``, an ancestor of HEAD, when given)."""
    proc = repo.git(*_seq_log([f"{since}..HEAD"] if since else []), check=False)
    return _seqs_of(proc.stdout, name)


class PendingSeqs:
    """``seq_commits(repo, name)`` started now, as of HEAD ``head``: git's walk (0.8 s at 10,002 versions) runs while
    the caller reads the metadata, its output drained by a thread of ours so that git never waits on a full pipe.
    ``result()`` waits for it (None if git failed or could not start)."""

    def __init__(self, repo: Repo, name: str, head: str) -> None:
        from .. import threads as threading

        self.name, self.head = name, head
        self._out: bytes | None = None
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["git", *_seq_log([])], cwd=repo.root, env=git_env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._proc = None
            return
        self._reader = threading.Thread(target=self._drain, name="sw-registry-log", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self._proc is not None
        self._out = self._proc.communicate()[0]

    def cancel(self) -> None:
        """The caller failed before it needed the walk: stop git."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        self.result()

    def result(self) -> dict[int, str] | None:
        if self._proc is None:
            return None
        self._reader.join()
        if self._proc.returncode != 0 or self._out is None:
            return None
        return _seqs_of(self._out, self.name)


def _seqs_of(stdout: bytes, name: str) -> dict[int, str]:
    """seq -> commit of ``name`` in the output of ``_seq_log`` (newest first: the newest commit of a seq wins)."""
    out: dict[int, str] = {}
    for record in stdout.decode("utf-8", "replace").split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) != 3 or parts[1].strip() != name:
            continue
        for seq in parts[2].replace(" ", "").split(","):
            if seq.isdigit():
                out.setdefault(int(seq), parts[0])
    return out


def is_ancestor(repo: Repo, older: str, newer: str) -> bool:
    """Whether commit ``older`` is in the history of ``newer`` (False if it no longer exists)."""
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", older):
        return False
    return repo.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


LOG_FORMAT = (
    "%x1e%H%x1f%ae%x1f%P%x1f%ad%x1f%(trailers:key=Registry-Event,valueonly,separator=%x2C)"
    "%x1f%(trailers:only=true,unfold=true,separator=%x1d)"
)


def _log_args(since: str | None = None, until: str | None = None, commit: str | None = None) -> list[str]:
    """``git log``'s arguments; ``commit``: a full commit id to walk from instead of HEAD (a resolved ``--rev``)."""
    args = ["-c", "core.quotePath=false", *LEAN, "log", f"--format={LOG_FORMAT}", "--name-status", "-M",
            "--date=format-local:%Y-%m-%dT%H:%M:%SZ"]  # with TZ=UTC: UTC ISO-8601 with Z (SPEC §9)
    if since:
        args.append(f"--since={since}")
    if until:
        args.append(f"--until={until}")
    if commit:
        if not all(c in "0123456789abcdef" for c in commit):
            raise ValueError(f"not a commit id: {commit!r}")  # never an option git would read
        args.append(commit)
    return args


def registry_log(repo: Repo, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    """Commits touching .specweave/, oldest first: id, author, parents, date, Registry-Event, all Registry-*
    trailers (``trailers``: lower-case key without the prefix -> value) and the changed paths (``changes``) of the
    commits without a Registry-Event, the only ones whose paths anything reads (a registry commit's are [])."""
    return _oldest_first(walk_log(repo, since, until))


def walk_log(repo: Repo, since: str | None = None, until: str | None = None, commit: str | None = None
             ) -> Iterator[dict[str, Any]]:
    """``registry_log``'s commits newest first (from ``commit``, else HEAD), each made as git prints it: a caller
    that keeps less than every record (registry-audit keeps its events) never holds the whole log (18 MB of records
    at 10,002 versions)."""
    return _read_log(repo, _log_args(since, until, commit), events=True)


def unmarked_log(repo: Repo) -> list[dict[str, Any]]:
    """``registry_log``'s commits without a Registry-Event trailer, oldest first (what registry-verify checks)."""
    return _oldest_first(_read_log(repo, _log_args(), events=False))


def _oldest_first(records: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(records)
    out.reverse()
    return out


def _read_log(repo: Repo, args: list[str], events: bool) -> Iterator[dict[str, Any]]:
    """The log read as git prints it, newest first: without ``--reverse`` (which makes git hold every commit before
    it prints one) and as a stream, each record made as its bytes arrive, not from git's whole output as one string
    (registry-verify at 10,002 versions peaked at 207 MB, 169 MB of it git's; registry-audit at 111 MB). git is
    stopped if the caller stops early."""
    proc = subprocess.Popen(
        ["git", *args, "--", ".specweave"], cwd=repo.root, env=git_env({"TZ": "UTC"}),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    done = False
    try:
        with proc.stdout as stream:
            rest = b""
            while not done:
                data = stream.read(1 << 16)
                records = (rest + data).split(b"\x1e")
                rest = records.pop() if data else b""
                for raw in records:
                    if raw:
                        record = _log_record(repo, raw.decode("utf-8", "replace"), events)
                        if record is not None:
                            yield record
                done = not data
    finally:
        if not done:
            proc.kill()
        proc.wait()


def _log_record(repo: Repo, chunk: str, events: bool) -> dict[str, Any] | None:
    """One commit of the log (None: a registry commit, when ``events`` is False)."""
    head, _, body = chunk.partition("\n")
    commit, author, parents, date, event, block = (head.split("\x1f") + [""] * 6)[:6]
    event = event.strip()
    if event and not events:
        return None
    trailers: dict[str, str] = {}
    for item in block.split("\x1d"):
        key, sep, value = item.partition(": ")
        if sep and key.startswith("Registry-"):
            trailers.setdefault(key[len("Registry-") :].lower(), value.strip())
    changes = []
    for line in body.splitlines() if not event else ():
        if not line.strip():
            continue
        status, *paths = line.split("\t")
        paths = [p[len(repo.prefix) :] if repo.prefix and p.startswith(repo.prefix) else p for p in paths]
        changes.append((status, paths))
    return {
        "commit": commit,
        "author": author,
        "parents": parents.split(),
        "date": date,
        "event": event or None,
        "trailers": trailers,
        "changes": changes,
    }


# -- reads at a revision ------------------------------------------------------------
def resolve_rev(repo: Repo, rev: str) -> str:
    proc = repo.git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        from ..errors import NotFound

        raise NotFound(f"no commit, branch or tag {rev!r}", hint="pass a ref that git rev-parse knows")
    return proc.stdout.decode().strip()


def ls_tree(repo: Repo, commit: str, path: str) -> dict[str, tuple[str, str, int]]:
    """root-relative path -> (type, object id, size) of everything below ``path`` at ``commit``."""
    proc = repo.git("ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", repo.prefix + path)
    out: dict[str, tuple[str, str, int]] = {}
    for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        meta, _, path_ = entry.partition("\t")
        _mode, kind, oid, size = meta.split()
        rel = path_[len(repo.prefix) :] if repo.prefix else path_
        out[rel] = (kind, oid, int(size) if size.isdigit() else 0)
    return out


def read_blobs(repo: Repo, oids: Sequence[str]) -> dict[str, bytes]:
    if not oids:
        return {}
    proc = repo.git("cat-file", "--batch", input=("\n".join(oids) + "\n").encode())
    data, out, pos = proc.stdout, {}, 0
    for oid in oids:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].split()
        size = int(header[2])
        out[oid] = data[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
    return out


def blob_to_file(repo: Repo, oid: str, dest: Path) -> None:
    with open(dest, "wb") as fh:
        proc = subprocess.run(
            ["git", "cat-file", "blob", oid],
            cwd=repo.root,
            stdout=fh,
            stderr=subprocess.PIPE,
            env=git_env(),
            check=False,
        )
    if proc.returncode != 0:
        raise GitError(f"git could not read object {oid}", hint="run git fsck")
