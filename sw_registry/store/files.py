"""Small-file primitives: atomic writes and parsing that names the broken file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import IntegrityError

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from typing import Any, TypeVar

    J = TypeVar("J")

SCHEMA_VERSION = 1


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write via a temp file in the same folder, fsync, then os.replace: readers never see half a file."""
    try:
        fd, tmp = _new_temp(path)
    except FileNotFoundError:  # its folder is new: made only then, not tried (a failing mkdir) for every write
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _new_temp(path)
    old = None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        old = _hold(path)
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.close(old)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if old is not None:
        _release_later(old)


# A rename that drops the last link of the file it replaces frees that file's blocks there and then: on ext4 here
# 1-2 ms for a 170 KB file and up to 20 ms when the disk is busy, several times in every write (the derived files
# and caches it replaces). Holding the old file open (O_PATH: no I/O, no side effects, any file type) moves that
# work to the close, which a thread of this process makes while the write goes on (git's processes, the commit).
_O_PATH = getattr(os, "O_PATH", 0)  # Linux; elsewhere the rename frees the old file as before
_released: dict[int, Any] = {}  # process id -> (the descriptors its releasing thread closes, the lock that wakes it)


def _hold(path: Path) -> int | None:
    """A descriptor that keeps the file ``path`` names now alive past its replacement (None: no file there)."""
    if not _O_PATH:
        return None
    try:
        return os.open(path, _O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None


def _release_later(fd: int) -> None:
    """Close ``fd`` on the releasing thread (started on first use, and again in a forked child, which has no
    threads; a daemon: exiting closes what is left). The hand-over is a list and a lock of ``_thread`` (built in):
    ``_queue``'s SimpleQueue is a shared library whose import (dlopen) cost 1-5 ms of every write (issue 10)."""
    got = _released.get(os.getpid())
    if got is None:
        import _thread  # not threading.Thread: its start() waits until the new thread runs, 10+ ms on a busy machine

        wake = _thread.allocate_lock()
        wake.acquire()
        fds: list[int] = []
        got = _released[os.getpid()] = (fds, wake)
        _thread.start_new_thread(_release, got)
    got[0].append(fd)
    try:
        got[1].release()  # unlocked: the thread takes everything in the list when it next runs
    except RuntimeError:
        pass  # already released: the thread has yet to take the list, this descriptor with it


def _release(fds: list[int], wake: Any) -> None:
    """The releasing thread: wait until woken, then close every descriptor handed over (list.pop is atomic)."""
    while True:
        wake.acquire()
        while fds:
            try:
                os.close(fds.pop())
            except OSError:
                pass


def open_appendable(path: Path, limit: int) -> tuple[int, int] | None:
    """A descriptor open for appending to ``path`` and its length, when it is a regular file (not a link) of
    1..``limit`` bytes whose last byte is a line break; None for anything else (missing, a link, a folder, a FIFO,
    a device: not opened), for the caller to read and rewrite it whole."""
    import stat

    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and 0 < st.st_size <= limit and os.pread(fd, 1, st.st_size - 1) == b"\n":
            return fd, st.st_size
    except OSError:
        pass
    os.close(fd)
    return None


def _new_temp(path: Path) -> tuple[int, str]:
    """A new file beside ``path`` with the mode a new file gets (0666 less the umask, SPEC §9 / issue 6), opened
    exclusively under a random name, as tempfile.mkstemp does (without importing tempfile, random, shutil)."""
    for _ in range(100):
        tmp = f"{path.parent}/.{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


class BackgroundSync:
    """fsync a write's durable files in one background thread, each as soon as it is written (``add``), so that the
    disk's wait overlaps the rest of the write (its derived files, hashing, the commit's objects) and each fsync has
    only that file to push (a later one would wait for everything written since too). ``wait`` waits until every
    file given so far is on disk, and raises what an fsync raised.

    A write's durable files are renamed into place first and made durable here, before the commit that records
    them lands (``Transaction.commit``). A power cut in between leaves a file that differs from HEAD, which the
    next write refuses as ``dirty_registry`` (as it does what a killed write left) until it is restored.
    """

    def __init__(self) -> None:
        from .. import threads as threading  # threading.Thread without threading.py

        self._threading = threading
        self._lock = threading.Lock()
        self._todo: list[str] = []
        self._errors: list[BaseException] = []
        self._worker: Any = None  # the running thread, None when it has nothing left to do

    def add(self, path: str) -> None:
        with self._lock:
            self._todo.append(path)
            if self._worker is not None:
                return
            self._worker = worker = self._threading.Thread(target=self._work, name="sw-registry-fsync", daemon=True)
        worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._todo or self._errors:
                    self._worker = None
                    return
                path = self._todo.pop(0)
            try:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except FileNotFoundError:
                continue  # replaced again by this write: its last version is in the list too
            except BaseException as exc:  # handed to the waiting thread
                self._errors.append(exc)

    def wait(self) -> None:
        while True:
            with self._lock:
                worker = self._worker
            if worker is None:
                break
            worker.join()
        if self._errors:
            raise self._errors[0]


_UMASK: list[int] = []


def process_umask() -> int:
    """The process umask, read once (from /proc where it is, else by setting and restoring it)."""
    if not _UMASK:
        value = None
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("Umask:"):
                        value = int(line.split()[1], 8)
                        break
        except (OSError, ValueError):
            value = None
        if value is None:
            value = os.umask(0o022)
            os.umask(value)
        _UMASK.append(value)
    return _UMASK[0]


def dump_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


_SCALARS = (str, int, float, bool, type(None))


def copy_json(value: J) -> J:
    """A deep copy of JSON data (dicts, lists, scalars): what ``copy.deepcopy`` makes of it, without importing
    ``copy`` (and ``weakref``) into every write (issue 10). Anything else is handed to ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {k: copy_json(v) for k, v in value.items()}  # type: ignore[attr-defined,return-value]
    if kind is list:
        return [copy_json(v) for v in value]  # type: ignore[attr-defined,return-value]
    if kind in _SCALARS:
        return value
    import copy

    return copy.deepcopy(value)


def parse_metadata(raw: bytes, where: str) -> dict[str, Any]:
    """Parse a metadata.json; any damage is an ``integrity`` error naming the file."""
    from ..inputs import check_depth

    try:
        data = check_depth(json.loads(raw), "metadata file", where, IntegrityError)
    except RecursionError:
        raise IntegrityError(
            f"{where} is nested too deeply to be a metadata file",
            hint="restore it with 'git checkout -- <file>'",
            details={"path": where},
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(
            f"{where} is not valid JSON: {exc}",
            hint="restore it with 'git checkout -- <file>' or 'sw-registry registry-verify --repair'",
            details={"path": where},
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("version"), str):
        raise IntegrityError(
            f"{where} is not a model metadata file (needs at least 'name' and 'version')",
            hint="restore it with 'git checkout -- <file>' or 'sw-registry registry-verify --repair'",
            details={"path": where},
        )
    return data


def check_writable(meta: dict[str, Any], where: str) -> None:
    """A metadata file from a newer sw-registry may be read but never rewritten (SPEC §4)."""
    schema = meta.get("schema_version", SCHEMA_VERSION)
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        raise IntegrityError(
            f"{where} has schema_version {schema}; this sw-registry writes version {SCHEMA_VERSION}",
            hint="upgrade sw-registry before changing this version",
            details={"path": where},
        )


def newer_schema_warning(meta: dict[str, Any], where: str) -> str | None:
    schema = meta.get("schema_version", SCHEMA_VERSION)
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        return f"{where} has schema_version {schema}, newer than this sw-registry knows; read only"
    return None
