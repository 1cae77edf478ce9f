"""A test hook: stop the process at a named step of a registry write, so a test can kill it there.

With ``SW_REGISTRY_TEST_STOP_AT=<step>`` in the environment, a write that reaches ``<step>`` sends itself
SIGSTOP; the crash harness (tests/reliability/test_crash_harness.py) then SIGKILLs it, which is exactly a
``kill -9`` at that point of the transaction. Steps: ``after_lock``, ``mid_copy``, ``after_metadata``,
``inside_commit``, ``after_commit``, ``write_through`` (committed, its records not yet in the cache). Unset (always,
outside tests) it costs one dictionary lookup.
"""

from __future__ import annotations

import os

ENV = "SW_REGISTRY_TEST_STOP_AT"
STEPS = ("after_lock", "mid_copy", "after_metadata", "inside_commit", "after_commit", "write_through")


def stop_point(step: str) -> None:
    if os.environ.get(ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)
