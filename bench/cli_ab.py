"""Reads and ``--help``, this checkout's sw-registry (A) against another install (B), paired (issue 10's imports).

    python bench/cli_ab.py --baseline /path/to/other/venv/bin/sw-registry [--runs 11] [--workdir DIR]

Builds (or reuses, in --workdir) the 1,500-version registry of bench/run.py with the fast builder, copies it for A
and for B, and times each command as one process: a warm-up run of each, then ``--runs`` runs of A and B in turn
(A B A B ...). "cold" reads delete the read caches (.specweave/cache) before every run, of A and of B alike; the
others run warm (a repeated ``--json`` read is answered by the read memo). Prints a markdown table: medians (ms),
A/B (median of the pairwise ratios) and A's own time (median minus ``python -c pass``, timed after each pair).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R
from build_registry import build_fast


def commands(root: Path) -> dict[str, tuple[list[str], bool]]:
    """label -> (arguments, cold)."""
    at = ["--root", str(root)]
    return {
        "--help": (["--help"], False),
        "registry-info --json (memo)": (["registry-info", R.MODEL, "--json", *at], False),
        "registry-info --json (cold)": (["registry-info", R.MODEL, "--json", *at], True),
        "registry-list --json (cold)": (["registry-list", "--json", *at], True),
        "registry-list (human)": (["registry-list", *at], False),
        "registry-history --json": (["registry-history", R.MODEL, "--json", *at], False),
    }


def timed(script: str, args: list[str], root: Path, cold: bool) -> float:
    if cold:
        shutil.rmtree(root / ".specweave" / "cache", ignore_errors=True)
    return R.timed([script, *args], root, [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the other sw-registry console script (B)")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--small", type=int, default=500, help="versions per model of the registry")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sw-cli-ab-"))
    R.PYCACHE = work / "pycache"
    built = work / f"reg-{args.small}"
    if not built.exists():
        build_fast(built, args.small)
    a_root, b_root = work / f"reads-a-{args.small}", work / f"reads-b-{args.small}"
    for copy in (a_root, b_root):
        shutil.rmtree(copy, ignore_errors=True)
        subprocess.run(["cp", "-a", str(built), str(copy)], check=True)
    script, _shim = R.console_script()
    rows = ["| command | A median ms | B median ms | A/B | A own ms | python -c pass ms |", "|---|---|---|---|---|---|"]
    a_cmds, b_cmds = commands(a_root), commands(b_root)
    for label, (a_args, cold) in a_cmds.items():
        b_args = b_cmds[label][0]
        print(f"  {label} ...", file=sys.stderr, flush=True)
        timed(script, a_args, a_root, cold)
        timed(args.baseline, b_args, b_root, cold)
        a_ms, b_ms, floors = [], [], []
        for _ in range(args.runs):
            a_ms.append(timed(script, a_args, a_root, cold))
            b_ms.append(timed(args.baseline, b_args, b_root, cold))
            floors.append(R.timed([sys.executable, "-c", "pass"], a_root, []))
        floor = statistics.median(floors)
        ratio = statistics.median(a / b for a, b in zip(a_ms, b_ms))
        rows.append(f"| {label} | {statistics.median(a_ms):.0f} | {statistics.median(b_ms):.0f} | {ratio:.2f} | "
                    f"{statistics.median(a_ms) - floor:.0f} | {floor:.0f} |")
    print("\n".join(rows))
    print(f"\n{R.machine_line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
