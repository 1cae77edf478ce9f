"""Wall-time benchmarks of the sw-registry CLI, as a user runs it: one process per command.

For each size N (versions per model; 3 models) it builds a registry with bench/build_registry.py,
then times, per command, 1 warm-up run (which also warms the read cache) and --runs timed runs:

    python -c pass                                   the interpreter baseline
    sw-registry --help
    sw-registry registry-list --json                 per N
    sw-registry registry-info <model> --json         per N
    sw-registry registry-promote <model> <a dev version> --to staging --json   per N (a new version each run)
    sw-registry registry-register <model> --artifact <new 4 KB file> --bump patch --json   per N

and prints a markdown table with the median, min and max and the budget beside each row.

    python bench/run.py                  N = 50, 500          (150 and 1,500 versions)
    python bench/run.py --big            N = 50, 500, 3334    (... and ~10,000 versions)
    python bench/run.py --artifact-gib 1 register one 1 GiB file against sha256sum + cp, and its peak RSS

Bytecode: the timed processes cache it in a folder of the benchmark's own (PYTHONPYCACHEPREFIX,
filled by the warm-up runs), as an installed wheel has it, even if PYTHONDONTWRITEBYTECODE is set.
Each register run adds a version, so its registry grows by 1 + --runs versions while it is timed.

The console script is the installed one (shutil.which). A pyenv shim in front of it is a shell
script that re-executes through pyenv (tens of ms per call that are not the product's), so the
real script next to the running interpreter is timed instead, and the shim gets one reference row.
Only the standard library and the product (through bench/build_registry.py) are used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_registry import build

GIB = 1024**3
SIZES = (50, 500)
BIG_SIZE = 3334  # 3 x 3334 = 10,002 versions
MODEL = "fraud-detection-model"
HELP_BUDGET_MS = 120
PROMOTE_BUDGET_MS = 250  # promote, including its commit; register has no budget of its own (shown for reference)
RSS_BUDGET_MB = 150
GIB_RATIO_BUDGET = 2.0


def read_budget_ms(versions: int) -> int:
    """list/info: 150 ms up to 1,500 versions, 300 ms up to 10,000."""
    return 150 if versions <= 1500 else 300


# -- running and timing ------------------------------------------------------------------------


PYCACHE: Path | None = None  # set by main(): bytecode cache of the timed processes


def bench_env() -> dict[str, str]:
    """The caller's environment without variables that would change what sw-registry does.

    Bytecode is cached in a folder of the benchmark's own (PYTHONPYCACHEPREFIX; filled by the
    warm-up runs), as for an installed wheel, even where PYTHONDONTWRITEBYTECODE is set: otherwise
    an editable install recompiles the product's modules in every process.
    """
    drop = ("SW_REGISTRY_ROOT", "SW_REGISTRY_JSON", "SW_REGISTRY_ACTOR", "SW_REGISTRY_LOCK_TIMEOUT",
            "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def console_script() -> tuple[str, str | None]:
    """(script to time, the shim found on PATH if it was a shim rather than the Python script)."""
    found = shutil.which("sw-registry")
    beside = Path(sysconfig.get_path("scripts")) / "sw-registry"
    if found is None:
        if beside.exists():
            return str(beside), None
        raise SystemExit("sw-registry is not installed (pip install -e .)")
    with open(found, "rb") as fh:
        shebang = fh.readline()
    if b"python" in shebang:
        return os.path.abspath(found), None
    if beside.exists():
        return str(beside), os.path.abspath(found)
    return os.path.abspath(found), None


def run_once(cmd: Sequence[str], cwd: Path | None = None) -> float:
    """Wall time of one process in seconds; a failing command stops the benchmark with its output."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=bench_env(), capture_output=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        out = (proc.stderr or proc.stdout).decode("utf-8", "replace")[-2000:]
        raise SystemExit(f"command failed (exit {proc.returncode}): {shlex.join(cmd)}\n{out}")
    return elapsed


@dataclass
class Row:
    command: str
    n: str
    versions: str
    times_ms: list[float]
    budget: str = "-"
    verdict: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)


def measure(label: str, make_cmd: Callable[[int], Sequence[str]], runs: int, cwd: Path | None = None) -> list[float]:
    """1 warm-up run, then ``runs`` timed runs; ``make_cmd(i)`` does its own setup before the clock starts."""
    print(f"  {label} ...", file=sys.stderr, flush=True)
    run_once(make_cmd(-1), cwd)
    return [run_once(make_cmd(i), cwd) * 1000 for i in range(runs)]


def judge(row: Row, budget_ms: float, reference: bool = False) -> Row:
    row.budget = f"{budget_ms:g}" + (" (promote, ref.)" if reference else "")
    over = row.median - budget_ms
    if over <= 0:
        row.verdict = "ok" if not reference else "within ref."
    else:
        row.verdict = f"over by {over:.0f} ms (+{over / budget_ms:.0%})" + (" (ref.)" if reference else "")
    return row


def table(rows: list[Row]) -> str:
    lines = [
        "| command | N | versions | median ms | min | max | budget ms | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(f"| {r.command} | {r.n} | {r.versions} | {r.median:.0f} | {min(r.times_ms):.0f} | "
                     f"{max(r.times_ms):.0f} | {r.budget} | {r.verdict} |")
    return "\n".join(lines)


def product_revision() -> str:
    """The product's git commit, '+dirty' when its work tree has changes (the timed code is the work tree)."""
    import sw_registry

    src = Path(sw_registry.__file__).resolve().parent.parent
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=src, capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "sw_registry"], cwd=src, capture_output=True,
                           text=True).stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def machine_line() -> str:
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; nproc {os.cpu_count()}; "
            f"Python {platform.python_version()} ({sys.executable}); {git}; {platform.platform()}; "
            f"sw-registry at {product_revision()}; load average at the end {load}")


def new_artifact(folder: Path, tag: str, size: int = 4096) -> Path:
    path = folder / f"model-{tag}-{time.time_ns()}.pkl"
    path.write_bytes(os.urandom(size))
    return path


# -- the CLI timings -----------------------------------------------------------------------------


def fixed(cmd: list[str]) -> Callable[[int], list[str]]:
    """The same command for every run."""
    return lambda i: cmd


def cli_rows(sizes: Sequence[int], runs: int, workdir: Path, keep: bool) -> tuple[list[Row], list[str]]:
    """The baseline and --help once, then list, info and register for each size."""
    script, shim = console_script()
    print(f"timing {script}" + (f" (PATH has the shim {shim})" if shim else ""), file=sys.stderr)

    def row(command: str, n: str, versions: str, make_cmd: Callable[[int], Sequence[str]], budget: float | None,
            cwd: Path | None = None, reference: bool = False) -> Row:
        result = Row(command, n, versions, measure(command, make_cmd, runs, cwd))
        return judge(result, budget, reference) if budget is not None else result

    rows = [
        row("`python -c pass` (baseline)", "-", "-", fixed([sys.executable, "-c", "pass"]), None),
        row("`sw-registry --help`", "-", "-", fixed([script, "--help"]), HELP_BUDGET_MS),
    ]
    if shim:
        rows.append(row("`sw-registry --help` via the pyenv shim (ref.)", "-", "-", fixed([shim, "--help"]),
                        HELP_BUDGET_MS))
    scratch = Path(tempfile.mkdtemp(prefix="artifacts-", dir=workdir))
    built: list[str] = []
    for n in sizes:
        root = Path(tempfile.mkdtemp(prefix=f"registry-{n}-", dir=workdir))
        info = build(root, n)
        count = f"{info['versions']:,}"
        print(f"N={n}: built {count} versions in {info['seconds']} s at {root}", file=sys.stderr)
        built.append(f"N={n}: {count} versions in {info['seconds']:.1f} s")
        at = ["--root", str(root)]
        budget = read_budget_ms(info["versions"])

        def register(i: int, at: list[str] = at) -> list[str]:
            artifact = new_artifact(scratch, str(i))  # before the clock starts
            return [script, "registry-register", MODEL, "--artifact", str(artifact), "--bump", "patch", "--json", *at]

        info_out = subprocess.run([script, "registry-info", MODEL, "--json", *at], capture_output=True, text=True,
                                  env=bench_env(), check=True).stdout
        dev = [v["version"] for v in json.loads(info_out)["data"]["versions"] if v["stage"] == "dev"]

        def promote(i: int, at: list[str] = at, dev: list[str] = dev) -> list[str]:
            # each run moves another dev version into staging, archiving the previous holder: one commit
            return [script, "registry-promote", MODEL, dev[i], "--to", "staging", "--json", *at]

        rows += [
            row("`registry-list --json`", str(n), count, fixed([script, "registry-list", "--json", *at]), budget, root),
            row(f"`registry-info {MODEL} --json`", str(n), count,
                fixed([script, "registry-info", MODEL, "--json", *at]), budget, root),
            row("`registry-promote … --to staging`", str(n), count, promote, PROMOTE_BUDGET_MS, root),
            row("`registry-register … --bump patch` (4 KB)", str(n), count, register, PROMOTE_BUDGET_MS, root,
                reference=True),
        ]
        if not keep:
            shutil.rmtree(root)
    shutil.rmtree(scratch)
    return rows, ["Registries built by bench/build_registry.py (not timed above): " + "; ".join(built)]


# -- one large artifact ------------------------------------------------------------------------------


def peak_rss_cmd(cmd: list[str], rss_file: Path) -> list[str]:
    """Wrap ``cmd`` with GNU time so the peak RSS (KB) of it and the children it waited for lands in rss_file."""
    if Path("/usr/bin/time").exists():
        return ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd]
    return cmd


def artifact_gib(gib: float, runs: int, workdir: Path, keep: bool) -> tuple[list[Row], list[str]]:
    size = int(gib * GIB)
    # the source, the cp copy, the registry copy and its git object exist at once
    need = 4 * size + GIB
    free = shutil.disk_usage(workdir).free
    if free < need:
        raise SystemExit(f"need {need / GIB:.1f} GiB free in {workdir}, have {free / GIB:.1f} GiB")
    script, _ = console_script()
    root = Path(tempfile.mkdtemp(prefix="registry-gib-", dir=workdir))
    build(root, 50)
    big_dir = Path(tempfile.mkdtemp(prefix="big-", dir=workdir))
    src, dest, rss_file = big_dir / "model.bin", big_dir / "copy.bin", big_dir / "rss.txt"
    r = ["--root", str(root)]
    try:
        print(f"creating {gib:g} GiB of random data in {src} (not timed)", file=sys.stderr, flush=True)
        subprocess.run(f"head -c {size} /dev/urandom > {shlex.quote(str(src))}", shell=True, check=True)
        # warm the registry's read cache and git with one small registration
        run_once([script, "registry-register", MODEL, "--artifact", str(new_artifact(big_dir, "warm")),
                  "--bump", "patch", "--json", *r], root)
        baseline = ["bash", "-c", 'sha256sum "$1" >/dev/null && cp "$1" "$2"', "_", str(src), str(dest)]
        print("  sha256sum + cp ...", file=sys.stderr, flush=True)
        run_once(baseline)  # warm-up: the page cache now holds the source for both sides alike
        base_ms = []
        for _ in range(max(runs, 3)):
            dest.unlink(missing_ok=True)
            base_ms.append(run_once(baseline) * 1000)
        dest.unlink(missing_ok=True)
        reg_ms, rss_kb = [], []
        for i in range(runs):
            if i:  # a new file per run: git would skip writing an object it already has
                src.unlink()
                subprocess.run(f"head -c {size} /dev/urandom > {shlex.quote(str(src))}", shell=True, check=True)
            print(f"  registry-register {gib:g} GiB (run {i + 1}/{runs}) ...", file=sys.stderr, flush=True)
            cmd = peak_rss_cmd([script, "registry-register", MODEL, "--artifact", str(src), "--bump", "patch",
                                "--json", *r], rss_file)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            reg_ms.append(run_once(cmd, root) * 1000)
            if cmd[0] == "/usr/bin/time":
                rss_kb.append(int(rss_file.read_text().split()[-1]))
            else:  # a high-water mark over all children so far: only meaningful if it rose
                rss_kb.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    finally:
        shutil.rmtree(big_dir, ignore_errors=True)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    label = f"{gib:g} GiB"
    base = Row(f"`sha256sum FILE && cp FILE DEST` ({label}, baseline)", "-", "-", base_ms)
    reg = Row(f"`registry-register … --artifact FILE` ({label})", "50", "150", reg_ms)
    ratio = reg.median / base.median
    judge(reg, GIB_RATIO_BUDGET * base.median)
    reg.budget = f"{GIB_RATIO_BUDGET * base.median:.0f} (2× baseline)"
    peak_mb = max(rss_kb) / 1024
    notes = [
        f"ratio register / (sha256sum + cp) = {ratio:.2f}× (budget ≤ {GIB_RATIO_BUDGET:g}×): "
        + ("ok" if ratio <= GIB_RATIO_BUDGET else f"over by {ratio - GIB_RATIO_BUDGET:.2f}×"),
        f"peak RSS of the register process (with the git processes it waited for) = {peak_mb:.0f} MB "
        f"(budget ≤ {RSS_BUDGET_MB} MB): " + ("ok" if peak_mb <= RSS_BUDGET_MB else
                                               f"over by {peak_mb - RSS_BUDGET_MB:.0f} MB"),
    ]
    return [base, reg], notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help=f"also N={BIG_SIZE} (~10,000 versions)")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"versions per model to test (default {SIZES})")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per command, after 1 warm-up (≥5; default 9)")
    parser.add_argument("--artifact-gib", type=float, metavar="X",
                        help="instead: register one X GiB file against sha256sum + cp, with peak RSS")
    parser.add_argument("--gib-runs", type=int, default=1, help="registrations of a new X GiB file (default 1)")
    parser.add_argument("--workdir", type=Path, default=None, help="where registries and files go (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the built registries")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    workdir = Path(tempfile.mkdtemp(prefix="sw-registry-bench-", dir=args.workdir))
    global PYCACHE
    PYCACHE = workdir / "pycache"
    command = shlex.join(["python", *(sys.argv if argv is None else [sys.argv[0], *argv])])
    notes: list[str] = []
    try:
        if args.artifact_gib:
            rows, notes = artifact_gib(args.artifact_gib, args.gib_runs, workdir, args.keep)
        else:
            sizes = list(args.sizes or SIZES) + ([BIG_SIZE] if args.big else [])
            rows, notes = cli_rows(sizes, args.runs, workdir, args.keep)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    for note in notes:
        print(f"\n{note}")
    if args.artifact_gib:
        how = (f"baseline: median of {max(args.gib_runs, 3)} runs after 1 warm-up; register: {args.gib_runs} run(s), "
               "each of a new file, after one small warm-up registration")
    else:
        how = f"{args.runs} timed runs after 1 warm-up"
    print(f"\nCommand: `{command}` ({how}; wall time per process)")
    print(f"Machine: {machine_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
