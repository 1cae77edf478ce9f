"""Benchmark: register and get of a large artifact through the S3 store, beside a plain upload of the same file.

    python bench/s3_store.py [--size-mib 1024] [--rounds 2]

Starts a local S3 server (moto's server mode, as the tests do) on a free loopback port, writes a random file
of --size-mib, then per round, in this order on fresh buckets so every round really uploads:

  plain     boto3's upload_file of the file (boto3's defaults: 8 MiB parts, 10 threads) - the yardstick
  register  sw-registry registry-register NAME --artifact FILE in a project whose artifact_store is that bucket
  get       sw-registry registry-get NAME --version 1 --path-only in a fresh clone (downloads, verifies)

Each is its own process, timed from start to exit (wall) with its peak RSS from os.wait4's rusage. The ratio
register/plain is taken round by round (pairing keeps it meaningful on a shared, noisy machine).
Prints a markdown table (paste it into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.s3server import CREDENTIALS, S3Server  # noqa: E402

ENV = {
    **os.environ,
    **CREDENTIALS,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
CLI = [sys.executable, "-m", "sw_registry"]


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of one child process."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)


def project(folder: Path, store: str, endpoint: str) -> Path:
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    inc = folder / ".specweave" / "increments" / "0001-bench"
    inc.mkdir(parents=True)
    (inc / "metadata.json").write_text('{"id": "0001-bench", "status": "active"}\n')
    (folder / ".specweave" / "registry.yaml").write_text(
        f"artifact_store: {store}\nartifact_store_options: {{endpoint_url: '{endpoint}'}}\n"
    )
    (folder / ".gitignore").write_text(".specweave/cache/\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "bench project", "-m", "Registry-Event: policy")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-bench-s3-") as tmp:
        work = Path(tmp)
        server = S3Server(work).start()
        try:
            artifact = work / "model.bin"
            with open(artifact, "wb") as fh:
                for _ in range(args.size_mib):
                    fh.write(os.urandom(1024 * 1024))
            rows: dict[str, list[tuple[float, float]]] = {"plain": [], "register": [], "get": []}
            ratios = []
            for i in range(args.rounds):
                bucket = server.new_bucket()
                plain_code = (
                    f"import boto3; boto3.client('s3', endpoint_url='{server.endpoint}', region_name='us-east-1')"
                    f".upload_file('{artifact}', '{bucket}', 'plain/model.bin')"
                )
                plain = measure([sys.executable, "-c", plain_code], work)
                proj = project(work / f"proj{i}", f"s3://{bucket}/store", server.endpoint)
                reg = measure([*CLI, "registry-register", "big", "--artifact", str(artifact), "--json"], proj)
                clone = work / f"clone{i}"
                git(work, "clone", "-q", str(proj), str(clone))
                got = measure([*CLI, "registry-get", "big", "--version", "1", "--path-only"], clone)
                assert Path(got[2].strip()).stat().st_size == artifact.stat().st_size
                rows["plain"].append(plain[:2])
                rows["register"].append(reg[:2])
                rows["get"].append(got[:2])
                ratios.append(reg[0] / plain[0])
                print(
                    f"round {i + 1}: plain {plain[0]:.1f}s {plain[1]:.0f}MiB, register {reg[0]:.1f}s {reg[1]:.0f}MiB "
                    f"(x{ratios[-1]:.2f}), get {got[0]:.1f}s {got[1]:.0f}MiB",
                    file=sys.stderr,
                )
                server.client().delete_object(Bucket=bucket, Key="plain/model.bin")
        finally:
            server.stop()
    print(f"\n{args.size_mib} MiB artifact, {args.rounds} round(s); median (min-max)\n")
    print("| step | wall s | peak RSS MiB |")
    print("|---|---|---|")
    for name, values in rows.items():
        walls = [w for w, _ in values]
        rss = [r for _, r in values]
        print(
            f"| {name} | {statistics.median(walls):.1f} ({min(walls):.1f}-{max(walls):.1f}) "
            f"| {statistics.median(rss):.0f} ({min(rss):.0f}-{max(rss):.0f}) |"
        )
    print(
        f"\nregister / plain, paired per round: median {statistics.median(ratios):.2f} "
        f"({min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
