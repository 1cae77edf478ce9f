"""Wall-time benchmarks of the sw-registry CLI, as a user runs it: one process per command.

Default (issue 10's budgets): two registries of 3 models each,

    1,500 versions   (--small 500)  registered one by one through the product's API: one commit per operation
    10,002 versions  (--big 3334)   over 20 increments, via git fast-import: one commit per version with the
                                    register trailers (derived files once per increment), stage changes by the product

and in each, after 1 warm-up run, --runs timed runs of

    python -c pass                                  the floor of every command
    git add && git commit                           in the same repository: the floor of a write, added to the above
    registry-list / -info / -get / -history         reads, in the default configuration: the first read of a
                                                    registry of 1,000 versions or more starts a watcher
                                                    (store/watch_start.py), which the bench lets finish its
                                                    first scan before timing
    registry-register (new 4 KB file, --bump patch) / -promote / -approve / -rollback: writes, one commit each
    the four reads again with no watcher and SW_REGISTRY_WATCHER=off (every version file stat'ed)

then `sw-registry --help` against `python -c pass`, the first read on fresh clones of the big registry (no cache),
a read after deleting the cache (its rebuild), and `.git` after the 1,500-version build against a `git gc`'d copy.
It prints a markdown table: each median, the own time (median minus the floor of the same registry), the growth
from 1,500 to 10,002 versions and the peak RSS (GNU time), each against its budget.

    python bench/run.py                       the default above (about 20-30 minutes on 2 busy cores)
    python bench/run.py --small 20 --big 60   a quick check of the script itself
    python bench/run.py --reads-only          only the reads (both registries from the fast builder: minutes)
    python bench/run.py --artifact-gib 1      register one 1 GiB file against sha256sum + cp, and its peak RSS

Bytecode: the timed processes cache it in a folder of the benchmark's own (PYTHONPYCACHEPREFIX,
filled by the warm-up runs), as an installed wheel has it, even if PYTHONDONTWRITEBYTECODE is set.

The console script is the installed one (shutil.which). A pyenv shim in front of it is a shell
script that re-executes through pyenv (tens of ms per call that are not the product's), so the
real script next to the running interpreter is timed instead.
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

from sw_registry.store.watch_start import CI_VARIABLES, NOT_BEFORE

GIB = 1024**3
BIG_SIZE = 3334  # 3 x 3334 = 10,002 versions
MODEL = "fraud-detection-model"
RSS_BUDGET_MB = 150
GIB_RATIO_BUDGET = 2.0


# -- running and timing ------------------------------------------------------------------------


PYCACHE: Path | None = None  # set by main(): bytecode cache of the timed processes
EXTRA_ENV: dict[str, str] = {}  # set around the rows timed with another setting (SW_REGISTRY_WATCHER=off)


def bench_env() -> dict[str, str]:
    """The caller's environment without variables that would change what sw-registry does.

    Bytecode is cached in a folder of the benchmark's own (PYTHONPYCACHEPREFIX; filled by the
    warm-up runs), as for an installed wheel, even where PYTHONDONTWRITEBYTECODE is set: otherwise
    an editable install recompiles the product's modules in every process.
    """
    drop = ("SW_REGISTRY_ROOT", "SW_REGISTRY_JSON", "SW_REGISTRY_ACTOR", "SW_REGISTRY_LOCK_TIMEOUT",
            "SW_REGISTRY_WATCHER", *CI_VARIABLES, "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env | EXTRA_ENV


def wrapper_note(script: str) -> str:
    """Say so when the console script imports `re` before our code (pip < 26 writes such a wrapper)."""
    with open(script, encoding="utf-8", errors="replace") as fh:
        text = fh.read(4096)
    if "\nimport re\n" in text:
        return " (the console script was written by pip < 26 and imports `re` before our code: `pip install -U pip`)"
    return ""


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


# -- the budgets of issue 10: own time over the floor of the same run ------------------------------------------


WRITE_BUDGET_MS = 60  # register (4 KB), promote, rollback, approve: own time
READ_BUDGET_MS = 40  # list, info, get, history: own time
GROWTH_BUDGET = 1.25  # the 10,000-version own time over the 1,500-version one
COLD_BUDGET_MS = 1000  # first read on a fresh clone at 10,000 versions
HELP_RATIO_BUDGET = 1.3  # --help over python -c pass
GIT_SIZE_BUDGET = 4.0  # .git after the 1,500-version build over its size after git gc
PEAK_BUDGET_MB = 40


def fixed(cmd: list[str]) -> Callable[[int], list[str]]:
    """The same command for every run."""
    return lambda i: cmd


def timed(cmd: Sequence[str], cwd: Path | None, rss: list[int]) -> float:
    """Wall ms of one process; its peak RSS (KB, the largest of it and the processes it waited for) into ``rss``."""
    out = Path(tempfile.mktemp(prefix="rss-"))
    wrapped = peak_rss_cmd(list(cmd), out)
    ms = run_once(wrapped, cwd) * 1000
    if wrapped[0] == "/usr/bin/time":
        rss.append(int(out.read_text().split()[-1]))
        out.unlink()
    return ms


@dataclass
class Op:
    label: str
    kind: str  # "read", "write" or "floor"
    times_ms: list[float]
    rss_kb: list[int]
    floor_ms: list[float] | None = None  # `python -c pass`, run just before each run of this operation

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)


def measure_op(label: str, kind: str, make_cmd: Callable[[int], Sequence[str]], runs: int,
               cwd: Path | None = None, paired_floor: bool = False) -> Op:
    """``runs`` timed runs after one warm-up; with ``paired_floor``, each after a run of `python -c pass`, so a
    machine whose speed drifts (other tenants) moves the floor and the operation alike."""
    print(f"  {label} ...", file=sys.stderr, flush=True)
    rss: list[int] = []
    timed(make_cmd(-1), cwd, [])  # warm-up: bytecode, the read cache, the worktree snapshot
    times, floors = [], []
    for i in range(runs):
        if paired_floor:
            floors.append(timed([sys.executable, "-c", "pass"], cwd, []))
        times.append(timed(make_cmd(i), cwd, rss))
    return Op(label, kind, times, rss, floors if paired_floor else None)


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


READS = ("list", "info", "get", "history")


def read_rows(root: Path, runs: int, script: str, suffix: str = "") -> dict[str, Op]:
    """The four reads, each run paired with `python -c pass`; keys and labels end with ``suffix``."""
    at = ["--root", str(root)]
    args = {"list": ["registry-list"], "info": ["registry-info", MODEL], "get": ["registry-get", MODEL, "--stage",
            "production"], "history": ["registry-history", MODEL]}
    return {key + suffix.strip(): measure_op(args[key][0] + suffix, "read",
                                             fixed([script, *args[key], "--json", *at]), runs, root, True)
            for key in READS}


def watcher_status(root: Path) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-m", "sw_registry.watcher", "status", "--json", "--root", str(root)],
                          capture_output=True, text=True, env=bench_env(), check=True)
    return dict(json.loads(proc.stdout)["data"])


def settle(root: Path, stop: bool = False, within: float = 60.0) -> dict[str, object]:
    """Wait until the watcher a read of ``root`` started answers (its first scan is not timed with what follows);
    with ``stop``, stop it and wait until it is gone. Its status (running False: none was started)."""
    deadline = time.monotonic() + within
    found = watcher_status(root)
    while not found["running"] and time.monotonic() < deadline and (root / NOT_BEFORE).exists():
        time.sleep(0.1)
        found = watcher_status(root)
    if stop and found["running"]:
        subprocess.run([sys.executable, "-m", "sw_registry.watcher", "stop", "--root", str(root)], env=bench_env(),
                       capture_output=True, check=True)
        while time.monotonic() < deadline:
            try:
                os.kill(int(str(found["pid"])), 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    return found


def stat_rows(root: Path, runs: int, script: str) -> dict[str, Op]:
    """The four reads as they were before a read started a watcher: none running, SW_REGISTRY_WATCHER=off, so the
    memo stats every version file its answer rests on."""
    settle(root, stop=True)
    EXTRA_ENV["SW_REGISTRY_WATCHER"] = "off"
    try:
        return read_rows(root, runs, script, " (no watcher)")
    finally:
        EXTRA_ENV.clear()


def size_rows(root: Path, versions: int, runs: int, script: str, scratch: Path,
              reads_only: bool = False) -> dict[str, Op]:
    """Floors and the eight operations (the four reads with ``reads_only``) in one registry of ``versions``."""
    at = ["--root", str(root)]
    info = json.loads(subprocess.run([script, "registry-info", MODEL, "--json", *at], capture_output=True,
                                     text=True, env=bench_env(), check=True).stdout)["data"]
    dev = [v["version"] for v in info["versions"] if v["stage"] == "dev"]
    staging = info["stages"]["staging"]
    # two versions that were in production, so rollback alternates between them (one commit each)
    subprocess.run([script, "registry-promote", MODEL, staging, "--to", "production", "--json", *at],
                   capture_output=True, env=bench_env(), check=True)
    floor_file = root / "floor.txt"

    def git_commit(i: int) -> list[str]:
        with open(floor_file, "a") as fh:
            fh.write(f"{time.time_ns()}\n")
        return ["sh", "-c", "git add floor.txt && git commit -q -m floor"]

    def register(i: int) -> list[str]:
        artifact = new_artifact(scratch, str(i))
        return [script, "registry-register", MODEL, "--artifact", str(artifact), "--bump", "patch", "--json", *at]

    # the default configuration: the first read of a registry of AUTO_MIN_FILES versions or more starts a watcher
    subprocess.run([script, "registry-list", "--json", *at], capture_output=True, env=bench_env(), check=True)
    watching = settle(root)
    print(f"  watcher started by a read: {bool(watching['running'])}", file=sys.stderr)
    ops = {"pass": measure_op("python -c pass", "floor", fixed([sys.executable, "-c", "pass"]), runs),
           **read_rows(root, runs, script)}
    if reads_only:
        return ops
    ops |= {
        "commit": measure_op("git add && git commit", "floor", git_commit, runs, root),
        "register": measure_op("registry-register (4 KB)", "write", register, runs, root),
        "promote": measure_op("registry-promote", "write", lambda i: [script, "registry-promote", MODEL, dev[i + 1],
                                                                      "--to", "staging", "--json", *at], runs, root),
        "approve": measure_op("registry-approve", "write", lambda i: [script, "registry-approve", MODEL,
                                                                      dev[-(i + 2)], "--json", *at], runs, root),
        "rollback": measure_op("registry-rollback", "write", fixed([script, "registry-rollback", MODEL, "--reason",
                                                                    "bench", "--json", *at]), runs, root),
    }
    return ops


def own(ops: dict[str, Op], key: str) -> float:
    """The median minus the floor: the `python -c pass` runs paired with it when it has them (reads)."""
    op = ops[key]
    floor = statistics.median(op.floor_ms) if op.floor_ms else ops["pass"].median
    return op.median - floor - (ops["commit"].median if op.kind == "write" else 0)


def cold_reads(root: Path, runs: int, script: str, workdir: Path) -> tuple[Op, Op]:
    """First read on fresh clones (no cache), and a read after deleting the cache (its rebuild)."""
    firsts, rss = [], []
    for i in range(max(3, runs // 2)):
        clone = workdir / f"clone-{i}"
        subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
        firsts.append(timed([script, "registry-list", "--json", "--root", str(clone)], clone, rss))
        settle(clone, stop=True)  # the watcher that read started: its first scan is not timed with the next read
        if i:
            shutil.rmtree(clone)
    first = Op("first registry-list on a fresh clone (no cache)", "read", firsts, rss)
    clone = workdir / "clone-0"
    rebuild_ms, rebuild_rss = [], []
    for _ in range(runs):
        shutil.rmtree(clone / ".specweave" / "cache", ignore_errors=True)
        rebuild_ms.append(timed([script, "registry-history", MODEL, "--json", "--root", str(clone)], clone,
                                rebuild_rss))
        settle(clone, stop=True)
    shutil.rmtree(clone)
    return first, Op("registry-history after deleting the cache (rebuild)", "read", rebuild_ms, rebuild_rss)


def copy_quiet_git(git_dir: Path, copy: Path, limit: float = 600.0) -> None:
    """Copy ``git_dir`` once no ``git gc`` runs in it: the build's last commits start git's housekeeping, detached,
    and a gc it starts (holding ``gc.pid``) removes loose objects while they are being copied."""
    end = time.monotonic() + limit
    while True:
        while (git_dir / "gc.pid").exists() and time.monotonic() < end:
            time.sleep(0.2)
        try:
            shutil.copytree(git_dir, copy)
            return
        except shutil.Error:
            if time.monotonic() > end:
                raise
            shutil.rmtree(copy, ignore_errors=True)
            time.sleep(1)


def budget_report(small: int, big: int, big_increments: int, runs: int, workdir: Path, keep: bool,
                  reads_only: bool = False) -> list[str]:
    """Build both registries, time everything (only the reads with ``reads_only``), and return the report."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from build_registry import build_fast, build_through_product

    script, _ = console_script()
    scratch = Path(tempfile.mkdtemp(prefix="artifacts-", dir=workdir))
    lines: list[str] = []
    results: dict[int, dict[str, Op]] = {}
    roots: dict[int, Path] = {}
    git_sizes: tuple[int, int] | None = None
    for per_model, builder in ((small, "fast" if reads_only else "product"), (big, "fast")):
        root = workdir / f"registry-{per_model}"
        if builder == "product":
            built = build_through_product(root, per_model)
            size = du(root / ".git")
            copy = workdir / "gc-copy.git"
            copy_quiet_git(root / ".git", copy)
            subprocess.run(["git", "--git-dir", str(copy), "gc", "-q"], check=True)
            git_sizes = (size, du(copy))
            shutil.rmtree(copy)
        else:
            built = build_fast(root, per_model, big_increments if per_model == big else 3)
        print(f"built {built['versions']:,} versions ({built['builder']}) in {built['seconds']} s", file=sys.stderr)
        how = ("the product (one commit per operation)" if builder == "product" else
               "git fast-import (one commit per version, with trailers) and the product (stage changes)")
        lines.append(f"- {built['versions']:,} versions over {len(built['increments'])} increments, built by {how} "
                     f"in {built['seconds']:.0f} s")
        results[built["versions"]] = size_rows(root, built["versions"], runs, script, scratch, reads_only)
        results[built["versions"]] |= stat_rows(root, runs, script)
        roots[built["versions"]] = root
    help_op = measure_op("sw-registry --help", "read", fixed([script, "--help"]), runs, paired_floor=True)
    pass_help = Op("python -c pass", "floor", help_op.floor_ms or [], [])
    big_versions = max(results)
    first, rebuild = cold_reads(roots[big_versions], runs, script, workdir)
    (small_v, small_ops), (big_v, big_ops) = sorted(results.items())

    table_lines = [
        f"| operation | median ms at {small_v:,} | own ms at {small_v:,} | median ms at {big_v:,} | own ms at "
        f"{big_v:,} | growth | peak MB | budget (own) | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for key in ("pass", "commit")[: 1 if reads_only else 2]:
        a, b = small_ops[key], big_ops[key]
        table_lines.append(f"| {a.label} (floor) | {a.median:.0f} | - | {b.median:.0f} | - | - | "
                           f"{max(a.rss_kb + b.rss_kb, default=0) / 1024:.0f} | - | - |")
    stats = tuple(f"{key}(no watcher)" for key in READS)
    for key in (*READS, *(() if reads_only else ("register", "promote", "rollback", "approve")), *stats):
        a, b = small_ops[key], big_ops[key]
        own_a, own_b = own(small_ops, key), own(big_ops, key)
        budget = WRITE_BUDGET_MS if a.kind == "write" else READ_BUDGET_MS
        growth = own_b / own_a if own_a > 0 else float("inf")
        peak = max(a.rss_kb + b.rss_kb, default=0) / 1024
        misses = [f"{n:,}: +{o - budget:.0f} ms" for n, o in ((small_v, own_a), (big_v, own_b)) if o > budget]
        if growth > GROWTH_BUDGET and own_b > 5:
            misses.append(f"growth {growth:.2f}×")
        if peak > PEAK_BUDGET_MB:
            misses.append(f"peak {peak:.0f} MB")
        verdict = "ok" if not misses else "over: " + "; ".join(misses)
        table_lines.append(f"| {a.label} | {a.median:.0f} | {own_a:.0f} | {b.median:.0f} | {own_b:.0f} | "
                           f"{growth:.2f}× | {peak:.0f} | {budget} | {verdict} |")
    lines.append("")
    lines += table_lines
    lines.append("")
    ratio = help_op.median / pass_help.median
    lines.append(f"- `sw-registry --help` {help_op.median:.0f} ms against `python -c pass` {pass_help.median:.0f} ms: "
                 f"{ratio:.2f}× (budget ≤ {HELP_RATIO_BUDGET}×): {'ok' if ratio <= HELP_RATIO_BUDGET else 'over'}"
                 f"{wrapper_note(script)}")
    for op in (first, rebuild):
        verdict = "ok" if op.median <= COLD_BUDGET_MS else "over"
        lines.append(f"- {op.label} at {big_v:,} versions: median {op.median:.0f} ms (min {min(op.times_ms):.0f}, "
                     f"max {max(op.times_ms):.0f}; budget {COLD_BUDGET_MS} ms for the first read): {verdict}; "
                     f"peak {max(op.rss_kb, default=0) / 1024:.0f} MB")
    if git_sizes:
        before, after = git_sizes
        lines.append(f"- `.git` after the {small_v:,}-version build: {before / 1e6:.1f} MB; after `git gc`: "
                     f"{after / 1e6:.1f} MB; ratio {before / after:.2f}× (budget ≤ {GIT_SIZE_BUDGET:g}×): "
                     f"{'ok' if before / after <= GIT_SIZE_BUDGET else 'over'}")
    lines.append("- own = the operation's median minus the floor's median of the same size: `python -c pass` (for "
                 "reads and --help, run just before each of their runs) for reads, `python -c pass` + "
                 "`git add && git commit` (in the same repository) for writes; growth = own "
                 f"at {big_v:,} / own at {small_v:,} (budget ≤ {GROWTH_BUDGET}×); peak = the largest RSS of a run "
                 "(GNU time: the process or a git process it waited for)")
    lines.append("- GTO and MLflow on the same workload: `python bench/compare_tools.py` (needs the [bench] extra)")
    if not keep:
        for root in roots.values():
            shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return lines


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


def ab_parser(doc: str | None, prog: str) -> argparse.ArgumentParser:
    """The options every paired A/B script shares (bench/writes_ab.py, bench/reads_ab.py)."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the other sw-registry console script (B)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--small", type=int, default=500, help="versions per model of the small registry")
    parser.add_argument("--big", type=int, default=BIG_SIZE, help="versions per model of the big registry")
    parser.add_argument("--workdir", type=Path, default=None)
    return parser


def ab_copies(work: Path, label: str, per_model: int, *, fresh: bool) -> tuple[Path, Path]:
    """Copies for A and for B of the fast-built registry of ``per_model`` versions per model (built once in
    ``work``); ``fresh``: copied again even when a copy is there."""
    from build_registry import build_fast

    built = work / f"reg-{per_model}"
    if not built.exists():
        print(f"building {label} versions ...", file=sys.stderr, flush=True)
        build_fast(built, per_model)
    a_root, b_root = work / f"a-{per_model}", work / f"b-{per_model}"
    for copy in (a_root, b_root):
        if fresh:
            shutil.rmtree(copy, ignore_errors=True)
        if not copy.exists():
            subprocess.run(["cp", "-a", str(built), str(copy)], check=True)
    return a_root, b_root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=500,
                        help="versions per model of the registry built through the product (default 500: 1,500)")
    parser.add_argument("--big", type=int, default=BIG_SIZE,
                        help=f"versions per model of the fast-built registry (default {BIG_SIZE}: 10,002)")
    parser.add_argument("--big-increments", type=int, default=20, help="increments of the fast-built registry")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command, after 1 warm-up (≥5; default 7)")
    parser.add_argument("--artifact-gib", type=float, metavar="X",
                        help="instead: register one X GiB file against sha256sum + cp, with peak RSS")
    parser.add_argument("--gib-runs", type=int, default=1, help="registrations of a new X GiB file (default 1)")
    parser.add_argument("--workdir", type=Path, default=None, help="where registries and files go (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the built registries")
    parser.add_argument("--reads-only", action="store_true",
                        help="only the reads, --help and the cold reads; both registries built by the fast builder")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    if args.workdir is not None:  # a new folder is made, as the user asked for it by name
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="sw-registry-bench-", dir=args.workdir))
    global PYCACHE
    PYCACHE = workdir / "pycache"
    command = shlex.join(["python", *(sys.argv if argv is None else [sys.argv[0], *argv])])
    notes: list[str] = []
    try:
        if args.artifact_gib:
            rows, notes = artifact_gib(args.artifact_gib, args.gib_runs, workdir, args.keep)
        else:
            report = budget_report(args.small, args.big, args.big_increments, args.runs, workdir, args.keep,
                                   args.reads_only)
            print("\n".join(report))
            print(f"\nCommand: `{command}` ({args.runs} timed runs after 1 warm-up; wall time per process)")
            print(f"Machine: {machine_line()}")
            return 0
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
