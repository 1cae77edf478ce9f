"""The four writes of writes_ab.py (writes_cpu_ab.py has register and promote), this checkout (A) against another
install (B), timed by wall and CPU time.

    python bench/writes4_cpu_ab.py SRC_REGISTRY LABEL RUNS --baseline /path/to/other/venv/bin/sw-registry

Copies SRC_REGISTRY once per side, then times register (4 KB), promote, approve and rollback (writes_ab.py's
``ops``) as one process each, A and B in turn, after two warm-ups (the first write after a copy makes the full
check). Per operation: the median wall ms, the median CPU ms (user + sys of the process and of the git processes it
waited for, from ``os.wait4``) and the median pairwise A/B of both. CPU time moves far less than wall time on a
machine shared with other work. Only the standard library and bench/run.py's helpers are used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R
import writes_ab as WA


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path)
    parser.add_argument("label")
    parser.add_argument("runs", type=int)
    parser.add_argument("--baseline", required=True)
    args = parser.parse_args()
    scripts = {"A": R.console_script()[0], "B": args.baseline}
    work = Path(tempfile.mkdtemp(prefix="sw-writes-cpu-ab-"))
    R.PYCACHE = work / "pycache"
    scratch = work / "scratch"
    scratch.mkdir()
    roots = {side: work / side for side in "AB"}
    for root in roots.values():
        shutil.copytree(args.src, root, symlinks=True)
    env = R.bench_env()
    ops = {side: WA.ops(scripts[side], roots[side], scratch) for side in "AB"}
    floor = [timed([sys.executable, "-c", "pass"], work, env) for _ in range(args.runs + 1)][1:]
    print(f"{args.label}: python -c pass wall {statistics.median(w for w, _ in floor):.0f} "
          f"cpu {statistics.median(c for _, c in floor):.0f}")
    print("| command | versions | A wall | B wall | A/B wall | A cpu | B cpu | A/B cpu |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ops["A"]:
        for side in "AB":
            for warm in (-1, -2):
                timed(ops[side][name](warm), roots[side], env)  # type: ignore[operator]
        got: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        for i in range(args.runs):
            for side in "AB":
                got[side].append(timed(ops[side][name](i), roots[side], env))  # type: ignore[operator]
        wall = {s: statistics.median(w for w, _ in got[s]) for s in "AB"}
        cpu = {s: statistics.median(c for _, c in got[s]) for s in "AB"}
        ratio_wall = statistics.median(a[0] / b[0] for a, b in zip(got["A"], got["B"]))
        ratio_cpu = statistics.median(a[1] / b[1] for a, b in zip(got["A"], got["B"]))
        print(f"| {name} | {args.label} | {wall['A']:.0f} | {wall['B']:.0f} | {ratio_wall:.2f} | {cpu['A']:.0f} | "
              f"{cpu['B']:.0f} | {ratio_cpu:.2f} |", flush=True)
    print(f"\n{R.machine_line()}")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
