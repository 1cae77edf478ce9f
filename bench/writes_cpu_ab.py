"""Register and promote of this checkout's sw-registry (A) against another install (B), paired, by CPU time.

    python bench/writes_cpu_ab.py --baseline /path/to/other/venv/bin/sw-registry REGISTRY [--runs 9]

REGISTRY is a built registry (bench/build_registry.py, or writes_ab.py's ``reg-500``/``reg-3334`` in its workdir);
it is copied for A and for B. Each run registers a new 4 KB file (--bump patch) and promotes a dev version to
staging, A and B in turn, after one warm-up. Prints wall and CPU medians (user + sys of the command and of the git
processes it waited for; not the detached housekeeping) and the medians of the pairwise ratios. CPU time moves
less than wall time on a machine shared with other work. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=R.bench_env(), capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stdout!r} {proc.stderr!r}")
    return wall * 1000, (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="writes_cpu_ab.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("registry", type=Path)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sw-writes-cpu-ab-"))
    exe = {"A": R.console_script()[0], "B": args.baseline}
    roots = {}
    for side in "AB":
        roots[side] = work / side
        shutil.copytree(args.registry, roots[side], symlinks=True)
        for key, value in (("user.name", "bench"), ("user.email", "bench@example.com")):
            subprocess.run(["git", "config", key, value], cwd=roots[side], check=True)
    info = subprocess.run([exe["B"], "registry-info", R.MODEL, "--json"], cwd=roots["B"], capture_output=True,
                          env=R.bench_env(), check=True).stdout
    dev = [v["version"] for v in json.loads(info)["data"]["versions"] if v["stage"] == "dev"]
    got: dict[tuple[str, str], tuple[list[float], list[float]]] = {
        (op, side): ([], []) for op in ("register", "promote") for side in "AB"
    }
    for i in range(-1, args.runs):
        for op in ("register", "promote"):
            for side in "AB":
                if op == "register":
                    art = R.new_artifact(work, f"{side}{i}")
                    cmd = [exe[side], "registry-register", R.MODEL, "--artifact", str(art), "--bump", "patch", "--json"]
                else:
                    cmd = [exe[side], "registry-promote", R.MODEL, dev[i + 2], "--to", "staging", "--json"]
                wall, cpu = timed(cmd, roots[side])
                if i >= 0:
                    got[(op, side)][0].append(wall)
                    got[(op, side)][1].append(cpu)
    print("| command | A wall ms | B wall ms | A/B wall | A CPU ms | B CPU ms | A/B CPU |")
    print("|---|---|---|---|---|---|---|")
    for op in ("register", "promote"):
        (a_wall, a_cpu), (b_wall, b_cpu) = got[(op, "A")], got[(op, "B")]
        ratio_wall = statistics.median(a / b for a, b in zip(a_wall, b_wall))
        ratio_cpu = statistics.median(a / b for a, b in zip(a_cpu, b_cpu))
        print(f"| {op} | {statistics.median(a_wall):.0f} | {statistics.median(b_wall):.0f} | {ratio_wall:.2f} | "
              f"{statistics.median(a_cpu):.0f} | {statistics.median(b_cpu):.0f} | {ratio_cpu:.2f} |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
