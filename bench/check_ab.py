"""The narrowed dirty check of a write, measured apart (issue 10, s6-check): run it with each install's python.

    python bench/check_ab.py check ROOT MODEL INCREMENT [RUNS]   # in-process CPU ms, best of RUNS
    python bench/check_ab.py count ROOT -- registry-register ...  # os.stat/lstat/scandir calls of one CLI process

``check`` times, in one process and with the collector off (as a write has it), ``load_index`` + the check's
``start`` ("start"), ``Index.light_of(MODEL)`` (the check of the model's folders and its light records, "light") and
``check_increment(INCREMENT)`` ("inc"), each the least CPU time (``time.process_time``) of RUNS rounds after one
warm-up: on a loaded machine CPU time moves far less than wall time. ROOT must hold a snapshot a write left (it is
not changed). ``count`` runs one CLI command in ROOT and counts the calls; run it twice in a copy, the first
write after a copy makes the full check. Pair the two installs in turn (A B A B).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys
import time
from pathlib import Path


def check(root: Path, model: str, inc: str, runs: int) -> str:
    from sw_registry.gitops import open_repo
    from sw_registry.layout import Layout
    from sw_registry.store import write_check
    from sw_registry.store.index import WorkTreeSource, load_index

    gc.disable()
    layout, repo = Layout(root), open_repo(root)
    best = {"start": float("inf"), "light": float("inf"), "inc": float("inf")}
    for i in range(runs + 1):
        t0 = time.process_time()
        index = load_index(WorkTreeSource(layout), lazy=True)
        scoped = write_check.start(layout, repo, index.policy.docs_path)
        if scoped is None:
            raise SystemExit("no snapshot to start from: make a write in ROOT first")
        index.guard, index.full = scoped.check_model, scoped.check_all
        t1 = time.process_time()
        index.light_of(model)
        t2 = time.process_time()
        scoped.check_increment(f".specweave/increments/{inc}")
        t3 = time.process_time()
        if i:
            for key, took in (("start", t1 - t0), ("light", t2 - t1), ("inc", t3 - t2)):
                best[key] = min(best[key], took)
    return " ".join(f"{key} {1000 * took:.1f}" for key, took in best.items())


def count(root: Path, argv: list[str]) -> str:
    calls = {"stat": 0, "lstat": 0, "scandir": 0}
    real = {name: getattr(os, name) for name in calls}

    def counted(name: str):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[name] += 1
            return real[name](*args, **kwargs)

        return call

    for name in calls:
        setattr(os, name, counted(name))
    os.chdir(root)
    sys.argv = ["sw-registry", *argv]
    from sw_registry.cli.entry import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main()
    for name in calls:
        setattr(os, name, real[name])
    return " ".join(f"{name} {n}" for name, n in calls.items())


if __name__ == "__main__":
    what, where = sys.argv[1], Path(sys.argv[2]).resolve()
    if what == "check":
        print(check(where, sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 20))
    else:
        print(count(where, sys.argv[sys.argv.index("--") + 1 :]))
