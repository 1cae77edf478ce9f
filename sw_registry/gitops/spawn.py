"""The part of ``subprocess`` that the write path uses, over ``os.posix_spawn``, without importing subprocess.py.

Importing subprocess brings locale, signal, threading, selectors and math along: ~5 ms of every write's ~20 ms of
standard-library imports (issue 10; bench/imports_ab.py), for the 2-3 git processes a write runs. The modules of
the write path import this one as ``subprocess`` (``from . import spawn as subprocess``): ``run``, ``Popen``,
``CompletedProcess``, ``PIPE`` and ``DEVNULL`` behave as subprocess's do for the arguments those modules pass; an
argument this module does not know is a TypeError, never silently ignored. For mypy the names ARE subprocess's.

The child is made as subprocess makes it: the executable looked up on the PATH of the child's environment, stdin,
stdout and stderr as asked, no other descriptor inherited (ours are close-on-exec, PEP 446; any inheritable one
above 2 is closed in the child), SIGPIPE and SIGXFSZ back to their defaults, and ``start_new_session``. One
difference: Python 3.11's posix_spawn has no working-directory argument, so ``cwd`` is for git only and passed
as ``git -C DIR`` (git changes its own directory first, before it reads anything).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from collections.abc import Mapping
    from subprocess import DEVNULL as DEVNULL
    from subprocess import PIPE as PIPE
    from subprocess import CompletedProcess as CompletedProcess
    from subprocess import Popen as Popen
    from subprocess import run as run
    from typing import Any
else:
    PIPE, DEVNULL = -1, -3  # subprocess's values

    class CompletedProcess:
        """A finished process: ``args``, ``returncode`` (minus the signal that ended it), ``stdout``, ``stderr``."""

        __slots__ = ("args", "returncode", "stderr", "stdout")

        def __init__(self, args, returncode, stdout=None, stderr=None):
            self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr

        def __repr__(self):
            return f"CompletedProcess(args={self.args!r}, returncode={self.returncode!r})"

    class Popen:
        """A started child: ``communicate(input)``, ``wait()``, ``poll()``; ``args``, ``pid``, ``returncode``."""

        def __init__(self, args, *, cwd=None, env=None, stdin=None, stdout=None, stderr=None,
                     start_new_session=False):
            self.args, self.returncode = args, None
            self._pipes: dict[str, int] = {}  # our ends: "stdin" (we write), "stdout" and "stderr" (we read)
            theirs: list[int] = []  # the child's ends, closed here once it has them
            actions = []
            try:
                for fd, how in enumerate((stdin, stdout, stderr)):
                    if how is None:
                        continue
                    if how == PIPE:
                        r, w = os.pipe()
                        ours, child = (w, r) if fd == 0 else (r, w)
                        self._pipes[("stdin", "stdout", "stderr")[fd]] = ours
                        child = _above_stdio(child)
                        theirs.append(child)
                    elif how == DEVNULL:
                        child = _above_stdio(os.open(os.devnull, os.O_RDWR))
                        theirs.append(child)
                    elif isinstance(how, int) and how >= 0:
                        child = how
                    else:
                        raise TypeError(f"spawn: unsupported {('stdin', 'stdout', 'stderr')[fd]}={how!r}")
                    actions.append((os.POSIX_SPAWN_DUP2, child, fd))
                actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds()]
                argv = [str(a) for a in args]
                if cwd is not None:
                    if os.path.basename(argv[0]) != "git":
                        raise TypeError("spawn: cwd is passed as git -C, for git only")
                    argv[1:1] = ["-C", os.fspath(cwd)]
                environ = os.environ if env is None else env
                self.pid = _spawn(_which(argv[0], environ), argv, environ, actions, start_new_session)
            except BaseException:
                for fd in self._pipes.values():
                    os.close(fd)
                raise
            finally:
                for fd in theirs:
                    os.close(fd)

        def communicate(self, input=None):
            """Write ``input`` to stdin (a pipe), read stdout and stderr to their ends, wait: (stdout, stderr)."""
            import select  # a C module, loaded once the first git's output is read

            pipes, data, offset = self._pipes, memoryview(input or b""), 0
            readers = [pipes.pop(k, None) for k in ("stdout", "stderr")]
            chunks: dict[int, list[bytes]] = {fd: [] for fd in readers if fd is not None}
            writer = pipes.pop("stdin", None)
            poller = select.poll()
            try:
                if writer is not None and not data:
                    os.close(writer)
                    writer = None
                elif writer is not None:
                    os.set_blocking(writer, False)
                    poller.register(writer, select.POLLOUT)
                for fd in chunks:
                    poller.register(fd, select.POLLIN)
                open_fds = len(chunks) + (writer is not None)
                while open_fds:
                    for fd, _event in poller.poll():
                        if fd == writer:
                            try:
                                offset += os.write(fd, data[offset : offset + 65536])
                            except BlockingIOError:
                                continue
                            except BrokenPipeError:  # the child stopped reading: as subprocess, not an error
                                offset = len(data)
                            if offset >= len(data):
                                poller.unregister(fd)
                                os.close(fd)
                                writer, open_fds = None, open_fds - 1
                            continue
                        block = os.read(fd, 65536)
                        if block:
                            chunks[fd].append(block)
                        else:
                            poller.unregister(fd)
                            open_fds -= 1
            finally:
                if writer is not None:
                    os.close(writer)
                for fd in chunks:
                    os.close(fd)
            self.wait()
            out, err = (None if fd is None else b"".join(chunks[fd]) for fd in readers)
            return out, err

        def wait(self):
            if self.returncode is None:
                try:
                    _, status = os.waitpid(self.pid, 0)
                except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): as subprocess, exit status unknown
                    self.returncode = 0
                else:
                    self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

        def poll(self):
            if self.returncode is None:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:  # reaped elsewhere, as in wait()
                    self.returncode = 0
                else:
                    if pid:
                        self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

        def kill(self):
            if self.returncode is None:
                try:
                    os.kill(self.pid, 9)  # SIGKILL
                except ProcessLookupError:
                    pass

    def run(args, *, cwd=None, env=None, input=None, capture_output=False, check=False, stdin=None, stdout=None,
            stderr=None):
        """subprocess.run for the arguments gitops passes (no text mode, no timeout): a CompletedProcess."""
        if check:
            raise TypeError("spawn.run: check=True is not supported; check returncode")
        if capture_output:
            stdout = stderr = PIPE
        proc = Popen(args, cwd=cwd, env=env, stdin=PIPE if input is not None else stdin, stdout=stdout,
                     stderr=stderr)
        try:
            out, err = proc.communicate(input)
        except BaseException:  # as subprocess.run: a child it stops waiting for (^C) is killed, then reaped
            proc.kill()
            proc.wait()
            raise
        return CompletedProcess(args, proc.returncode, out, err)


def _spawn(path: str, argv: list[str], env: Mapping[str, str], actions: list[Any], new_session: bool) -> int:
    if new_session:
        try:
            return os.posix_spawn(path, argv, env, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS)
        except NotImplementedError:  # no POSIX_SPAWN_SETSID here: a process group of its own, which ^C misses too
            return os.posix_spawn(path, argv, env, file_actions=actions, setpgroup=0, setsigdef=_DEFAULT_SIGNALS)
    return os.posix_spawn(path, argv, env, file_actions=actions, setsigdef=_DEFAULT_SIGNALS)


def _above_stdio(fd: int) -> int:
    """``fd`` moved above 0-2 (a process started with one of them closed gets it back from pipe() or open()): the
    child's descriptor 0-2 are set from these, and one already in that range could be overwritten first."""
    if fd > 2:
        return fd
    import fcntl

    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    finally:
        os.close(fd)


def _signals() -> tuple[int, ...]:
    import _signal  # type: ignore[import-not-found]  # built in, loaded at start-up: signal.py is not imported

    return tuple(getattr(_signal, name) for name in ("SIGPIPE", "SIGXFSZ", "SIGXFZ") if hasattr(_signal, name))


_DEFAULT_SIGNALS = _signals()  # Python ignores them; a child gets the defaults back (subprocess's restore_signals)
_WHICH: dict[tuple[str, str], str] = {}


def _which(name: str, env: Mapping[str, str]) -> str:
    """``name`` looked up as subprocess looks it up: on the PATH of the child's environment (remembered)."""
    if os.sep in name:
        return name
    path = os.pathsep.join(os.get_exec_path(env))
    found = _WHICH.get((name, path))
    if found is None:
        for folder in path.split(os.pathsep):
            candidate = os.path.join(folder or ".", name)
            if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
                found = _WHICH[(name, path)] = candidate
                break
        else:
            raise FileNotFoundError(2, "No such file or directory", name)
    return found


def _inheritable_fds() -> list[int]:
    """Descriptors above 2 a child would inherit (none of ours: Python opens them close-on-exec; one this process
    inherited itself, e.g. a harness's pipe, must not reach a detached ``git maintenance`` that outlives us)."""
    try:
        names = os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd")
    except OSError:
        return []
    fds = []
    for name in names:
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    fds.append(fd)
            except OSError:  # the listing's own descriptor, closed by now
                continue
    return fds
