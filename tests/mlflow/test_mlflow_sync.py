"""The MLflow mirror against a real `mlflow server` on loopback (SPEC §11): mlflow-sync, MLflowRegistry's
mirrored writes, an unreachable server, and a mirror that fails after its commit and is repaired later.

Each test uses its own model names: the server is shared by the whole session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sw_registry import MLflowRegistry, ModelRegistry, RegistryError
from tests.conftest import INCREMENT, Result, error, git
from tests.mlflow.conftest import Proxy, free_port


def ok(r: Result) -> Any:
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    return json.loads(r.stdout)["data"]


def client(url: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=url, registry_uri=url)


def versions(url: str, name: str) -> dict[str, Any]:
    """The server's model versions of ``name`` by their sw_registry.version tag."""
    return {mv.tags["sw_registry.version"]: mv for mv in client(url).search_model_versions(f"name='{name}'")}


def aliases(url: str, name: str) -> dict[str, str]:
    return dict(client(url).get_registered_model(name).aliases)


def whats(items: list[dict[str, Any]]) -> set[tuple[str | None, str]]:
    return {(i["version"], i["what"]) for i in items}


@pytest.fixture
def three_versions(project: Path, make_artifact: Callable[..., Path]) -> ModelRegistry:
    """churn v1.0.0 production, v1.1.0 staging, v1.2.0 dev (plain ModelRegistry: nothing mirrored yet)."""
    reg = ModelRegistry(increment=INCREMENT, root=project)
    for i, version in enumerate(("1.0.0", "1.1.0", "1.2.0")):
        reg.register_model(
            "churn",
            make_artifact(),
            version=version,
            metadata={"accuracy": 0.8 + i / 100, "training_data_version": f"v2024-0{i + 1}"},
        )
    reg.promote_model("churn", "1.0.0", to_stage="staging")
    reg.promote_model("churn", "1.0.0", to_stage="production")
    reg.promote_model("churn", "1.1.0", to_stage="staging")
    return reg


def test_sync_creates_models_versions_tags_and_aliases_then_changes_nothing(
    mlflow_server: str, three_versions: ModelRegistry, cli: Callable[..., Result], run: Callable[..., Result]
) -> None:
    data = ok(cli("mlflow-sync", "--tracking-uri", mlflow_server, "--json"))  # a real process, end to end
    assert data["tracking_uri"] == mlflow_server
    assert whats(data["created"]) >= {(None, "registered model")}
    assert {i["version"] for i in data["created"]} == {None, "1.0.0", "1.1.0", "1.2.0"}
    assert whats(data["updated"]) == {("1.0.0", "alias production"), ("1.1.0", "alias staging")}
    assert data["unchanged"] == []

    server = versions(mlflow_server, "churn")
    assert sorted(server) == ["1.0.0", "1.1.0", "1.2.0"]
    meta = three_versions.info("churn", "1.0.0").metadata  # type: ignore[union-attr]
    v1 = server["1.0.0"]
    assert v1.tags["sw_registry.stage"] == "production"
    assert v1.tags["sw_registry.sha256"] == meta["artifact"]["sha256"]
    assert v1.tags["metric.accuracy"] == "0.8"
    assert v1.tags["lineage.data"] == "v2024-01"
    assert v1.source == f"sw-registry:///.specweave/increments/{INCREMENT}/models/churn-v1.0.0/model.pkl"
    assert server["1.2.0"].tags["sw_registry.stage"] == "dev"
    assert aliases(mlflow_server, "churn") == {
        "production": server["1.0.0"].version,
        "staging": server["1.1.0"].version,
    }

    # idempotent: a second sync changes nothing, says so, and creates no MLflow version
    again = ok(run("mlflow-sync", "--tracking-uri", mlflow_server, "--json"))
    assert again["created"] == [] and again["updated"] == []
    assert whats(again["unchanged"]) >= {(None, "registered model"), ("1.0.0", "alias production")}
    assert len(client(mlflow_server).search_model_versions("name='churn'")) == 3
    human = run("mlflow-sync", "--tracking-uri", mlflow_server)
    assert human.returncode == 0 and "nothing to do" in human.stdout


def test_sync_after_a_promotion_moves_only_aliases_and_tags(
    mlflow_server: str, three_versions: ModelRegistry, run: Callable[..., Result]
) -> None:
    ok(run("mlflow-sync", "--tracking-uri", mlflow_server, "--model", "churn", "--json"))
    before = {v: mv.version for v, mv in versions(mlflow_server, "churn").items()}
    three_versions.promote_model("churn", "1.1.0", to_stage="production")  # 1.0.0 archived, staging empty

    data = ok(run("mlflow-sync", "--tracking-uri", mlflow_server, "--model", "churn", "--json"))
    assert data["created"] == []
    assert whats(data["updated"]) == {
        ("1.0.0", "tags sw_registry.stage"),
        ("1.1.0", "tags sw_registry.stage"),
        ("1.1.0", "alias production"),
        (None, "alias staging removed"),
    }
    after = versions(mlflow_server, "churn")
    assert {v: mv.version for v, mv in after.items()} == before  # same MLflow versions, none added
    assert after["1.0.0"].tags["sw_registry.stage"] == "archived"
    assert aliases(mlflow_server, "churn") == {"production": before["1.1.0"]}


def test_mlflow_registry_mirrors_every_write_as_it_happens(
    mlflow_server: str, project: Path, make_artifact: Callable[..., Path]
) -> None:
    reg = MLflowRegistry(tracking_uri=mlflow_server, increment="0042", root=project)
    mv = reg.register_model("fraud", make_artifact(), version="v3.0.0", metadata={"accuracy": 0.85})
    assert mv.warnings == ()
    assert versions(mlflow_server, "fraud")["3.0.0"].tags["sw_registry.stage"] == "dev"

    reg.register_model("fraud", make_artifact(), version="v3.1.0", metadata={"accuracy": 0.87})
    reg.promote_model("fraud", "3.0.0", to_stage="staging")
    assert aliases(mlflow_server, "fraud") == {"staging": versions(mlflow_server, "fraud")["3.0.0"].version}
    reg.promote_model("fraud", "3.0.0", to_stage="production")
    reg.promote_model("fraud", "3.1.0", to_stage="staging")
    reg.approve_model("fraud", "3.1.0", approver="bob@example.com", comments="ok")
    assert versions(mlflow_server, "fraud")["3.1.0"].tags["sw_registry.approved.production"] == "bob@example.com"
    reg.promote_model("fraud", "3.1.0", to_stage="production")
    server = versions(mlflow_server, "fraud")
    assert aliases(mlflow_server, "fraud") == {"production": server["3.1.0"].version}

    rolled = reg.rollback("fraud", reason="false positives")
    assert rolled.warnings == ()
    server = versions(mlflow_server, "fraud")
    assert aliases(mlflow_server, "fraud") == {"production": server["3.0.0"].version}
    assert server["3.1.0"].tags["sw_registry.stage"] == "archived"

    reg.deprecate_model("fraud", "3.1.0", reason="superseded")
    assert versions(mlflow_server, "fraud")["3.1.0"].tags["sw_registry.deprecated"] == "superseded"
    assert len(client(mlflow_server).search_model_versions("name='fraud'")) == 2
    assert reg.sync()["created"] == [] and reg.sync()["updated"] == []  # nothing was left behind


def test_a_mirror_that_fails_after_the_commit_warns_and_the_next_sync_repairs(
    mlflow_proxy: Proxy, project: Path, make_artifact: Callable[..., Path], run: Callable[..., Result]
) -> None:
    url = mlflow_proxy.url
    reg = MLflowRegistry(tracking_uri=url, increment="0042", root=project)
    reg.register_model("ranker", make_artifact(), version="1.0.0")
    reg.promote_model("ranker", "1.0.0", to_stage="staging")

    mlflow_proxy.stop()  # the server goes away
    head = git(project, "rev-parse", "HEAD")
    result = reg.promote_model("ranker", "1.0.0", to_stage="production")
    assert result.commit is not None and git(project, "rev-parse", "HEAD") != head  # the commit stands
    assert len(result.warnings) == 1 and "MLflow mirror" in result.warnings[0]
    assert "mlflow-sync" in result.to_dict()["warnings"][0]
    assert ModelRegistry(root=project).info("ranker").stages["production"] == "1.0.0"  # type: ignore[union-attr]

    mlflow_proxy.start()
    assert aliases(url, "ranker") == {"staging": versions(url, "ranker")["1.0.0"].version}  # still stale
    data = ok(run("mlflow-sync", "--tracking-uri", url, "--json"))
    assert ("1.0.0", "alias production") in whats(data["updated"])
    assert ("1.0.0", "tags sw_registry.stage") in whats(data["updated"])
    assert aliases(url, "ranker") == {"production": versions(url, "ranker")["1.0.0"].version}


def test_the_next_write_repairs_a_failed_mirror_of_another_model(
    mlflow_proxy: Proxy, project: Path, make_artifact: Callable[..., Path]
) -> None:
    url = mlflow_proxy.url
    reg = MLflowRegistry(tracking_uri=url, increment="0042", root=project)
    mlflow_proxy.stop()
    mv = reg.register_model("scorer", make_artifact(), version="1.0.0")
    assert mv.commit is not None and "MLflow mirror" in mv.warnings[0]
    mlflow_proxy.start()
    reg.register_model("other-scorer", make_artifact(), version="1.0.0")  # this write also mirrors 'scorer'
    assert sorted(versions(url, "scorer")) == ["1.0.0"]
    assert sorted(versions(url, "other-scorer")) == ["1.0.0"]


def test_registry_yaml_mirrors_cli_writes(
    mlflow_server: str, project: Path, make_artifact: Callable[..., Path], run: Callable[..., Result]
) -> None:
    (project / ".specweave" / "registry.yaml").write_text(f"mlflow_tracking_uri: {mlflow_server}\n")
    git(project, "add", ".specweave/registry.yaml")
    git(project, "commit", "-q", "-m", "policy: mirror to MLflow")
    art = make_artifact()
    data = ok(run("registry-register", "yaml-model", "--artifact", str(art), "--version", "1.0.0", "--json"))
    assert "warnings" not in data
    ok(run("registry-promote", "yaml-model", "1.0.0", "--to", "staging", "--json"))
    server = versions(mlflow_server, "yaml-model")
    assert server["1.0.0"].tags["sw_registry.stage"] == "staging"
    assert aliases(mlflow_server, "yaml-model") == {"staging": server["1.0.0"].version}


def test_an_unreachable_server_is_store_error_without_credentials(
    three_versions: ModelRegistry, cli: Callable[..., Result], run: Callable[..., Result]
) -> None:
    url = f"http://alice:s3cret@127.0.0.1:{free_port()}"  # nothing listens there
    err = error(cli("mlflow-sync", "--tracking-uri", url, "--json"), "store_error", 7)
    assert "s3cret" not in json.dumps(err) and "127.0.0.1" in err["message"]
    human = run("mlflow-sync", "--tracking-uri", url)
    assert human.returncode == 7 and "store_error" in human.stderr and "s3cret" not in human.stderr
    with pytest.raises(RegistryError) as exc:
        MLflowRegistry(tracking_uri=url, root=three_versions.root).sync()
    assert exc.value.code == "store_error"


def test_bad_tracking_uris_and_models_are_refused_before_any_network(
    three_versions: ModelRegistry, run: Callable[..., Result]
) -> None:
    error(run("mlflow-sync", "--tracking-uri", "ftp://host", "--json"), "usage", 2)
    error(run("mlflow-sync", "--json"), "usage", 2)
    error(run("mlflow-sync", "--tracking-uri", "http://127.0.0.1:9", "--model", "nope", "--json"), "not_found", 3)
    (three_versions.root / ".specweave" / "registry.yaml").write_text("mlflow_tracking_uri: http://u:p@h:5000\n")
    err = error(run("registry-list", "--json"), "config_error", 2)
    assert "credentials" in err["message"]


def test_mlflow_is_imported_only_when_a_mirror_runs(three_versions: ModelRegistry) -> None:
    """SPEC §11: MLflowRegistry is importable (and a registry opens and reads) without importing mlflow."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sw_registry import MLflowRegistry\n"
        f"reg = MLflowRegistry(tracking_uri='http://127.0.0.1:9', root={str(three_versions.root)!r})\n"
        "reg.list_models(); reg.info('churn')\n"
        "from sw_registry.cli.entry import main\n"
        "main(['registry-list', '--json'])\n"
        "assert 'mlflow' not in sys.modules, 'mlflow was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=three_versions.root)
    assert proc.returncode == 0, proc.stderr
