"""Moving the checked-out branch to a registry commit as ``git update-ref -m MSG HEAD NEW OLD`` does, without a git
process, where git would do it through its files ref backend and nothing else (refs/files-backend.c, git 2.39).

What git does there, and ``move`` does in the same order: lock ``HEAD`` (``HEAD.lock``, created O_EXCL: the lock
every git command takes to change it), read it (a symbolic ref to ``refs/heads/<branch>``), lock the branch
(``refs/heads/<branch>.lock``, likewise), read the branch (the loose file, else its line in ``packed-refs``) and
refuse unless it is at OLD (compare-and-swap: "is at X but expected Y"); write ``NEW\\n`` into the branch's lock
file; append ``OLD NEW <committer ident> <time> <zone>\\t<message>\\n`` (the message's whitespace runs folded to one
space, trimmed) to ``logs/HEAD``, then to the branch's log (created where ``core.logAllRefUpdates`` says git
would: HEAD and refs/heads/ by default in a repository with a work tree; "always": every ref; false: only logs
that exist); rename the branch's lock file onto the ref; remove ``HEAD.lock``. A lock file held by another process
is retried for ``core.filesRefLockTimeout`` ms (git's default 100) with git's backoff, then the move is refused
with nothing changed. Files are created with mode 0666 less the umask, as git creates them. git removes its lock
files when SIGHUP/SIGINT/SIGQUIT/SIGTERM/SIGPIPE ends it; ``move`` holds those signals for the half millisecond it
holds the locks, so one that arrives meanwhile lands when the move is done and the locks are gone.

Anything else goes git's way (``plan`` returns None, the caller runs ``git update-ref``): an unborn branch, HEAD
not a symbolic ref to ``refs/heads/*`` (detached, a symlink, a chain of symbolic refs, a branch name git might
read otherwise), a ``reference-transaction`` hook (git runs it around every ref update), ``extensions.refStorage``
(reftable) or any extension other than ``objectFormat``, ``core.sharedRepository`` (permissions), ``core.fsync``
settings (a fsync'd ref), ``core.bare``, and a setting of ``core.logAllRefUpdates`` or ``core.filesRefLockTimeout``
that is not plainly readable.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time

from .loose import write_all

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    import signal as _signal

    from .repo import Repo
else:
    import _signal  # the C module signal.py wraps, loaded at startup: signal.py's enums cost ~0.5 ms to build

# a branch name whose file name is its ref name (check_refname_format's rules, kept narrower: plain characters,
# no component starting with a dot or ending with .lock, no ".."); checked with string methods, not a regex compiled
# by every write (issue 10)
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-")
_HEX = "0123456789abcdef"


def _is_oid(text: str) -> bool:
    """A full lowercase hex object id (sha1), as git writes one in a ref."""
    return len(text) == 40 and not text.strip(_HEX)


def _is_plain_branch(ref: str) -> bool:
    """``refs/heads/<name>`` whose every component starts with a letter, digit or "_", holds only letters, digits
    and "._+-", does not end with ".lock", and whose name has no ".."."""
    if not ref.startswith("refs/heads/"):
        return False
    name = ref[len("refs/heads/"):]
    if not name or ".." in name:
        return False
    for part in name.split("/"):
        if not part or part[0] in ".+-" or part.endswith(".lock") or not _NAME_CHARS.issuperset(part):
            return False
    return True


_SPACE = " \t\n\r"  # git's isspace (sane_ctype)
_TO_SPACE = str.maketrans("\t\n\r", "   ")
_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off", "")


class Plan:
    """What ``move`` needs: the branch HEAD names, which logs git creates, and how long git waits for a lock."""

    __slots__ = ("branch", "create_logs", "timeout_ms")

    def __init__(self, branch: str, create_logs: bool, timeout_ms: int) -> None:
        self.branch, self.create_logs, self.timeout_ms = branch, create_logs, timeout_ms


def plan(repo: Repo, config: dict[str, str | None], old: str | None) -> Plan | None:
    """How to move HEAD's branch from ``old`` ourselves, or None where ``git update-ref`` must (see the module)."""
    if old is None or not _is_oid(old):
        return None
    for key in config:
        if key.startswith("extensions.") and key != "extensions.objectformat":
            return None
        if key == "core.sharedrepository" or key.startswith("core.fsync"):
            return None
    if _log_setting(config.get("core.bare", "false")) is not False:  # git would keep no logs of its own accord
        return None
    logs = _log_setting(config["core.logallrefupdates"]) if "core.logallrefupdates" in config else True
    timeout = _int_setting(config["core.filesreflocktimeout"]) if "core.filesreflocktimeout" in config else 100
    if logs is None or timeout is None:
        return None
    hook = repo.hooks_dir / "reference-transaction"
    if os.access(hook, os.X_OK) and not os.path.isdir(hook):
        return None
    branch = _symref(f"{repo.git_dir}/HEAD")
    if branch is None:
        return None
    return Plan(branch, logs, timeout)


def _log_setting(value: str | None) -> bool | None:
    """Whether git creates a missing log of HEAD and of a branch (``core.logAllRefUpdates``; None: unreadable)."""
    if value is None:  # "[core] logAllRefUpdates" without a value: true
        return True
    value = value.strip().lower()  # git_config_bool: a number is true unless 0; an empty value is false
    if value == "always" or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    number = _int_setting(value)
    return None if number is None else number != 0


def _int_setting(value: str | None) -> int | None:
    text = "" if value is None else value.strip()
    digits = text.removeprefix("-")
    if not digits.isascii() or not digits.isdigit():
        return None  # git's k/m/g suffixes and the like: git reads them
    return int(text)


def _symref(path: str) -> str | None:
    """The branch a HEAD file names ("ref: refs/heads/<branch>\\n"), None for anything else."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a symlink HEAD (git's oldest form): git's way
            return None
        with open(path, "rb") as fh:
            text = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return None
    if not text.startswith("ref:"):
        return None
    target = text[4:].strip(_SPACE)
    return target if _is_plain_branch(target) else None


def reflog_message(message: str) -> str:
    """The message as git keeps it in a reflog (normalize_reflog_message): whitespace runs one space, trimmed."""
    return " ".join(part for part in message.translate(_TO_SPACE).split(" ") if part)


class Locked(Exception):
    """A lock file held by someone else (or not creatable): the move is refused, nothing changed."""


def _lock(path: str, timeout_ms: int) -> int:
    """Create ``path`` O_EXCL (git's lock_file_timeout: retried with git's backoff while it exists)."""
    n, multiplier, remaining = 1, 1, timeout_ms
    while True:
        try:
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileNotFoundError:  # a packed-only branch in a folder that has no loose ref: git makes it
                os.makedirs(os.path.dirname(path), exist_ok=True)
                return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            if timeout_ms == 0 or (timeout_ms > 0 and remaining <= 0):
                raise Locked(f"Unable to create '{path}': File exists.") from None
        except OSError as exc:
            raise Locked(f"Unable to create '{path}': {exc.strerror}.") from None
        import random  # only a held lock needs it

        wait_ms = (750 + random.randrange(500)) * multiplier // 1000
        time.sleep(wait_ms / 1000)
        remaining -= wait_ms
        multiplier += 2 * n + 1
        if multiplier > 1000:
            multiplier = 1000
        else:
            n += 1


def _read_ref(common: str, ref: str) -> str | None:
    """The branch's id: its loose file, else its line in packed-refs; "" when it has neither; None when git must
    read it (a symbolic ref, a file that is no id)."""
    try:
        with open(f"{common}/{ref}", "rb") as fh:
            text = fh.read(256).decode("ascii", "replace")
    except FileNotFoundError:
        text = None
    except (NotADirectoryError, IsADirectoryError):
        return None
    if text is not None:
        oid = text[:40]
        return oid if _is_oid(oid) and text[40:].strip(_SPACE) == "" else None
    try:
        with open(f"{common}/packed-refs", "rb") as fh:
            packed = fh.read()
    except FileNotFoundError:
        return ""
    tail = b" " + ref.encode() + b"\n"
    for line in packed.split(b"\n"):
        if line[40:] + b"\n" == tail and _is_oid(line[:40].decode("ascii", "replace")):
            return line[:40].decode()
    return ""


def _append_log(path: str, line: bytes, create: bool) -> None:
    """Append ``line`` to a reflog (log_ref_setup + log_ref_write_fd): created, folders and all, when ``create``."""
    if create:
        try:
            fd = os.open(path, os.O_APPEND | os.O_WRONLY | os.O_CREAT, 0o666)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_APPEND | os.O_WRONLY | os.O_CREAT, 0o666)
    else:
        try:
            fd = os.open(path, os.O_APPEND | os.O_WRONLY)
        except (FileNotFoundError, IsADirectoryError):
            return  # no log, and git would not start one
    try:
        write_all(fd, line)
    finally:
        os.close(fd)


def move(repo: Repo, how: Plan, old: str, new: str, committer: str, message: str) -> str | None:
    """Move HEAD's branch from ``old`` to ``new`` as ``git update-ref -m message HEAD new old`` does (see the
    module); None when it moved, else git's reason why not (the ref unchanged), or "" where git must do it after
    all (HEAD or the branch is not what ``plan`` saw: nothing changed)."""
    git_dir = str(repo.git_dir)
    head_lock = f"{git_dir}/HEAD.lock"
    held = _hold_signals()  # git removes its lock files when a signal ends it; we finish first, then it lands
    try:
        try:
            os.close(_lock(head_lock, how.timeout_ms))
        except Locked as exc:
            return f"fatal: cannot lock ref 'HEAD': {exc}"
        try:
            if _symref(f"{git_dir}/HEAD") != how.branch:
                return ""
            return _move_branch(repo, how, old, new, f"{old} {new} {committer}\t{reflog_message(message)}\n")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(head_lock)
    finally:
        if held is not None:
            _signal.pthread_sigmask(_signal.SIG_SETMASK, held)


# the signals git's lock files are removed on (sigchain_push_common), whose default action ends the process
_HELD = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGPIPE")


def _hold_signals() -> set[int | _signal.Signals] | None:
    """Block the signals that would end the process while it holds git's lock files (a kill -9 still can, as it
    can kill git); returns the mask to restore, None where there is none (not POSIX)."""
    if not hasattr(_signal, "pthread_sigmask"):
        return None
    wanted = {getattr(_signal, name) for name in _HELD if hasattr(_signal, name)}
    return _signal.pthread_sigmask(_signal.SIG_BLOCK, wanted)


def _move_branch(repo: Repo, how: Plan, old: str, new: str, line: str) -> str | None:
    """``move`` once HEAD is locked: the branch's lock, its compare-and-swap, both logs, the rename."""
    common = str(repo.common_dir)
    ref, ref_lock = f"{common}/{how.branch}", f"{common}/{how.branch}.lock"
    try:
        ref_fd = _lock(ref_lock, how.timeout_ms)
    except Locked as exc:
        return f"fatal: cannot lock ref 'HEAD': {exc}"
    renamed = False
    try:
        try:
            now = _read_ref(common, how.branch)
            if now is None:
                return ""
            if now != old:
                if not now:
                    return f"fatal: cannot lock ref 'HEAD': unable to resolve reference '{how.branch}'"
                return f"fatal: cannot lock ref 'HEAD': is at {now} but expected {old}"
            write_all(ref_fd, f"{new}\n".encode())
        finally:
            os.close(ref_fd)
        data = line.encode("utf-8", "surrogateescape")
        _append_log(f"{repo.git_dir}/logs/HEAD", data, how.create_logs)
        _append_log(f"{common}/logs/{how.branch}", data, how.create_logs)
        os.replace(ref_lock, ref)
        renamed = True
        return None
    except OSError as exc:
        return f"fatal: cannot update the ref '{how.branch}': {exc}"
    finally:
        if not renamed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(ref_lock)
