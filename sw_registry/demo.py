"""``sw-registry demo``: a throwaway SpecWeave project that runs the lifecycle, offline."""

from __future__ import annotations

import json
import os
import pickle
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL = "fraud-detection-model"
INCREMENT = "0042-fraud-detection"
FEATURES = ("amount", "merchant_risk_score", "days_since_last_purchase")


def _train(seed: int, epochs: int) -> tuple[Any, float, str]:
    """Train a small real model; returns (model, accuracy, framework)."""
    import warnings

    warnings.filterwarnings("ignore")  # a deliberately under-trained first version warns about convergence
    try:
        from sklearn.datasets import make_classification
        from sklearn.linear_model import LogisticRegression

        X, y = make_classification(
            n_samples=400, n_features=len(FEATURES), n_informative=2, n_redundant=0, random_state=7
        )
        model = LogisticRegression(max_iter=epochs).fit(X[:300], y[:300])
        import sklearn

        return model, float(model.score(X[300:], y[300:])), f"scikit-learn=={sklearn.__version__}"
    except ImportError:
        from .demo_model import ThresholdModel, make_data

        rows, labels = make_data(400, seed=7)
        model = ThresholdModel().fit(rows[:300], labels[:300], epochs=epochs)
        predicted = model.predict(rows[300:])
        acc = sum(int(p == t) for p, t in zip(predicted, labels[300:])) / len(predicted)
        return model, acc, "pure-python"


def _project(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        from .errors import InvalidInput

        raise InvalidInput(f"demo folder {str(path)!r} is not empty", hint="pass a new or empty folder")
    from .gitops import run_git
    from .init_project import CACHE_IGNORE

    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Demo Alice"],
        ["config", "user.email", "alice@example.com"],
    ):
        run_git(path, *args)
    inc = path / ".specweave" / "increments" / INCREMENT
    inc.mkdir(parents=True)
    (inc / "spec.md").write_text("# Fraud detection\n\nDemo increment built by `sw-registry demo`.\n")
    (inc / "metadata.json").write_text(json.dumps({"id": INCREMENT, "status": "active"}, indent=2) + "\n")
    (path / ".gitignore").write_text(CACHE_IGNORE + "\n")
    run_git(path, "add", "-A")
    run_git(path, "commit", "-q", "-m", "SpecWeave increment 0042")
    return path


def _env(root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SW_REGISTRY_") and k not in ("GIT_DIR", "GIT_WORK_TREE")
    }
    env["SW_REGISTRY_ROOT"] = str(root)
    env["NO_COLOR"] = "1"
    return env


def _register(work: Path, n: int, how: list[str], extra: list[str]) -> list[str]:
    """registry-register of the demo model's v<n> files (``how``: --version or --bump; ``extra``: the rest)."""
    files = ["--metadata", str(work / f"v{n}" / "metadata.json"), "--requirements", str(work / "requirements.txt")]
    return ["registry-register", MODEL, "--artifact", str(work / f"v{n}" / "model.pkl"), *how, *files, *extra]


def steps(work: Path) -> list[tuple[list[str], int]]:
    """The demo's commands (``sw-registry`` arguments) with the exit code each is expected to give."""
    bob = ["--actor", "bob@example.com"]
    return [
        (_register(work, 1, ["--version", "v1.0.0"], ["--tag", "fraud", "--description", "baseline"]), 0),
        (_register(work, 2, ["--bump", "minor"], ["--parent", f"{MODEL}@1.0.0", "--tag", "fraud"]), 0),
        (
            [
                "registry-policy",
                MODEL,
                "--require-approval",
                "production",
                "--approver",
                "bob@example.com",
                "--no-self-approval",
                "--primary-metric",
                "accuracy",
                "--owner",
                "ml-team@example.com",
            ],
            0,
        ),
        (["registry-promote", MODEL, "v1.0.0", "--to", "staging"], 0),
        (["registry-promote", MODEL, "v1.0.0", "--to", "production"], 1),  # refused: bob has not approved yet
        (["registry-approve", MODEL, "v1.0.0", "--comment", "validated in staging", *bob], 0),
        (["registry-promote", MODEL, "v1.0.0", "--to", "production", "--reason", "first release"], 0),
        (["registry-promote", MODEL, "v1.1.0", "--to", "staging"], 0),
        (["registry-approve", MODEL, "v1.1.0", "--comment", "accuracy up", *bob], 0),
        (["registry-promote", MODEL, "v1.1.0", "--to", "production", "--from", "staging"], 0),
        (["registry-compare", MODEL, "v1.0.0", "v1.1.0"], 0),
        (["registry-rollback", MODEL, "--reason", "v1.1.0 raises false positives"], 0),
        (["sync-docs", "update"], 0),
        (["registry-list"], 0),
        (["registry-info", MODEL], 0),
        (["registry-info", MODEL, "--version", "v1.1.0"], 0),
        (["registry-history", MODEL], 0),
        (["registry-get", MODEL, "--stage", "production", "--path-only"], 0),
        (["registry-list", "--json"], 0),
    ]


def run_demo(path: str | None, echo: Callable[[str], None]) -> dict[str, Any]:
    root = _project(Path(path).resolve() if path else Path(tempfile.mkdtemp(prefix="sw-registry-demo-")))
    work = Path(tempfile.mkdtemp(prefix="sw-registry-demo-work-"))
    (work / "requirements.txt").write_text("scikit-learn\n")
    for n, (epochs, data_version) in enumerate(((5, "v2024-01"), (200, "v2024-02")), start=1):
        model, acc, framework = _train(seed=n, epochs=epochs)
        folder = work / f"v{n}"
        folder.mkdir()
        with open(folder / "model.pkl", "wb") as fh:
            pickle.dump(model, fh)
        meta = {
            "algorithm": type(model).__name__,
            "framework": framework,
            "accuracy": round(acc, 4),
            "inference_latency_p95_ms": 80 - 10 * n,
            "training_data_version": data_version,
            "feature_engineering_version": "v1",
            "experiment": f"exp-00{n}",
            "hyperparameters": {"max_iter": epochs},
            "features": list(FEATURES),
        }
        (folder / "metadata.json").write_text(json.dumps(meta, indent=2))
    env = _env(root)
    ran: list[dict[str, Any]] = []
    for args, expected in steps(work):
        argv = [sys.executable, "-m", "sw_registry", *args]
        _step(argv, f"sw-registry {shlex.join(args)}", expected, root, env, echo, ran)
    close_the_loop(root, work, env, echo, ran)
    signed_approvals(root, env, echo, ran)
    echo(f"The demo project is at {root}; look around with: cd {shlex.quote(str(root))} && git log --stat")
    return {"root": str(root), "steps": ran}


# -- experiments in, monitoring and auto-rollback out (issue 8) ------------------------------------------

EXPERIMENT = "exp-003-retrain"
TRAIN_SCRIPT = f"""\
# A training run tracked as an experiment: on a clean exit one commit writes experiments/{EXPERIMENT}/
# and registers the model it produced (lineage.experiment = {EXPERIMENT}).
from sw_registry import track_experiment
from sw_registry.demo import FEATURES, MODEL, _train

model, accuracy, framework = _train(seed=3, epochs=300)
with track_experiment("{EXPERIMENT}", increment="0042") as exp:
    exp.log_params({{"max_iter": 300}})
    exp.log_metrics({{"accuracy": round(accuracy, 4), "inference_latency_p95_ms": 45}})
    exp.register_model(
        model=model,
        name=MODEL,
        auto_version=True,
        metadata={{"framework": framework, "training_data_version": "v2024-03", "features": list(FEATURES)}},
    )
print(f"experiment {EXPERIMENT}: registered {{exp.model_version.ref}} in commit {{exp.commit[:8]}}")
"""


def loop_steps() -> list[tuple[list[str], int]]:
    """After the training run: promote its version, watch it in production, and let a breach roll it back."""
    bob = ["--actor", "bob@example.com"]
    return [
        (["registry-experiments"], 0),
        (["registry-lineage", "--uses", f"experiment:{EXPERIMENT}"], 0),
        (["registry-policy", MODEL, "--trigger", "error_rate>0.05", "--window", "24h"], 0),
        (["registry-promote", MODEL, "v1.1.1", "--to", "staging"], 0),
        (["registry-approve", MODEL, "v1.1.1", "--comment", "retrained on v2024-03", *bob], 0),
        (["registry-promote", MODEL, "v1.1.1", "--to", "production", "--from", "staging"], 0),
        (["registry-monitor", MODEL, "--metric", "error_rate=0.01"], 0),  # healthy: one commit
        (["registry-monitor", MODEL, "--metric", "error_rate=0.12"], 0),  # mean 0.065 > 0.05: auto-rollback
        (["registry-history", MODEL], 0),
        (["sync-docs", "update"], 0),
    ]


def close_the_loop(
    root: Path, work: Path, env: dict[str, str], echo: Callable[[str], None], ran: list[dict[str, Any]]
) -> None:
    """The tracked experiment and the monitored breach, as steps that print their command and output."""
    script = work / "train.py"
    script.write_text(TRAIN_SCRIPT)
    _step([sys.executable, str(script)], f"python {script.name}", 0, root, env, echo, ran)
    for args, expected in loop_steps():
        _step(
            [sys.executable, "-m", "sw_registry", *args],
            f"sw-registry {shlex.join(args)}",
            expected,
            root,
            env,
            echo,
            ran,
        )


def _step(
    argv: list[str],
    shown: str,
    expected: int,
    root: Path,
    env: dict[str, str],
    echo: Callable[[str], None],
    ran: list[dict[str, Any]],
    *,
    note: str = "",
) -> None:
    """Run one demo command, print it and its output; a step that does not exit as expected stops the demo.

    ``shown`` is the command as a user would type it (recorded in ``ran``); ``note`` is printed after it."""
    echo(f"$ {shown}" + (f"    # {note}" if note else ""))
    proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
    output = (proc.stdout + proc.stderr).rstrip()
    if output:
        echo(output)
    if expected:
        echo(f"(exit {proc.returncode}: refused, as the policy says)")
    echo("")
    ran.append({"command": shlex.split(shown), "exit_code": proc.returncode})
    if proc.returncode != expected:
        from .errors import RegistryError

        raise RegistryError(
            f"demo step failed: {shown} (exit {proc.returncode}, expected {expected})",
            hint="this is a bug; the output above says why",
            details={"output": output},
        )


# -- signed approvals (SPEC §6) --------------------------------------------------------------------------


def signed_approvals(root: Path, env: dict[str, str], echo: Callable[[str], None], ran: list[dict[str, Any]]) -> None:
    """Signed approvals with throwaway SSH keys: a forged approval refused, a signed one accepted.

    Alice's git signs with Alice's key. Typing ``--actor bob@example.com`` no longer makes an approval Bob's:
    it is refused, because the signers file lists another key for Bob. With Bob's key (given to git for that
    one command through GIT_CONFIG_* variables, as Bob's own git config would) the approval is signed,
    verifies, and the promotion counts it."""
    import shutil

    if shutil.which("ssh-keygen") is None:
        echo("Signed approvals: skipped (ssh-keygen is not installed; it makes the demo's throwaway keys).")
        echo("")
        return
    keys = root / ".git" / "demo-keys"  # throwaway keys live and go with the demo project
    keys.mkdir()
    for who in ("alice", "bob"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{who}@example.com (demo)", "-f", str(keys / who)],
            check=True,
            capture_output=True,
        )
    from .gitops import run_git

    run_git(root, "config", "gpg.format", "ssh")
    run_git(root, "config", "user.signingkey", str(keys / "alice"))
    as_bob = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.signingkey", "GIT_CONFIG_VALUE_0": str(keys / "bob")}
    bob = ["--actor", "bob@example.com"]
    echo("# Signed approvals: throwaway SSH keys for alice and bob; git signs with alice's key")
    echo(f"$ git config gpg.format ssh && git config user.signingkey {keys / 'alice'}")
    echo("")
    policy = ["--require-approval", "production", "--approver", "bob@example.com", "--no-self-approval", "--signed"]
    steps: list[tuple[list[str], int, dict[str, str], str]] = [
        (["registry-signers", "add", "bob@example.com", str(keys / "bob.pub")], 0, {}, ""),
        (["registry-policy", MODEL, *policy], 0, {}, ""),
        (["registry-promote", MODEL, "v1.1.0", "--to", "staging", "--reason", "threshold fixed"], 0, {}, ""),
        (["registry-promote", MODEL, "v1.1.0", "--to", "production"], 1, {}, "bob's earlier approval is not signed"),
        (["registry-approve", MODEL, "v1.1.0", "--comment", "looks fine", *bob], 1, {}, "forged: alice's key"),
        (["registry-approve", MODEL, "v1.1.0", "--comment", "re-validated", *bob], 0, as_bob, "bob's key"),
        (["registry-promote", MODEL, "v1.1.0", "--to", "production", "--reason", "signed approval"], 0, {}, ""),
        (["registry-audit", MODEL], 0, {}, ""),
    ]
    for args, expected, extra, note in steps:
        argv = [sys.executable, "-m", "sw_registry", *args]
        _step(argv, f"sw-registry {shlex.join(args)}", expected, root, {**env, **extra}, echo, ran, note=note)
