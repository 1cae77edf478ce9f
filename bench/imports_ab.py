"""The imports of a CLI write and read, without the work: this checkout's Python (A) against another install's (B).

    python bench/imports_ab.py --baseline /path/to/other/venv/bin/python [--runs 21]

Each row is one ``python -c "import ..."`` of the modules a command's process loads (entry point, fast path,
output, the command, the facade, the operation), run as A and B in turn (A B A B ...), each with a bytecode cache
of its own (PYTHONPYCACHEPREFIX, warmed by one run). Prints medians of wall and CPU time (ms; CPU = user + system
of the child, less disturbed by other load), A/B (median of the pairwise ratios) and the CPU A - B. Module counts
of the real commands: tests/unit/test_lean_imports.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CLI = "sw_registry.cli.entry, sw_registry.cli.fastpath, sw_registry.cli.output"
SETS = {
    "python -c pass": "pass",
    "register": f"import {CLI}, sw_registry.cli.commands.register, sw_registry.registry, sw_registry.ops.register, "
                "sw_registry.transaction",
    "promote": f"import {CLI}, sw_registry.cli.commands.promote, sw_registry.registry, sw_registry.ops.stages, "
               "sw_registry.transaction",
    "info (a read)": f"import {CLI}, sw_registry.cli.commands.info, sw_registry.registry, sw_registry.store.index",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the other install's python (B)")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="sw-imports-ab-")

    def timed(python: str, code: str, tag: str) -> tuple[float, float]:
        """(wall ms, CPU ms: user + system of the child, which other load on the machine disturbs less)."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(cache, tag)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([python, "-c", code], env=env, check=True, cwd=cache)  # not here: -c imports from the cwd
        wall = (time.perf_counter() - start) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000

    print("| imports of | A wall ms | B wall ms | A/B wall | A CPU ms | B CPU ms | A/B CPU | A - B CPU ms |")
    print("|---|---|---|---|---|---|---|---|")
    for label, code in SETS.items():
        timed(sys.executable, code, "a")
        timed(args.baseline, code, "b")
        a, b = [], []
        for _ in range(args.runs):
            a.append(timed(sys.executable, code, "a"))
            b.append(timed(args.baseline, code, "b"))
        row = [label]
        for i in (0, 1):
            xs, ys = [x[i] for x in a], [y[i] for y in b]
            row += [f"{statistics.median(xs):.1f}", f"{statistics.median(ys):.1f}",
                    f"{statistics.median(x / y for x, y in zip(xs, ys)):.2f}"]
        row.append(f"{statistics.median(x[1] - y[1] for x, y in zip(a, b)):+.1f}")
        print("| " + " | ".join(row) + " |", flush=True)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
