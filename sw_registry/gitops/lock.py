"""The registry's write lock (SPEC §8): one writer at a time per repository, however many worktrees share it."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import Locked
from .run import LOCK_NAME

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from .repo import Repo


def lock_timeout() -> float:
    """``SW_REGISTRY_LOCK_TIMEOUT`` in seconds (default 30; ``inf``: wait as long as it takes). A value that is not
    a number, or is negative or NaN, is ``usage``: it used to fall back to 30 s unsaid, and NaN waited forever."""
    raw = os.environ.get("SW_REGISTRY_LOCK_TIMEOUT", "").strip()
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= 0:  # NaN compares false too
        from ..errors import RegistryError

        raise RegistryError(f"SW_REGISTRY_LOCK_TIMEOUT={raw!r} is not a number of seconds",
                            hint="set it to how many seconds a write waits for the lock (default 30), or unset it",
                            code="usage")
    return value


@contextmanager
def write_lock(repo: Repo, timeout: float | None = None) -> Iterator[None]:
    """Exclusive registry write lock: a flock'd file in the git dir (released by the kernel on kill -9)."""
    import fcntl

    if timeout is None:
        timeout = lock_timeout()
    path = repo.common_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    raise Locked(
                        f"another sw-registry write holds the lock (pid {holder}) after waiting {timeout:g}s",
                        hint="wait for it to finish, or raise SW_REGISTRY_LOCK_TIMEOUT",
                        details={"pid": int(holder) if holder.isdigit() else None, "lock": str(path)},
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
