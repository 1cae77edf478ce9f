"""What verifying signed approvals costs a promotion (SPEC §6): staging -> production with 10 approvals on record.

Two registries, built the same way: 10 approvers, each version of the model gets an approval from all 10 while
it is in staging, then is promoted to production (that promotion is what is timed, in-process through the
Python API, so the ~80 ms of interpreter start-up and its noise are not in the numbers).

    unsigned   approval rule {approvers: [10], min_approvals: M}
    signed     the same rule with signed: true; every approval signed by its approver's own SSH key
               (ssh-keygen, ed25519) and listed in .specweave/allowed_signers

For each M in --min (default 1, 2 and 10) the two registries take turns (unsigned, signed, signed, unsigned, ...),
so that a machine whose speed drifts (a shared one) slows both alike; it prints the median, min and max of --runs
promotions each and the median of the pairwise differences (signed minus unsigned: the figure the budget is about).
Then what the check costs the signed promotion on its critical path: the promotion starts the verifying ``git log``
in the background once it has read the approvals under the lock (``signing.start_signed_check``) and joins it
(``PendingCheck.result``) once its files are staged, so the time it spends in those two calls is measured during
each timed promotion ("on the path": start + wait at the join). And, for the record, the whole check by itself
(``signing.check_signed_approvals`` with the same inputs, three times before that promotion, read-only) in wall and
in CPU time (this process and the git and ssh-keygen processes it waited for: the load-proof figure of the work
the check does, wherever it runs). A signed promotion finds the approval commits through the seq -> commit map
(no history walk), reads the signers file from the work tree while it is HEAD's (no git process), and runs one
``git log --no-walk`` that verifies the first M approvals (git runs ``ssh-keygen -Y find-principals`` and
``-Y verify`` for each): the work grows with M (approvals needed), not with the approvals on record or the history.

    python bench/signed_approvals.py [--runs 7] [--min 1 2 10]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

APPROVERS = [f"approver{i}@example.com" for i in range(10)]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def setup(root: Path, keys: Path, signed: bool, min_approvals: int) -> object:
    from sw_registry.registry import ModelRegistry
    from sw_registry.signers import add_signer

    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    inc = root / ".specweave" / "increments" / "0001-bench"
    inc.mkdir(parents=True)
    (inc / "spec.md").write_text("# bench\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    git(root, "config", "gpg.format", "ssh")
    reg = ModelRegistry(root=root, increment="0001-bench")
    if signed:
        for i, who in enumerate(APPROVERS):
            add_signer(reg, who, str(keys / f"k{i}.pub"))
    reg.set_approval_required(
        stage="production", approvers=APPROVERS, name="m", min_approvals=min_approvals, signed=signed
    )
    return reg


def prepare(reg: object, root: Path, keys: Path, n: int) -> str:
    """Version 1.0.n in staging with an approval from each of the 10 approvers."""
    art = root.parent / f"art-{n}.bin"
    art.write_bytes(os.urandom(4096))
    version = f"1.0.{n}"
    reg.register_model("m", str(art), version=version)  # type: ignore[attr-defined]
    reg.promote_model("m", version, to_stage="staging")  # type: ignore[attr-defined]
    for i, who in enumerate(APPROVERS):
        git(root, "config", "user.signingkey", str(keys / f"k{i}"))
        reg.approve_model("m", version, approver=who)  # type: ignore[attr-defined]
    return version


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (git, and the ssh-keygen runs git waited for)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def check_only(reg: object, version: str) -> tuple[float, float]:
    """The signed check by itself, with the inputs promotion gives it (read-only): (wall ms, CPU ms)."""
    from sw_registry.gitops import open_repo
    from sw_registry.ops.common import read_metadata
    from sw_registry.signing import check_signed_approvals

    index = reg.ctx.index()  # type: ignore[attr-defined]
    rec = index.get("m", version)
    meta = read_metadata(reg.ctx, rec)  # type: ignore[attr-defined]
    rule = index.policy.approval("m", "production")
    repo = open_repo(reg.root)  # type: ignore[attr-defined]
    cpu, start = _cpu(), time.perf_counter()
    # raises approval_required unless min_approvals of them verify
    check_signed_approvals(repo, index.policy, "m", version, "production", rule, meta["approvals"], meta)
    took = (time.perf_counter() - start) * 1000
    return took, (_cpu() - cpu) * 1000


ON_PATH: list[float] = []  # seconds the current promotion spent starting and joining the signed check


def _timed(fn: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            ON_PATH.append(time.perf_counter() - start)

    return timed


def watch_the_check() -> None:
    """Time the signed check's start and join inside the promotion (the real calls, only timed)."""
    import sw_registry.signing as signing
    from sw_registry.signing.approvals import PendingCheck

    signing.start_signed_check = _timed(signing.start_signed_check)  # type: ignore[assignment]
    PendingCheck.result = _timed(PendingCheck.result)  # type: ignore[method-assign]


def promote(reg: object, version: str) -> tuple[float, float]:
    """(the promotion's wall ms, of which ms in the signed check's start and join)."""
    ON_PATH.clear()
    start = time.perf_counter()
    reg.promote_model("m", version, to_stage="production")  # type: ignore[attr-defined]
    return (time.perf_counter() - start) * 1000, sum(ON_PATH) * 1000


def measure(
    work: Path, keys: Path, m: int, runs: int
) -> tuple[list[float], list[float], list[float], list[tuple[float, float]]]:
    """(unsigned promotions, signed promotions, the signed check on those promotions' path, signed checks alone
    (wall, CPU)), ms, taken in turns."""
    regs = {}
    for signed in (False, True):
        root = work / f"{'signed' if signed else 'unsigned'}-{m}" / "proj"
        regs[signed] = (setup(root, keys, signed, m), root)
        reg, root = regs[signed]
        promote(reg, prepare(reg, root, keys, 0))  # warm-up: builds the seq -> commit map once
    times: dict[bool, list[float]] = {False: [], True: []}
    on_path, checks = [], []
    for n in range(1, runs + 1):
        versions = {signed: prepare(reg, root, keys, n) for signed, (reg, root) in regs.items()}
        checks += [check_only(regs[True][0], versions[True]) for _ in range(3)]
        for signed in (False, True) if n % 2 else (True, False):
            took, checking = promote(regs[signed][0], versions[signed])
            times[signed].append(took)
            if signed:
                on_path.append(checking)
    return times[False], times[True], on_path, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--min", type=int, nargs="+", default=[1, 2, 10], dest="mins")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-registry-bench-signed-"))
    try:
        run(work, args.runs, args.mins)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, runs: int, mins: list[int]) -> None:
    home = work / "home"
    home.mkdir()
    os.environ.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
    )
    keys = work / "keys"
    keys.mkdir()
    for i in range(len(APPROVERS)):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / f"k{i}")], check=True)
    spawn = {}
    for label, cmd in (
        ("git --version", ["git", "--version"]),
        ("ssh-keygen -l -f KEY.pub", ["ssh-keygen", "-l", "-f", str(keys / "k0.pub")]),
    ):
        taken, cpu = [], _cpu()
        for _ in range(15):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            taken.append((time.perf_counter() - start) * 1000)
        spawn[label] = f"{statistics.median(taken):.1f} ms wall (median), {(_cpu() - cpu) / 15 * 1000:.1f} ms CPU"
    print("process start-up on this machine now: " + "; ".join(f"{k} {v}" for k, v in spawn.items()))
    print()
    print(
        "| approvals needed (of 10 on record) | unsigned median ms (min–max) | signed median ms (min–max) | "
        "median of pairwise differences | signed check on the promotion's path (start + join), median ms | "
        "the check by itself, median ms: wall / CPU |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    med = statistics.median
    watch_the_check()
    for m in mins:
        u, s, on_path, checks = measure(work, keys, m, runs)
        print(
            f"| {m} | {med(u):.1f} ({min(u):.1f}–{max(u):.1f}) | {med(s):.1f} ({min(s):.1f}–{max(s):.1f}) | "
            f"{med([b - a for a, b in zip(u, s)]):+.1f} | {med(on_path):.1f} | {med([c[0] for c in checks]):.1f} / "
            f"{med([c[1] for c in checks]):.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
