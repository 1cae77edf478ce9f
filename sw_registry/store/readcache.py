"""The read memo: ``registry-list``, ``registry-info``, ``registry-get`` and ``registry-history`` with ``--json``
answered from their last output while nothing they rest on has changed.

The exact stdout of a plain read command line is kept with a *token* taken before that command read anything
(memo_token.py):

- HEAD (the HEAD file, the loose ref it names, the stat of packed-refs and of a reftable's table list), the stat of
  git's index file, and whether a registry write's journal is present;
- the stat of registry.yaml, of the increments folder and its ``_archive``/``_abandoned``/``_paused`` folders,
  and of every increment's ``models/`` folder;
- and, kept beside it, the stat of every metadata.json the answer rests on (the model's version folders; every
  version folder for registry-list).

A read whose token is the entry's and whose version files all keep their stat prints the entry (``registry-get``
first hashes the artifact again, as SPEC §7.13 asks); any other read runs the command and keeps its output. So a
hand edit of a metadata.json, staged or not, in place or saved by rename, is seen by the next read: metadata.json
is the source of truth (SPEC §2). What the memo saves is the parsing, aggregating and rendering; the stat of each
version file (2-7 µs each, by the machine) is what it costs, unless a watcher runs (sw_registry/watcher): then a
read whose watcher answer (store/watch_client.py) is the one kept with the entry skips those stats, since no event
came in between. A read that stats ``AUTO_MIN_FILES`` files or more for want of one starts one for the reads
after it (store/watch_start.py, ``SW_REGISTRY_WATCHER``). ``SW_REGISTRY_READ_CACHE=off`` turns the memo off.

Not trusted: a token or file stat taken within ``RACY_NS`` of a change it records (a second change in the same
filesystem timestamp tick would go unseen), a project without ``.specweave/``, no git repository, or git
environment variables that move the repository (``GIT_DIR``, ``GIT_INDEX_FILE``...). Then nothing is memoised.

This module is on the hot path of a read: it imports only os, marshal, time, memo_file.py, memo_token.py and
watch_client.py.
"""

from __future__ import annotations

import marshal
import os

from .memo_file import Entry, dump, load, send_text
from .memo_token import find_root, token
from .watch_client import AUTO_MIN_FILES
from .watch_client import state as watch_state

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

MEMO_FORMAT = 6
RACY_NS = 50_000_000
FORK_MIN_FILES = 4000  # metadata files to stat (a hit's check, a miss's record) from which a second process pays
COMMANDS = ("registry-list", "registry-info", "registry-get", "registry-history")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-=")

# (memo file, key, token, root, the version files' fingerprints, the watcher's answer) of the running read
_pending: tuple[str, str, tuple[Any, ...], str, tuple[Any, ...], str | None] | None = None


def enabled() -> bool:
    return os.environ.get("SW_REGISTRY_READ_CACHE", "").lower() not in ("0", "off", "no", "false")


def memo_key(command: str, kwargs: dict[str, Any]) -> str | None:
    """The memo's key for one command line (None for lines it does not keep: --rev, --all-versions, --date,
    human output)."""
    if command not in COMMANDS or kwargs.get("rev") is not None or kwargs.get("all_versions"):
        return None
    if any(kwargs.get(k) is not None for k in ("date", "since", "until")):  # one entry per instant: no bound
        return None
    as_json = kwargs.get("json") or (command == "registry-history" and kwargs.get("fmt") == "json")
    if not as_json and os.environ.get("SW_REGISTRY_JSON", "").lower() not in ("1", "true", "yes"):
        return None
    parts = [command]
    for name in sorted(kwargs):
        value = kwargs[name]
        if name in ("root", "json", "path_only") or value is None or value is False:
            continue
        if not isinstance(value, str):
            return None
        parts.append(f"{name}={value}")
    return "+".join(parts)


def _memo_file(root: str, key: str) -> str | None:
    name = "".join(c if c in _KEY_CHARS else "_" for c in key)
    if len(name) > 180:
        return None
    return f"{root}/.specweave/cache/sw-registry/reads/{name}.marshal"


def serve(command: str, kwargs: dict[str, Any]) -> bool:
    """Print the memo of this read when it is current (True); else note where the command's output goes."""
    global _pending
    _pending = None
    if os.environ.get("SW_REGISTRY_WATCHER", "").strip():
        from .watch_start import mode

        try:
            mode()
        except ValueError:
            return False  # the command runs, and the CLI's funnel refuses the setting (cli/output.py)
    try:
        entry = _lookup(command, kwargs)
    except (OSError, ValueError):  # a NUL byte or an unusable path: the command itself says what is wrong
        _pending = None
        return False
    if entry is None:
        return False
    try:
        send_text(entry)  # outside the try above: a broken pipe is the CLI's to report, nothing is printed twice
    finally:
        entry.close()
    return True


def _lookup(command: str, kwargs: dict[str, Any]) -> Entry | None:
    """The kept entry when it is current (open: the caller prints and closes it); else None, with the command's
    output to be kept noted."""
    global _pending
    key = memo_key(command, kwargs) if enabled() else None
    root = find_root(kwargs.get("root")) if key else None
    if key is None or root is None or not os.path.isdir(root + "/.specweave"):
        return None
    path = _memo_file(root, key)
    now = token(root, MEMO_FORMAT, RACY_NS)
    if path is None or now is None:
        return None
    tok, racy, models = now
    watch = watch_state(root)  # before the command reads: a change after it is counted by the next answer
    entry = load(path)
    if entry is not None:
        try:
            current = (entry.key == key and entry.token == tok and _unchanged(entry, watch, root)
                       and _still_verified(entry.check))
        except BaseException:
            entry.close()
            raise
        if current:
            if watch is not None and entry.watch != watch and not racy:
                _keep_answer(path, entry, watch)
            return entry
        entry.close()
    files = version_files(models, kwargs.get("name"))
    if files is not None and watch is None:
        _start_watcher(root, files)
    if files is not None and not racy and not _racy(files):
        _pending = (path, key, tok, root, files, watch)
    return None


def _unchanged(entry: Entry, watch: str | None, root: str) -> bool:
    """No version file changed since the entry was kept: the watcher's answer is the same (no event came), or each
    file keeps its stat (kept marshalled: read and decoded only here)."""
    if watch is not None and entry.watch == watch:
        return True
    try:
        files = marshal.loads(entry.files_blob())
    except (OSError, EOFError, ValueError, TypeError):
        return False
    if watch is None:
        _start_watcher(root, files)
    return _files_unchanged(files)


def _start_watcher(root: str, files: Any) -> None:
    """No watcher answered, so every file is stat'ed: start one when the registry is big enough
    (store/watch_start.py), for the reads after this one."""
    try:
        count = sum(len(folder[1]) for folder in files)
    except (TypeError, IndexError):  # a memo file of another shape: its stat check fails and the command runs
        return
    if count >= AUTO_MIN_FILES or os.environ.get("SW_REGISTRY_WATCHER"):
        from . import watch_start

        if watch_start.wanted(count):
            watch_start.start(root)


def _keep_answer(path: str, entry: Entry, watch: str) -> None:
    """An entry the stats found current, kept again with the watcher's answer taken before those stats: a change
    after that answer is counted by a later one, and none came before it (the stats say so), so the next read may
    skip the stats (a watcher started after the entry was kept; a change to another model's files)."""
    from pathlib import Path

    from .files import atomic_write

    try:
        text = entry.text()
        atomic_write(Path(path), dump(entry.key, entry.token, entry.check, watch, text, entry.files_blob()),
                     durable=False)
    except (OSError, ValueError):
        pass  # a read-only checkout (or a file cut short meanwhile): the stats are checked again next time


def version_files(models: list[str], name: Any) -> tuple[Any, ...] | None:
    """The stat of every metadata.json the answer rests on (of model ``name``'s version folders in the increments'
    ``models`` folders, or of every version folder for registry-list), taken BEFORE the command reads them: an edit
    made after this is seen by the next read, whatever the command itself read. None when a folder cannot be
    listed. (Version folders added or removed change their ``models/`` folder, which the token holds.)

    Kept per ``models`` folder: (folder, version folder names, their metadata.json stats), each file stat'ed
    relative to its open folder (the kernel resolves two path parts, not ten; a memo half the size to load). With
    ``FORK_MIN_FILES`` or more, a forked child stats the second half of the folders meanwhile
    (``forks.map_in_two``), as a memo hit's check does."""
    if name is not None and (not isinstance(name, str) or "/" in name or name.startswith(".")):
        return None
    prefix = f"{name}-v" if name is not None else ""
    listed: list[tuple[str, tuple[str, ...]]] = []
    try:
        for folder in models:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                with os.scandir(fd) as entries:
                    listed.append((folder, tuple(sorted(e.name for e in entries if e.name.startswith(prefix)
                                                        and e.is_dir()))))
            finally:
                os.close(fd)
        if _two_processes(sum(len(names) for _, names in listed)):
            from . import forks

            return tuple(forks.map_in_two(listed, lambda folder: len(folder[1]), _stat_folders))
        return tuple(_stat_folders(listed))
    except OSError:
        return None


def _two_processes(total: int) -> bool:
    """Whether ``total`` files are worth a second process here (``FORK_MIN_FILES``, a second core, no other thread);
    below the minimum, forks.py is not imported."""
    if total < FORK_MIN_FILES:
        return False
    from . import forks

    return forks.can_fork(total, FORK_MIN_FILES)


def _stat_folders(listed: Sequence[tuple[str, tuple[str, ...]]]) -> list[Any]:
    """(folder, names, the stat of each ``NAME/metadata.json``) of each listed folder."""
    out: list[Any] = []
    for folder, names in listed:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            out.append((folder, names, _stats_at(fd, names)))
        finally:
            os.close(fd)
    return out


def _stats_at(fd: int, names: Any) -> tuple[Any, ...]:
    """The stat of each ``NAME/metadata.json`` under the open folder ``fd`` (None where it is missing)."""
    stat = os.stat
    out: list[Any] = []
    for name in names:
        try:
            st = stat(f"{name}/metadata.json", dir_fd=fd)
        except (OSError, ValueError):
            out.append(None)
            continue
        out.append((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
    return tuple(out)


def _files_unchanged(files: Any) -> bool:
    """Every metadata.json the answer rests on has the stat it had (a hand edit in place or a save by rename
    changes it). With ``FORK_MIN_FILES`` or more, a forked child stats the second half of the folders meanwhile
    (``forks.all_in_two``): registry-list at 10,002 versions 105 -> 79 ms here."""
    if not isinstance(files, tuple):
        return False
    try:
        if _two_processes(sum(len(names) for _, names, _ in files)):
            from . import forks

            return forks.all_in_two(files, lambda folder: len(folder[1]), _same_stats)
        return _same_stats(files)
    except (TypeError, ValueError):  # a memo file of another shape (damaged, or written by hand): not the same
        return False


def _same_stats(files: Sequence[Any]) -> bool:
    for folder, names, stats in files:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return False
        try:
            if _stats_at(fd, names) != stats:
                return False
        finally:
            os.close(fd)
    return True


def _racy(files: tuple[Any, ...]) -> bool:
    import time

    now = time.time_ns()
    return any(st is not None and now - max(st[0], st[1]) < RACY_NS for _, _, stats in files for st in stats)


def _still_verified(check: Any) -> bool:
    """registry-get: the artifact still hashes to what its metadata recorded (``memo_artifact.py``)."""
    if check is None:
        return True
    from .memo_artifact import still_verified

    try:
        return still_verified(check)
    except (TypeError, ValueError):  # a memo file of another shape: not verified, the command runs
        return False


def forget() -> None:
    global _pending
    _pending = None


def keeps_output() -> bool:
    """Whether the output about to be written is to be kept (``record`` will want its whole text)."""
    return _pending is not None


def record(envelope: dict[str, Any], text: str) -> None:
    """Keep the output of the read that serve() let through (called by the JSON writer)."""
    global _pending
    pending, _pending = _pending, None
    if pending is None or envelope.get("ok") is not True:
        return
    path, key, tok, root, files, watch = pending
    check = None
    if key.startswith("registry-get"):
        from .memo_artifact import artifact_check

        check = artifact_check(envelope.get("data"), root)
        if check is None:
            return
    from pathlib import Path

    from .files import atomic_write
    from .index import ensure_ignored

    folder = Path(path).parent
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            ensure_ignored(folder)
        atomic_write(Path(path), dump(key, tok, check, watch, text.encode("utf-8"), marshal.dumps(files)),
                     durable=False)
    except (OSError, UnicodeError):
        pass  # a read-only checkout reads without the memo; text that is not UTF-8 (a lone surrogate) is not kept
