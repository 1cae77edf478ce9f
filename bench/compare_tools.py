"""sw-registry against GTO and MLflow's model registry on the same workload (issue 10, deliverable 5).

The workload: 3 models x --versions versions each (default 500: 1,500 in all), 4 KB artifacts, one commit per
version where the tool commits. Each tool gets its own registry, built its own way:

    sw-registry   bench/build_registry.py's fast builder: one commit per version with the register trailers,
                  over 20 increments (the same history shape as bench/run.py's 10,002-version registry)
    GTO           git fast-import: one commit per version (the model's artifact file changed) and GTO's own
                  annotated tag ``NAME@vX.Y.Z`` on it, as ``gto register`` makes; stages by ``gto assign``
    MLflow        its model registry in a sqlite database (``MlflowClient`` with a ``sqlite:///`` URI, no
                  server): ``create_model_version`` per version, its source a 4 KB file; stages as aliases

Then each operation runs as a new process (1 warm-up, --runs timed; median), the way a user or a CI job runs it:

    operation   sw-registry                          GTO                            MLflow (a ``python -c`` script)
    list        registry-list --json                 gto show --json                every version of every model
    info        registry-info NAME --json            gto show NAME --json           the model and its versions
    get         registry-get NAME --version V --json gto show NAME@vV --json        the version and its download URI
    history     registry-history NAME --json         gto history NAME --json        (no stage-change history: -)
    register    registry-register NAME --artifact F  git commit of a new 4 KB file  create_model_version (it
                --bump patch --json                  + gto register NAME            records the source path; it
                                                     --bump-patch                   copies nothing)
    promote     registry-promote NAME V --to staging gto assign NAME --version vV   set_registered_model_alias
                --json                               --stage staging                (NAME, "staging", V)

The floor `python -c pass` is timed in the same run. What each does differs (sw-registry's register copies and
hashes the artifact and commits it with its metadata; GTO's only tags a commit; MLflow's only adds a row): the
ratios say what a user waits for with each tool, not that the work is the same.

    pip install -e '.[bench]'                 GTO and MLflow (either may be missing: its column is then skipped)
    python bench/compare_tools.py [--versions 500] [--runs 5] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench
from build_registry import ACTOR_EMAIL, ACTOR_NAME, ARTIFACT_BYTES, BASE_TIME, MODELS, build_fast, version_string

MODEL = MODELS[0]
OPS = ("list", "info", "get", "history", "register", "promote")
Cmd = Callable[[int], Sequence[str]]


def tool_script(name: str) -> str | None:
    """The console script ``name`` beside this interpreter, else on PATH (None: not installed)."""
    beside = Path(sysconfig.get_path("scripts")) / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def mlflow_installed() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import mlflow"], capture_output=True)
    return probe.returncode == 0


# -- sw-registry -------------------------------------------------------------------------------------------------


def sw_ops(root: Path, versions: int, scratch: Path) -> dict[str, Cmd]:
    script, _ = bench.console_script()
    at = ["--root", str(root)]
    dev = [version_string(i) for i in range(versions)]

    def register(i: int) -> list[str]:
        art = bench.new_artifact(scratch, f"sw{i}")
        return [script, "registry-register", MODEL, "--artifact", str(art), "--bump", "patch", "--json", *at]

    return {
        "list": bench.fixed([script, "registry-list", "--json", *at]),
        "info": bench.fixed([script, "registry-info", MODEL, "--json", *at]),
        "get": bench.fixed([script, "registry-get", MODEL, "--version", dev[1], "--json", *at]),
        "history": bench.fixed([script, "registry-history", MODEL, "--json", *at]),
        "register": register,
        "promote": lambda i: [script, "registry-promote", MODEL, dev[i + 2], "--to", "staging", "--json", *at],
    }


# -- GTO ---------------------------------------------------------------------------------------------------------


def build_gto(root: Path, versions: int, gto: str) -> None:
    """One commit per version (that model's artifact file changed) and GTO's annotated registration tag on it,
    through ``git fast-import``; then the top version of each model assigned to staging by GTO itself."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    rng = random.Random(0)
    stream = bytearray()
    when = int(BASE_TIME.timestamp())
    who = f"{ACTOR_NAME} <{ACTOR_EMAIL}>"
    mark = 0
    for i in range(versions):
        for name in MODELS:
            mark += 1
            when += 60
            ver = "v" + version_string(i)
            msg = f"{name} {ver}".encode()
            data = rng.randbytes(ARTIFACT_BYTES)
            stream += b"commit refs/heads/main\nmark :%d\n" % mark
            stream += f"author {who} {when} +0000\ncommitter {who} {when} +0000\n".encode()
            stream += b"data %d\n%s\n" % (len(msg), msg)
            stream += f"M 100644 inline models/{name}.pkl\n".encode() + b"data %d\n" % len(data) + data + b"\n\n"
            note = f"Registering artifact {name} version {ver}".encode()
            stream += f"tag {name}@{ver}\nfrom :{mark}\ntagger {who} {when} +0000\n".encode()
            stream += b"data %d\n%s\n" % (len(note), note)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=bytes(stream), check=True)
    git(root, "reset", "-q", "--hard", "main")
    for name in MODELS:
        run_gto(root, gto, "assign", name, "--version", "v" + version_string(versions - 1), "--stage", "staging")


def gto_ops(root: Path, versions: int, gto: str) -> dict[str, Cmd]:
    counter = [0]

    def register_and_commit(i: int) -> list[str]:
        # the commit a GTO user makes before registering is part of what they wait for: timed together
        counter[0] += 1
        art = root / "models" / f"{MODEL}.pkl"
        return ["sh", "-c", f"head -c {ARTIFACT_BYTES} /dev/urandom > {art} && git add -A && "
                            f"git commit -q -m 'new {MODEL} {counter[0]}' && {gto} register {MODEL} --bump-patch"]

    return {
        "list": bench.fixed([gto, "show", "--json"]),
        "info": bench.fixed([gto, "show", MODEL, "--json"]),
        "get": bench.fixed([gto, "show", f"{MODEL}@v{version_string(1)}", "--json"]),
        "history": bench.fixed([gto, "history", MODEL, "--json"]),
        "register": register_and_commit,
        "promote": lambda i: [gto, "assign", MODEL, "--version", "v" + version_string(i + 2), "--stage", "staging"],
    }


def run_gto(root: Path, gto: str, *args: str) -> None:
    subprocess.run([gto, *args], cwd=root, env=bench.bench_env(), check=True, capture_output=True)


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": ACTOR_NAME, "GIT_AUTHOR_EMAIL": ACTOR_EMAIL,
           "GIT_COMMITTER_NAME": ACTOR_NAME, "GIT_COMMITTER_EMAIL": ACTOR_EMAIL}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


# -- MLflow ------------------------------------------------------------------------------------------------------

MLFLOW_PRELUDE = (
    "import os, sys\n"
    "from mlflow import MlflowClient\n"
    "uri = 'sqlite:///' + os.path.abspath('mlflow.db')\n"
    "c = MlflowClient(tracking_uri=uri, registry_uri=uri)\n"
    "def all_versions(flt):\n"
    "    out, token = [], None\n"
    "    while True:\n"
    "        page = c.search_model_versions(flt, max_results=10000, page_token=token)\n"
    "        out += list(page)\n"
    "        token = page.token\n"
    "        if not token:\n"
    "            return out\n"
)


def build_mlflow(root: Path, versions: int) -> None:
    """The same models and versions in MLflow's registry (sqlite), through its client, in one process."""
    root.mkdir(parents=True)
    code = MLFLOW_PRELUDE + (
        "import random\n"
        f"rng = random.Random(0); names = {list(MODELS)!r}\n"
        "os.makedirs('artifacts', exist_ok=True)\n"
        "for n in names:\n"
        "    c.create_registered_model(n)\n"
        f"for i in range({versions}):\n"
        "    for n in names:\n"
        "        src = os.path.abspath(f'artifacts/{n}-{i}.pkl')\n"
        f"        open(src, 'wb').write(rng.randbytes({ARTIFACT_BYTES}))\n"
        "        c.create_model_version(n, src, tags={'accuracy': str(round(rng.uniform(0.8, 0.95), 4))},\n"
        "                               description=f'{n} benchmark version {i}')\n"
        "for n in names:\n"
        f"    c.set_registered_model_alias(n, 'staging', '{versions}')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=root, env=bench.bench_env(), check=True, capture_output=True)


def mlflow_ops(root: Path) -> dict[str, Cmd]:
    def script(body: str) -> Cmd:
        return bench.fixed([sys.executable, "-c", MLFLOW_PRELUDE + body])

    def register(i: int) -> list[str]:
        src = root / "artifacts" / f"new-{i}-{os.getpid()}.pkl"
        src.write_bytes(os.urandom(ARTIFACT_BYTES))
        return [sys.executable, "-c", MLFLOW_PRELUDE + f"c.create_model_version({MODEL!r}, {str(src)!r})\n"]

    return {
        "list": script("print(len([v.version for m in c.search_registered_models() for v in all_versions("
                       "f\"name='{m.name}'\")]))\n"),
        "info": script(f"m = c.get_registered_model({MODEL!r}); "
                       f"print(m.name, len(all_versions(\"name='{MODEL}'\")))\n"),
        "get": script(f"v = c.get_model_version({MODEL!r}, '2'); print(v.version, "
                      f"c.get_model_version_download_uri({MODEL!r}, '2'))\n"),
        "register": register,
        "promote": lambda i: [sys.executable, "-c", MLFLOW_PRELUDE
                              + f"c.set_registered_model_alias({MODEL!r}, 'staging', '{i + 3}')\n"],
    }


# -- the run -----------------------------------------------------------------------------------------------------


def measure(tool: str, ops: dict[str, Cmd], runs: int, cwd: Path) -> dict[str, float]:
    medians = {}
    for op in OPS:
        if op in ops:
            medians[op] = bench.measure_op(f"{tool} {op}", "read", ops[op], runs, cwd).median
    return medians


def report(results: dict[str, dict[str, float]], floor: float, versions: int) -> str:
    tools = [t for t in ("GTO", "MLflow") if t in results]
    head = "| operation | sw-registry ms | " + " | ".join(f"{t} ms | {t} / sw-registry" for t in tools) + " |"
    lines = [head, "| --- | ---: |" + " ---: | ---: |" * len(tools)]
    lines.append(f"| python -c pass (floor) | {floor:.0f} |" + " - | - |" * len(tools))
    sw = results["sw-registry"]
    for op in OPS:
        cells = [f"| {op} | {sw[op]:.0f} |"]
        for t in tools:
            theirs = results[t].get(op)
            cells.append(" - | - |" if theirs is None else f" {theirs:.0f} | {theirs / sw[op]:.2f}× |")
        lines.append("".join(cells))
    title = f"{len(MODELS)} models x {versions} versions ({len(MODELS) * versions}); median ms of each"
    return title + "\n\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=500, help="versions per model (default 500: 1,500 in all)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per operation, after 1 warm-up (default 5)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the registries go (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the registries")
    args = parser.parse_args(argv)
    if args.versions < args.runs + 3:
        parser.error("--versions must exceed --runs by 3 (promote moves a new version each run)")
    work = Path(tempfile.mkdtemp(prefix="sw-compare-", dir=args.workdir))
    bench.PYCACHE = work / "pycache"
    scratch = work / "artifacts"
    scratch.mkdir()
    results: dict[str, dict[str, float]] = {}
    try:
        print("building the sw-registry registry ...", file=sys.stderr, flush=True)
        build_fast(work / "sw", args.versions)
        results["sw-registry"] = measure("sw-registry", sw_ops(work / "sw", args.versions, scratch), args.runs,
                                         work / "sw")
        gto = tool_script("gto")
        if gto is None:
            print("GTO is not installed (pip install -e '.[bench]'): skipped", file=sys.stderr)
        else:
            print("building the GTO registry ...", file=sys.stderr, flush=True)
            build_gto(work / "gto", args.versions, gto)
            results["GTO"] = measure("GTO", gto_ops(work / "gto", args.versions, gto), args.runs, work / "gto")
        if not mlflow_installed():
            print("MLflow is not installed (pip install -e '.[bench]'): skipped", file=sys.stderr)
        else:
            print("building the MLflow registry ...", file=sys.stderr, flush=True)
            build_mlflow(work / "mlflow", args.versions)
            results["MLflow"] = measure("MLflow", mlflow_ops(work / "mlflow"), args.runs, work / "mlflow")
        floor_op = bench.measure_op("python -c pass", "floor", bench.fixed([sys.executable, "-c", "pass"]), args.runs)
        floor = statistics.median(floor_op.times_ms)
        print(f"\n{bench.machine_line()}\n")
        print(report(results, floor, args.versions))
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
