"""Environments (SPEC §11): registry-promote --to-env into a folder and a git URL, real git and the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sw_registry.registry import ModelRegistry
from tests.conftest import INCREMENT, error, git, make_project, run_cli

VERSION_DIR = f".specweave/increments/{INCREMENT}/models/m-v1.0.0"


def set_environments(project: Path, envs: dict[str, dict[str, str]]) -> None:
    """registry.yaml with ``environments``, committed as registry-policy --commit would (event policy)."""
    (project / ".specweave" / "registry.yaml").write_text(json.dumps({"environments": envs}) + "\n")
    git(project, "add", ".specweave/registry.yaml")
    git(project, "commit", "-q", "-m", "registry: environments", "-m", "Registry-Event: policy")


def head(repo: Path, ref: str = "HEAD") -> str:
    return git(repo, "rev-parse", ref).strip()


def trailers(repo: Path, ref: str = "HEAD") -> dict[str, str]:
    text = git(repo, "log", "-1", "--format=%(trailers:only=true,unfold=true)", ref)
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def meta(repo: Path, rel: str = VERSION_DIR) -> dict:
    return json.loads((repo / rel / "metadata.json").read_text())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A project with m@1.0.0 registered (dev) and m@2.0.0, both with real artifacts."""
    src = make_project(tmp_path / "src")
    reg = ModelRegistry(root=src)
    for version in ("1.0.0", "2.0.0"):
        art = tmp_path / version / "model.pkl"
        art.parent.mkdir()
        art.write_bytes(f"weights of {version}".encode() * 100)
        reg.register_model("m", str(art), version=version, metrics={"accuracy": 0.9})
    return src


def test_to_env_folder_copies_verifies_commits_there_and_links_here(source: Path, tmp_path: Path) -> None:
    prod = make_project(tmp_path / "prod", increments=())
    set_environments(source, {"prod": {"root": "../prod", "stage": "staging"}})
    src_before = head(source)
    r = run_cli(source, "registry-promote", "m", "v1.0.0", "--to-env", "prod", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = r.json["data"]
    assert r.stderr == ""
    assert (data["from"], data["to"], data["environment"], data["replaced"]) == (None, "staging", "prod", None)
    # the other registry: the four files in the same increment id, one promote commit naming its source
    assert data["commit"] == head(prod)
    for name in ("model.pkl", "metadata.json", "features.yaml", "requirements.txt"):
        assert (prod / VERSION_DIR / name).is_file(), name
    assert (prod / VERSION_DIR / "model.pkl").read_bytes() == (source / VERSION_DIR / "model.pkl").read_bytes()
    t = trailers(prod)
    assert t["Registry-Event"] == "promote" and t["Registry-To"] == "staging"
    assert t["Registry-Source"] == f"{source}@{src_before}"
    landed = meta(prod)
    assert landed["stage"] == "staging" and landed["approvals"] == [] and "environments" not in landed
    assert landed["artifact"]["sha256"] == meta(source)["artifact"]["sha256"]
    assert run_cli(prod, "registry-verify", "--json").returncode == 0
    info = run_cli(prod, "registry-info", "m", "--json").json["data"]
    assert info["stages"]["staging"] == "1.0.0"
    # the source: its stages unchanged, the link in a commit of its own
    linked = meta(source)
    assert linked["stage"] == "dev"
    assert linked["environments"]["prod"]["stage"] == "staging"
    assert linked["environments"]["prod"]["commit"] == data["commit"]
    assert data["source_commit"] == head(source) and git(source, "rev-parse", "HEAD~1").strip() == src_before
    assert trailers(source)["Registry-Environment"] == "prod"
    assert "Registry-To" not in trailers(source)  # not a stage change here
    assert git(source, "status", "--porcelain") == ""

    # an idempotent repeat changes nothing on either side
    prod_head, src_head = head(prod), head(source)
    again = run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", "prod", "--json")
    assert again.returncode == 0, again.stdout
    assert again.json["data"]["commit"] is None and again.json["data"]["source_commit"] is None
    assert (head(prod), head(source)) == (prod_head, src_head)

    # the other registry's exclusivity: v2.0.0 into its staging archives v1.0.0 there, in the same commit
    r2 = run_cli(source, "registry-promote", "m", "2.0.0", "--to", "staging", "--to-env", "prod", "--json")
    assert r2.returncode == 0, r2.stdout
    assert r2.json["data"]["replaced"] == "1.0.0"
    stages = {v["version"]: v["stage"] for v in run_cli(prod, "registry-info", "m", "--json").json["data"]["versions"]}
    assert stages == {"1.0.0": "archived", "2.0.0": "staging"}


def test_refusal_by_the_target_approval_policy_changes_neither_side(source: Path, tmp_path: Path) -> None:
    prod = make_project(tmp_path / "prod", increments=())
    ModelRegistry(root=prod).set_approval_required(stage="staging", approvers=["bob@example.com"])
    set_environments(source, {"prod": {"root": str(prod), "stage": "staging"}})
    prod_head, src_head = head(prod), head(source)
    r = run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", "prod", "--json")
    err = error(r, "approval_required", 1)
    assert err["details"]["environment"] == "prod" and err["details"]["missing"] == 1
    assert (head(prod), head(source)) == (prod_head, src_head)
    assert not (prod / ".specweave" / "increments").exists()
    assert git(prod, "status", "--porcelain") == "" and git(source, "status", "--porcelain") == ""
    assert "environments" not in meta(source)

    # the way through: land it in dev there, approve it there, promote again
    landed = run_cli(source, "registry-promote", "m", "1.0.0", "--to", "dev", "--to-env", "prod", "--json")
    assert landed.returncode == 0, landed.stdout
    ModelRegistry(root=prod, actor="bob@example.com").approve_model("m", "1.0.0", stage="staging")
    r = run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", "prod", "--json")
    assert r.returncode == 0, r.stdout
    assert (r.json["data"]["from"], r.json["data"]["to"]) == ("dev", "staging")
    assert meta(source)["environments"]["prod"]["stage"] == "staging"


def test_different_bytes_in_the_target_are_already_exists(source: Path, tmp_path: Path) -> None:
    prod = make_project(tmp_path / "prod")
    other = tmp_path / "other.pkl"
    other.write_bytes(b"not the same model")
    ModelRegistry(root=prod).register_model("m", str(other), version="1.0.0")
    set_environments(source, {"prod": {"root": "../prod"}})
    prod_head, src_head = head(prod), head(source)
    err = error(run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", "prod", "--json"), "already_exists", 5)
    assert "prod" in err["message"]
    assert (head(prod), head(source)) == (prod_head, src_head)


def bare_remote(tmp_path: Path) -> Path:
    seed = make_project(tmp_path / "seed", increments=())
    remote = tmp_path / "prod.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    return remote


def test_to_env_git_url_clones_commits_and_pushes(source: Path, tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    set_environments(source, {"prod": {"root": remote.as_uri(), "stage": "staging"}})
    r = run_cli(source, "registry-promote", "m", "1.0.0", "--to", "production", "--to-env", "prod", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = r.json["data"]
    assert data["to"] == "production" and data["target"] == remote.as_uri()
    assert head(remote, "main") == data["commit"]  # pushed
    assert trailers(remote, "main")["Registry-Source"].startswith(f"{source}@")
    clone = source / ".specweave/cache/sw-registry/environments/prod"
    assert meta(clone)["stage"] == "production"
    assert meta(source)["environments"]["prod"]["commit"] == data["commit"]
    assert git(source, "status", "--porcelain") == ""  # the cache clone is ignored

    # someone else moves the remote on; the next promotion starts from its new head and pushes on top
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    art = tmp_path / "x.pkl"
    art.write_bytes(b"theirs")
    ModelRegistry(root=other).register_model("n", str(art), version="1.0.0", increment="0001-theirs")
    git(other, "push", "-q", "origin", "main")
    r = run_cli(source, "registry-promote", "m", "2.0.0", "--to", "production", "--to-env", "prod", "--json")
    assert r.returncode == 0, r.stdout
    assert r.json["data"]["replaced"] == "1.0.0"
    assert git(remote, "log", "--format=%s", "-3", "main").splitlines()[1] == "registry: register n v1.0.0"

    # the API face: ModelRegistry(environment=...) opens that registry (a clone that pushes on write)
    prod = ModelRegistry(root=source, environment="prod")
    assert prod.push is True and prod.root == clone
    assert prod.info("m").stages["production"] == "2.0.0"  # type: ignore[union-attr]
    res = ModelRegistry(root=source).promote_to(model="m-v1.0.0", target_env="prod", stage="staging")
    assert res.commit == head(remote, "main") and res.from_stage == "archived"


def test_a_plain_path_to_a_bare_repository_is_a_git_url(source: Path, tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    set_environments(source, {"prod": {"root": "../prod.git"}})
    res = ModelRegistry(root=source).promote_to(model="m@1.0.0", target_env="prod")
    assert res.to_stage == "dev" and res.commit == head(remote, "main")


def test_unreachable_target_is_store_error_without_credentials(source: Path, tmp_path: Path) -> None:
    set_environments(
        source,
        {
            "gone": {"root": (tmp_path / "missing.git").as_uri()},
            "secret": {"root": "https://deploy:hunter2@127.0.0.1:9/models.git"},
            "nofolder": {"root": "../nowhere"},
        },
    )
    src_head = head(source)
    messages = {}
    for env in ("gone", "secret", "nofolder"):
        r = run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", env, "--json")
        err = error(r, "store_error", 7)
        assert "hunter2" not in r.stdout and "deploy" not in r.stdout
        assert err["details"]["environment"] == env
        messages[env] = err["message"]
    assert "https://127.0.0.1:9/models.git" in messages["secret"]
    assert (tmp_path / "missing.git").as_uri() in messages["gone"]
    assert head(source) == src_head and git(source, "status", "--porcelain") == ""


def test_unknown_environment_and_missing_to_are_usage_errors(source: Path) -> None:
    err = error(run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", "nope", "--json"), "config_error", 2)
    assert "environments.nope" in err["message"]
    error(run_cli(source, "registry-promote", "m", "1.0.0", "--json"), "usage", 2)


@pytest.mark.parametrize(
    ("envs", "key"),
    [
        ({"prod": {"stage": "staging"}}, "environments.prod.root"),
        ({"prod": {"root": "../p", "stage": "archived"}}, "environments.prod.stage"),
        ({"prod": {"root": "../p", "colour": "red"}}, "environments.prod.colour"),
        ({"Prod/x": {"root": "../p"}}, "environments.Prod/x"),
        ({"prod": "../p"}, "environments.prod"),
    ],
)
def test_environments_config_is_validated(envs: dict, key: str) -> None:
    from sw_registry.errors import ConfigError
    from sw_registry.policy import validate

    with pytest.raises(ConfigError) as exc:
        validate({"environments": envs})
    assert key in exc.value.message


PROBE = """
import sys
from sw_registry.cli.app import main
try:
    main({args!r})
finally:
    print("GITPYTHON=" + str("git" in sys.modules), file=sys.stderr)
"""


def imports_gitpython(cwd: Path, *args: str) -> bool:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], cwd=cwd, capture_output=True,
                          text=True)
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("GITPYTHON=")][-1] == "GITPYTHON=True"


def test_gitpython_is_imported_by_network_operations_only(source: Path, tmp_path: Path) -> None:
    """README, "GitPython": reads and local writes never pay its import; clone/fetch/push do."""
    remote = bare_remote(tmp_path)
    set_environments(source, {"prod": {"root": remote.as_uri()}})
    assert not imports_gitpython(source, "registry-list", "--json")
    assert not imports_gitpython(source, "registry-promote", "m", "1.0.0", "--to", "staging", "--json")
    assert imports_gitpython(source, "registry-promote", "m", "1.0.0", "--to-env", "prod", "--json")
    assert head(remote, "main") == meta(source)["environments"]["prod"]["commit"]


def test_push_publishes_the_link_commit_and_names_the_origin_as_source(source: Path, tmp_path: Path) -> None:
    prod = make_project(tmp_path / "prod", increments=())
    set_environments(source, {"prod": {"root": "../prod"}})
    origin = tmp_path / "src.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(source, "remote", "add", "origin", str(origin))
    git(source, "push", "-q", "-u", "origin", "main")
    r = run_cli(source, "registry-promote", "m", "1.0.0", "--to-env", "prod", "--push", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert head(origin, "main") == r.json["data"]["source_commit"] == head(source)
    assert trailers(prod)["Registry-Source"] == f"{origin}@{git(source, 'rev-parse', 'HEAD~1').strip()}"


def test_redact_url_drops_user_and_password() -> None:
    from sw_registry.gitops import redact_url

    assert redact_url("https://deploy:tok@git.example.com/a.git") == "https://git.example.com/a.git"
    assert redact_url("fatal: 'ssh://me@host/x' failed") == "fatal: 'ssh://host/x' failed"
    assert redact_url("git@github.com:org/models.git") == "git@github.com:org/models.git"  # a user, no secret


def test_an_empty_bare_repository_gets_its_first_commit(source: Path, tmp_path: Path) -> None:
    remote = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    set_environments(source, {"prod": {"root": remote.as_uri()}})
    reg = ModelRegistry(root=source)
    first = reg.promote_to(model="m@1.0.0", target_env="prod", stage="staging")
    assert first.commit == head(remote, "main") and first.from_stage is None
    second = reg.promote_to(model="m@2.0.0", target_env="prod", stage="staging")  # the clone is refreshed, not stale
    assert second.replaced == "1.0.0" and second.commit == head(remote, "main")
    assert git(remote, "rev-list", "--count", "main").strip() == "2"
