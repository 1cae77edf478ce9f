"""The four writes of issue 10's budget, this checkout's sw-registry (A) against another install (B), paired.

    python bench/writes_ab.py --baseline /path/to/other/venv/bin/sw-registry [--runs 5] [--workdir DIR]

Builds the two registries of bench/run.py with the fast builder (3 x 500 = 1,500 and 3 x 3,334 = 10,002 versions;
one commit per version with the register trailers), copies each for A and for B, and times register (new 4 KB
file, --bump patch), promote (dev -> staging), approve and rollback as one process each: a warm-up run, then
``--runs`` runs of A and B in turn (A B A B ...), so that a machine whose speed drifts moves both alike. The floors
(`python -c pass`, `git add && git commit` in the same repository) are timed in the same run. Prints a markdown
table: medians (ms), A/B (median of the pairwise ratios), A's own time (median minus the two floors) and the
peak RSS of A and of B (GNU time, when /usr/bin/time is there). Only the standard library and bench/run.py's
helpers are used.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R


def dev_versions(script: str, root: Path) -> tuple[list[str], str]:
    out = subprocess.run([script, "registry-info", R.MODEL, "--json", "--root", str(root)], capture_output=True,
                         text=True, env=R.bench_env(), check=True).stdout
    info = json.loads(out)["data"]
    return [v["version"] for v in info["versions"] if v["stage"] == "dev"], info["stages"]["staging"]


def ops(script: str, root: Path, scratch: Path) -> dict[str, object]:
    at = ["--root", str(root)]
    dev, staging = dev_versions(script, root)
    # two versions that were in production, so rollback alternates between them (one commit each)
    subprocess.run([script, "registry-promote", R.MODEL, staging, "--to", "production", "--json", *at],
                   capture_output=True, env=R.bench_env(), check=True)
    return {
        "registry-register (4 KB)": lambda i: [script, "registry-register", R.MODEL, "--artifact",
                                               str(R.new_artifact(scratch, str(i))), "--bump", "patch", "--json", *at],
        "registry-promote": lambda i: [script, "registry-promote", R.MODEL, dev[i + 2], "--to", "staging", "--json",
                                       *at],
        "registry-approve": lambda i: [script, "registry-approve", R.MODEL, dev[-(i + 3)], "--json", *at],
        "registry-rollback": lambda i: [script, "registry-rollback", R.MODEL, "--reason", "bench", "--json", *at],
    }


def floors(root: Path, runs: int) -> tuple[float, float]:
    rss: list[int] = []
    passes = [R.timed([sys.executable, "-c", "pass"], root, rss) for _ in range(runs + 1)][1:]
    commits = []
    for _ in range(runs + 1):
        with open(root / "floor.txt", "a") as fh:
            fh.write(f"{time.time_ns()}\n")
        commits.append(R.timed(["sh", "-c", "git add floor.txt && git commit -q -m floor"], root, rss))
    return statistics.median(passes), statistics.median(commits[1:])


def compare(label: str, a_root: Path, b_root: Path, baseline: str, runs: int, scratch: Path) -> list[str]:
    script, _shim = R.console_script()
    a_ops, b_ops = ops(script, a_root, scratch), ops(baseline, b_root, scratch)
    floor_pass, floor_commit = floors(a_root, runs)
    rows = [f"| python -c pass / git add && git commit | {label} | {floor_pass:.0f} / {floor_commit:.0f} | | | | |"]
    for name, make_a in a_ops.items():
        make_b = b_ops[name]
        print(f"  {label} {name} ...", file=sys.stderr, flush=True)
        R.timed(make_a(-1), a_root, [])  # type: ignore[operator]
        R.timed(make_b(-1), b_root, [])  # type: ignore[operator]
        a_ms, b_ms, rss, b_rss = [], [], [], []
        for i in range(runs):
            a_ms.append(R.timed(make_a(i), a_root, rss))  # type: ignore[operator]
            b_ms.append(R.timed(make_b(i), b_root, b_rss))  # type: ignore[operator]
        ratio = statistics.median(a / b for a, b in zip(a_ms, b_ms))
        own = statistics.median(a_ms) - floor_pass - floor_commit
        peak = f"{max(rss) / 1024:.0f} / {max(b_rss) / 1024:.0f}" if rss and b_rss else "-"
        rows.append(f"| {name} | {label} | {statistics.median(a_ms):.0f} | {statistics.median(b_ms):.0f} | "
                    f"{ratio:.2f} | {own:.0f} | {peak} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = R.ab_parser(__doc__, "writes_ab.py")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sw-writes-ab-"))
    R.PYCACHE = work / "pycache"
    scratch = work / "artifacts"
    scratch.mkdir(parents=True, exist_ok=True)
    rows = ["| command | versions | A median ms | B median ms | A/B | A own ms | peak MB A / B |",
            "|---|---|---|---|---|---|---|"]
    for label, per_model in ((f"{3 * args.small:,}", args.small), (f"{3 * args.big:,}", args.big)):
        a_root, b_root = R.ab_copies(work, label, per_model, fresh=True)
        rows += compare(label, a_root, b_root, args.baseline, args.runs, scratch)
    print("\n".join(rows))
    print(f"\n{R.machine_line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
