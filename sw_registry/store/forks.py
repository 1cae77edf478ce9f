"""A second process for work that splits in two halves, on a machine with a second core: the index's rebuild from
nothing (``rebuild.py``) and the read memo's stat of every metadata.json (``readcache.py``). Python's threads do
not make ``os.stat`` calls faster (each one takes the interpreter lock back); a forked child does its half alone."""

from __future__ import annotations

import os
import sys


def can_fork(n_items: int, minimum: int) -> bool:
    """At least ``minimum`` items, ``os.fork``, a second core, and no other thread (a fork copies only this one, and
    whatever lock another thread held would stay held in the child)."""
    if n_items < minimum or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1
