"""``threading.Thread`` and ``threading.Lock`` for the write path, over ``_thread``, without importing threading.py.

A write runs at most one thread at a time (``store/files.BackgroundSync``) and takes a lock or two; threading.py
costs ~1 ms to import, and its ``Thread.start`` waits until the new thread has run (10+ ms on a busy machine).
The modules import this one as ``threading`` (``from .. import threads as threading``); for mypy the names ARE
threading's. Threads are daemons (``daemon=True`` is the only kind): exiting does not wait for them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag costs an import of typing; mypy reads this name the same way
if TYPE_CHECKING:
    from threading import Lock as Lock
    from threading import Thread as Thread
else:
    import _thread

    Lock = _thread.allocate_lock

    class Thread:
        """``Thread(target=..., name=..., daemon=True)``: ``start()`` runs ``target`` in a new thread, ``join()``
        waits until it has returned."""

        __slots__ = ("_done", "_target", "name")

        def __init__(self, target, name=None, daemon=None):
            if daemon is not True:
                raise TypeError("threads.Thread: only daemon threads (daemon=True)")
            self._target, self.name, self._done = target, name, _thread.allocate_lock()

        def start(self):
            self._done.acquire()  # held until the target returns
            try:
                _thread.start_new_thread(self._run, ())
            except BaseException:
                self._done.release()
                raise

        def _run(self):
            try:
                self._target()
            finally:
                self._done.release()

        def join(self):
            with self._done:
                pass
