"""The four writes of issue 10's budget, A (this checkout) against B (another install), paired, in wall AND CPU time.

    python bench/writes4_cpu_ab.py --baseline /path/to/other/venv/bin/sw-registry SRC_REGISTRY... [--runs 7]

For each SRC_REGISTRY (e.g. the 1,500-version registry bench/run.py builds through the product, and its 10,002 one)
copies it for A and for B and times register (new 4 KB file, --bump patch), promote (dev -> staging), approve and
rollback (bench/writes_ab.py's commands) as one process each: a warm-up, then ``--runs`` runs of A and B in turn.
Prints the medians of the wall time and of the CPU time (user + system of the process and of every git process it
waited for: ``resource.getrusage(RUSAGE_CHILDREN)``) and the median pairwise A/B of each. On a machine shared with
other work the wall time follows the load; the CPU time much less so. bench/writes_cpu_ab.py does the same for
register and promote on one registry, with new commands rather than writes_ab.py's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R
from writes_ab import ops
from writes_cpu_ab import timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sw-writes-cpu-ab-"))
    R.PYCACHE = work / "pycache"
    scratch = work / "artifacts"
    scratch.mkdir()
    script, _shim = R.console_script()
    rows = ["| command | registry | A wall ms | B wall ms | A/B wall | A CPU ms | B CPU ms | A/B CPU |",
            "|---|---|---|---|---|---|---|---|"]
    for src in args.sources:
        a_root, b_root = work / f"{src.name}-a", work / f"{src.name}-b"
        shutil.copytree(src, a_root, symlinks=True)
        shutil.copytree(src, b_root, symlinks=True)
        a_ops, b_ops = ops(script, a_root, scratch), ops(args.baseline, b_root, scratch)
        for name, make_a in a_ops.items():
            make_b = b_ops[name]
            print(f"  {src.name} {name} ...", file=sys.stderr, flush=True)
            timed(make_a(-1), a_root)  # type: ignore[operator]
            timed(make_b(-1), b_root)  # type: ignore[operator]
            a, b = [], []
            for i in range(args.runs):
                a.append(timed(make_a(i), a_root))  # type: ignore[operator]
                b.append(timed(make_b(i), b_root))  # type: ignore[operator]
            med = [statistics.median(x[k] for x in side) for side in (a, b) for k in (0, 1)]
            ratio = [statistics.median(x[k] / y[k] for x, y in zip(a, b)) for k in (0, 1)]
            rows.append(f"| {name} | {src.name} | {med[0]:.0f} | {med[2]:.0f} | {ratio[0]:.2f} | {med[1]:.0f} | "
                        f"{med[3]:.0f} | {ratio[1]:.2f} |")
    print("\n".join(rows))
    print(f"\n{R.machine_line()}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
