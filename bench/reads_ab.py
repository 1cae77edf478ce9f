"""The four reads of issue 10's budget and the cold starts, this checkout's sw-registry (A) against another install
(B), paired.

    python bench/reads_ab.py --baseline /path/to/other/venv/bin/sw-registry [--runs 5] [--workdir DIR] [--cold-only]

Builds the two registries of bench/run.py with the fast builder (3 x 500 = 1,500 and 3 x 3,334 = 10,002 versions;
one commit per version with the register trailers), copies each for A and for B, and times, as one process each, a
warm-up run, then ``--runs`` runs of A and B in turn (A B A B ...), so that a machine whose speed drifts moves both
alike:

- list, info, get (--stage production) and history with --json, each paired with a `python -c pass` before it (the
  floor: own = median minus the floor's median), at both sizes;
- at 10,002 versions: the first registry-list on a fresh clone (one clone, its cache deleted before each run), and
  registry-history after deleting the cache (its rebuild).

Prints a markdown table: medians (ms), A/B (median of the pairwise ratios), A's own time and the peak RSS of A and
of B (GNU time: the process or a git process it waited for). Only the standard library and bench/run.py's helpers.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as R

Make = Callable[[str, Path, int], list[str]]  # (script, root, run) -> command line


def warm_reads() -> dict[str, Make]:
    return {
        "registry-list": lambda s, root, i: [s, "registry-list", "--json", "--root", str(root)],
        "registry-info": lambda s, root, i: [s, "registry-info", R.MODEL, "--json", "--root", str(root)],
        "registry-get": lambda s, root, i: [s, "registry-get", R.MODEL, "--stage", "production", "--json", "--root",
                                            str(root)],
        "registry-history": lambda s, root, i: [s, "registry-history", R.MODEL, "--json", "--root", str(root)],
    }


def paired(label: str, versions: str, a: tuple[str, Path], b: tuple[str, Path], make: Make, runs: int,
           prepare: Callable[[Path, int], Path] | None = None, floor: bool = True) -> str:
    """One table row: ``runs`` pairs (A then B), each after `python -c pass` when ``floor``; ``prepare(root, i)``
    gives the folder a run reads (a fresh clone, a deleted cache) when set."""
    print(f"  {versions} {label} ...", file=sys.stderr, flush=True)
    side = {"a": a, "b": b}
    times: dict[str, list[float]] = {"a": [], "b": []}
    rss: dict[str, list[int]] = {"a": [], "b": []}
    floors: list[float] = []
    for i in range(-1, runs):  # run -1: the warm-up (bytecode)
        for key in ("a", "b"):
            script, root = side[key]
            where = prepare(root, i) if prepare else root
            if floor:
                ms = R.timed([sys.executable, "-c", "pass"], where, [])
                if i >= 0:
                    floors.append(ms)
            ms = R.timed(make(script, where, i), where, rss[key] if i >= 0 else [])
            if i >= 0:
                times[key].append(ms)
    ratio = statistics.median(x / y for x, y in zip(times["a"], times["b"]))
    a_med, b_med = statistics.median(times["a"]), statistics.median(times["b"])
    own = f"{a_med - statistics.median(floors):.0f}" if floors else "-"
    peak = f"{max(rss['a']) / 1024:.0f} / {max(rss['b']) / 1024:.0f}" if rss["a"] and rss["b"] else "-"
    return f"| {label} | {versions} | {a_med:.0f} | {b_med:.0f} | {ratio:.2f} | {own} | {peak} |"


def fresh_clone(work: Path) -> Callable[[Path, int], Path]:
    """A clone of the registry made once (cloning 10,002 versions takes a minute on a busy VM), its cache deleted
    before each run: what the first read on a fresh clone does, with the clone's files in the page cache."""
    def prepare(root: Path, i: int) -> Path:
        clone = work / f"clone-{root.name}"
        if not clone.exists():
            subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
        return no_cache(clone, i)
    return prepare


def no_cache(root: Path, i: int) -> Path:
    shutil.rmtree(root / ".specweave" / "cache", ignore_errors=True)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = R.ab_parser(__doc__, "reads_ab.py")
    parser.add_argument("--cold-only", action="store_true", help="only the cold starts at the big size")
    parser.add_argument("--warm-only", action="store_true", help="only the four warm reads")
    parser.add_argument("--read", action="append", choices=list(warm_reads()), help="only these warm reads")
    parser.add_argument("--big-only", action="store_true", help="only the big registry")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sw-reads-ab-"))
    R.PYCACHE = work / "pycache"
    script, _shim = R.console_script()
    rows = ["| command | versions | A median ms | B median ms | A/B | A own ms | peak MB A / B |",
            "|---|---|---|---|---|---|---|"]
    sizes = [(f"{3 * args.small:,}", args.small), (f"{3 * args.big:,}", args.big)]
    for label, per_model in sizes[1:] if args.cold_only or args.big_only else sizes:
        a_root, b_root = R.ab_copies(work, label, per_model, fresh=False)
        a, b = (script, a_root), (args.baseline, b_root)
        if not args.cold_only:
            rows += [paired(name, label, a, b, make, args.runs) for name, make in warm_reads().items()
                     if not args.read or name in args.read]
        if per_model == args.big and not args.warm_only:
            reads = warm_reads()
            rows.append(paired("first registry-list on a fresh clone", label, a, b, reads["registry-list"],
                               args.runs, fresh_clone(work), floor=False))
            rows.append(paired("registry-history after deleting the cache", label, a, b, reads["registry-history"],
                               args.runs, no_cache, floor=False))
    print("\n".join(rows))
    print(f"\n{R.machine_line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
