"""Artifacts in object storage (SPEC §11): against a real S3 server process on loopback, and a file:// store."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result, error, git, run_cli
from tests.s3server import CREDENTIALS, S3Server, free_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


def configure(project: Path, store: str, options: dict[str, object] | None = None) -> None:
    """Write registry.yaml and commit it as a registry policy change (so registry-verify sees no hand edit)."""
    text = f"schema_version: 1\nartifact_store: {store}\n"
    if options is not None:
        text += f"artifact_store_options: {json.dumps(options)}\n"
    (project / ".specweave" / "registry.yaml").write_text(text)
    git(project, "add", ".specweave/registry.yaml")
    git(project, "commit", "-q", "-m", "registry: policy", "-m", "Registry-Event: policy")


@pytest.fixture
def s3_project(project: Path, s3: S3Server) -> tuple[Path, str]:
    bucket = s3.new_bucket()
    configure(project, f"s3://{bucket}/models", {"endpoint_url": s3.endpoint})
    return project, bucket


def register(cwd: Path, artifact: Path, *args: str) -> Result:
    return run_cli(cwd, "registry-register", "fraud", "--artifact", str(artifact), "--json", *args)


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def test_register_uploads_content_addressed_and_keeps_the_artifact_out_of_git(
    s3_project: tuple[Path, str], s3: S3Server, make_artifact: Callable[..., Path]
) -> None:
    project, bucket = s3_project
    data = os.urandom(3000)
    sha = hashlib.sha256(data).hexdigest()
    r = register(project, make_artifact(data))
    assert r.returncode == 0, r.stdout + r.stderr
    art = r.json["data"]["artifact"]
    key = f"models/sha256/{sha[:2]}/{sha}"
    assert art == {"path": "model.pkl", "sha256": sha, "size_bytes": 3000, "store": f"s3://{bucket}/{key}"}
    assert s3.keys(bucket)[key]["Size"] == 3000
    assert s3.client().get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert r.json["data"]["path"] == art["store"]
    # no artifact bytes in git: the commit holds metadata and side files only
    tracked = git(project, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert not [p for p in tracked if p.endswith("model.pkl")]
    folder = project / ".specweave/increments/0042-fraud-detection/models/fraud-v1.0.0"
    assert sorted(p.name for p in folder.iterdir()) == ["features.yaml", "metadata.json", "requirements.txt"]
    assert git(project, "status", "--porcelain") == ""
    # a default verify checks the object exists with its size
    v = run_cli(project, "registry-verify", "--json")
    assert v.returncode == 0 and v.json["data"]["ok"] is True, v.stdout


def test_get_from_a_fresh_clone_downloads_verifies_and_reuses_the_cache(
    s3_project: tuple[Path, str], s3: S3Server, make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    project, bucket = s3_project
    data = os.urandom(8 * 1024 * 1024 + 5000)  # over one 8 MiB part: a multipart upload
    assert register(project, make_artifact(data)).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    r = run_cli(clone, "registry-get", "fraud", "--version", "1", "--json")
    assert r.returncode == 0, r.stdout
    got = Path(r.json["data"]["path"])
    assert r.json["data"]["verified"] is True
    assert got.is_relative_to(clone / ".specweave/cache/sw-registry/artifacts")
    assert got.read_bytes() == data
    assert git(clone, "status", "--porcelain") == ""
    # the verified cached copy is reused: with the object gone from the store, get still answers (and --rev too)
    s3.client().delete_object(Bucket=bucket, Key=r.json["data"]["artifact"]["store"].split("/", 3)[3])
    again = run_cli(clone, "registry-get", "fraud", "--version", "1", "--path-only")
    assert again.returncode == 0 and again.stdout.strip() == str(got)
    rev = run_cli(clone, "registry-get", "fraud", "--version", "1", "--rev", "HEAD", "--json")
    assert rev.returncode == 0 and rev.json["data"]["path"] == str(got)
    # ... while verify, which checks the store, reports the missing object
    v = run_cli(clone, "registry-verify", "--json")
    problems = error(v, "integrity", 4)["details"]["problems"]
    assert [p["code"] for p in problems] == ["artifact"] and "missing" in problems[0]["message"]


def test_a_tampered_object_is_an_integrity_error(
    s3_project: tuple[Path, str], s3: S3Server, make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    project, bucket = s3_project
    r = register(project, make_artifact(os.urandom(4096)))
    key = r.json["data"]["artifact"]["store"].split("/", 3)[3]
    s3.client().put_object(Bucket=bucket, Key=key, Body=os.urandom(4096))  # same size, other bytes
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    got = run_cli(clone, "registry-get", "fraud", "--version", "1", "--json")
    err = error(got, "integrity", 4)
    assert key in err["message"]
    assert not list((clone / ".specweave/cache/sw-registry/artifacts").glob("*/model.pkl"))
    # the default verify checks existence and size only; --deep downloads and hashes
    assert run_cli(clone, "registry-verify", "--json").returncode == 0
    deep = run_cli(clone, "registry-verify", "--deep", "--json")
    problems = error(deep, "integrity", 4)["details"]["problems"]
    assert "does not match its recorded sha256" in problems[0]["message"]


def test_an_unreachable_store_is_store_error_and_nothing_is_committed(
    project: Path, make_artifact: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-shown")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    configure(project, "s3://models-bucket/prefix", {"endpoint_url": dead})
    before = head(project)
    r = run_cli(project, "registry-register", "fraud", "--artifact", str(make_artifact()), "--json")
    err = error(r, "store_error", 7)
    assert "s3://models-bucket/prefix/sha256/" in err["message"]
    assert "s3cr3t" not in r.stdout
    assert head(project) == before
    assert git(project, "status", "--porcelain", "--ignored", ".specweave/increments") == ""
    assert not (project / ".specweave/increments/0042-fraud-detection/models").exists()


def test_a_missing_bucket_is_store_error_and_human_output_has_no_traceback(
    project: Path, s3: S3Server, make_artifact: Callable[..., Path]
) -> None:
    configure(project, "s3://no-such-bucket-here/p", {"endpoint_url": s3.endpoint})
    before = head(project)
    r = run_cli(project, "registry-register", "fraud", "--artifact", str(make_artifact(os.urandom(10))))
    assert r.returncode == 7
    assert "Traceback" not in r.stderr and "no-such-bucket-here" in r.stderr
    assert head(project) == before
    assert not s3.client().list_buckets()["Buckets"] or "no-such-bucket-here" not in {
        b["Name"] for b in s3.client().list_buckets()["Buckets"]
    }


def test_the_same_bytes_again_are_not_uploaded_again(
    s3_project: tuple[Path, str], s3: S3Server, make_artifact: Callable[..., Path]
) -> None:
    project, bucket = s3_project
    data = os.urandom(2048)
    first = register(project, make_artifact(data))
    assert first.returncode == 0
    s3.start_recording()
    second = register(project, make_artifact(data), "--version", "2.0.0")
    requests = s3.stop_recording()
    assert second.returncode == 0, second.stdout
    assert second.json["data"]["artifact"] == first.json["data"]["artifact"]
    assert any("nothing uploaded" in w for w in second.json["data"]["warnings"])
    assert requests, "the server saw no request at all: the recorder is not working"
    assert [r for r in requests if r["method"] in ("PUT", "POST")] == []
    assert len(s3.keys(bucket)) == 1


def test_a_folder_artifact_is_one_object_per_file_plus_a_manifest(
    s3_project: tuple[Path, str], s3: S3Server, tmp_path: Path
) -> None:
    project, bucket = s3_project
    src = tmp_path / "saved_model"
    (src / "variables").mkdir(parents=True)
    (src / "saved_model.pb").write_bytes(b"graph")
    (src / "variables" / "data").write_bytes(os.urandom(700))
    r = register(project, src)
    assert r.returncode == 0, r.stdout
    art = r.json["data"]["artifact"]
    assert {f["path"] for f in art["files"]} == {"saved_model.pb", "variables/data"}
    assert len(s3.keys(bucket)) == 3  # two files and the manifest, whose sha256 is the folder's
    manifest = s3.client().get_object(Bucket=bucket, Key=art["store"].split("/", 3)[3])["Body"].read()
    assert hashlib.sha256(manifest).hexdigest() == art["sha256"]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    got = run_cli(clone, "registry-get", "fraud", "--version", "1", "--path-only")
    assert got.returncode == 0, got.stdout + got.stderr
    out = Path(got.stdout.strip())
    assert (out / "variables" / "data").read_bytes() == (src / "variables" / "data").read_bytes()
    assert run_cli(clone, "registry-verify", "--deep", "--json").returncode == 0


def test_rollback_fetches_and_verifies_a_stored_artifact(
    s3_project: tuple[Path, str], make_artifact: Callable[..., Path]
) -> None:
    project, _ = s3_project
    for version in ("1.0.0", "2.0.0"):
        assert register(project, make_artifact(os.urandom(100)), "--version", version).returncode == 0
        for stage in ("staging", "production"):
            r = run_cli(project, "registry-promote", "fraud", version, "--to", stage, "--json")
            assert r.returncode == 0, r.stdout
    r = run_cli(project, "registry-rollback", "fraud", "--reason", "bad", "--json")
    assert r.returncode == 0, r.stdout
    assert r.json["data"]["to_version"] == "1.0.0"


def test_file_store_works_the_same_way(project: Path, make_artifact: Callable[..., Path], tmp_path: Path) -> None:
    store = tmp_path / "shared-store"
    configure(project, f"file://{store}")
    (project / ".specweave/registry.yaml").write_text(
        (project / ".specweave/registry.yaml").read_text() + "large_artifact_warn_mb: 0.001\n"
    )
    git(project, "commit", "-q", "-am", "registry: policy", "-m", "Registry-Event: policy")
    data = os.urandom(1500)
    sha = hashlib.sha256(data).hexdigest()
    r = register(project, make_artifact(data))
    assert r.returncode == 0, r.stdout
    assert "warnings" not in r.json["data"]  # the large-artifact warning is for artifacts kept in git
    obj = store / "sha256" / sha[:2] / sha
    assert r.json["data"]["artifact"]["store"] == f"file://{obj}"
    assert obj.read_bytes() == data
    assert [p.name for p in obj.parent.iterdir()] == [sha]  # no temporary file left beside it
    assert not [p for p in git(project, "ls-tree", "-r", "--name-only", "HEAD").split() if p.endswith("model.pkl")]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    got = run_cli(clone, "registry-get", "fraud", "--version", "1", "--path-only")
    assert Path(got.stdout.strip()).read_bytes() == data
    obj.write_bytes(os.urandom(1500))
    (clone / ".specweave/cache").rename(tmp_path / "old-cache")
    error(run_cli(clone, "registry-get", "fraud", "--version", "1", "--json"), "integrity", 4)


def test_credentials_in_artifact_store_options_are_refused(project: Path, make_artifact: Callable[..., Path]) -> None:
    configure(project, "s3://bucket-x/p", {"endpoint_url": "http://127.0.0.1:9", "secret": "abc"})
    err = error(register(project, make_artifact()), "config_error", 2)
    assert "artifact_store_options.secret" in err["message"]
    configure(project, "s3://bucket-x/p", {"client_kwargs": {"aws_secret_access_key": "abc"}})
    err = error(register(project, make_artifact()), "config_error", 2)
    assert "aws_secret_access_key" in err["message"] and "abc" not in err["message"]


def test_custom_registry_writes_to_its_storage_uri(
    project: Path, s3: S3Server, make_artifact: Callable[..., Path]
) -> None:
    from sw_registry import CustomRegistry, RegistryError

    bucket = s3.new_bucket()
    (project / ".specweave" / "registry.yaml").write_text(
        f"artifact_store_options: {json.dumps({'endpoint_url': s3.endpoint})}\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "registry: policy", "-m", "Registry-Event: policy")
    reg = CustomRegistry(storage_uri=f"s3://{bucket}/team", increment="0042", root=project)
    mv = reg.register_model(name="fraud", model={"weights": [1, 2, 3]}, version="v1")
    assert mv.metadata["artifact"]["store"].startswith(f"s3://{bucket}/team/sha256/")
    assert len(s3.keys(bucket)) == 1
    assert reg.get_model(name="fraud", version="1") == {"weights": [1, 2, 3]}
    # a registry.yaml that names another store is a config_error
    configure(project, "file:///tmp/elsewhere", {"endpoint_url": s3.endpoint})
    with pytest.raises(RegistryError) as caught:
        reg.register_model(name="fraud", model={"weights": [4]}, version="v2")
    assert caught.value.code == "config_error"


# -- registry-promote --to-env with a stored artifact (SPEC §11) ---------------------------------------------------
VERSION_DIR = ".specweave/increments/0042-fraud-detection/models/fraud-v1.0.0"


def policy(project: Path, data: dict[str, object]) -> None:
    (project / ".specweave").mkdir(exist_ok=True)
    (project / ".specweave" / "registry.yaml").write_text(json.dumps(data) + "\n")
    git(project, "add", ".specweave/registry.yaml")
    git(project, "commit", "-q", "-m", "registry: policy", "-m", "Registry-Event: policy")


def metadata(project: Path) -> dict:
    return json.loads((project / VERSION_DIR / "metadata.json").read_text())


def env_pair(project: Path, s3: S3Server, tmp_path: Path, target_store: str | None) -> tuple[Path, str]:
    """The source keeps artifacts in a fresh bucket; environment prod is a folder registry with ``target_store``
    (None: it keeps artifacts in git)."""
    from tests.conftest import make_project

    bucket = s3.new_bucket()
    options = {"endpoint_url": s3.endpoint}
    prod = make_project(tmp_path / "prod", increments=())
    if target_store is not None:
        policy(prod, {"artifact_store": target_store.replace("BUCKET", bucket), "artifact_store_options": options})
    policy(
        project,
        {
            "artifact_store": f"s3://{bucket}/models",
            "artifact_store_options": options,
            "environments": {"prod": {"root": str(prod)}},
        },
    )
    return prod, bucket


def test_to_env_sharing_the_store_uploads_nothing_and_points_at_the_store(
    project: Path, s3: S3Server, make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    prod, bucket = env_pair(project, s3, tmp_path, "s3://BUCKET/models")
    data = os.urandom(3000)
    assert register(project, make_artifact(data)).returncode == 0
    s3.start_recording()
    r = run_cli(project, "registry-promote", "fraud", "1.0.0", "--to-env", "prod", "--json")
    requests = s3.stop_recording()
    assert r.returncode == 0, r.stdout + r.stderr
    assert requests and [q for q in requests if q["method"] in ("PUT", "POST")] == []
    assert any("nothing uploaded" in w for w in r.json["data"]["warnings"])
    assert len(s3.keys(bucket)) == 1
    assert metadata(prod)["artifact"] == metadata(project)["artifact"]  # the same object's URL
    assert sorted(p.name for p in (prod / VERSION_DIR).iterdir()) == [
        "features.yaml", "metadata.json", "requirements.txt"
    ]
    got = run_cli(prod, "registry-get", "fraud", "--version", "1", "--path-only")
    assert got.returncode == 0, got.stdout + got.stderr
    assert Path(got.stdout.strip()).read_bytes() == data
    assert run_cli(prod, "registry-verify", "--deep", "--json").json["data"]["ok"] is True
    assert git(prod, "status", "--porcelain") == "" and git(project, "status", "--porcelain") == ""
    assert metadata(project)["environments"]["prod"]["commit"] == head(prod)


def test_to_env_into_a_git_registry_copies_a_stored_folder_into_git(
    project: Path, s3: S3Server, tmp_path: Path
) -> None:
    prod, _ = env_pair(project, s3, tmp_path, None)
    src = tmp_path / "saved_model"
    (src / "variables").mkdir(parents=True)
    (src / "saved_model.pb").write_bytes(b"graph")
    (src / "variables" / "data").write_bytes(os.urandom(700))
    assert register(project, src).returncode == 0
    r = run_cli(project, "registry-promote", "fraud", "1.0.0", "--to-env", "prod", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    art, source_art = metadata(prod)["artifact"], metadata(project)["artifact"]
    assert art["store"] == "git" and source_art["store"].startswith("s3://")
    assert (art["sha256"], art["files"]) == (source_art["sha256"], source_art["files"])
    tracked = git(prod, "ls-tree", "-r", "--name-only", "HEAD").split()
    assert f"{VERSION_DIR}/saved_model/variables/data" in tracked
    assert (prod / VERSION_DIR / "saved_model/variables/data").read_bytes() == (src / "variables/data").read_bytes()
    assert run_cli(prod, "registry-verify", "--json").json["data"]["ok"] is True
    got = run_cli(prod, "registry-get", "fraud", "--version", "1", "--path-only")
    assert Path(got.stdout.strip()) == prod / VERSION_DIR / "saved_model"


def test_to_env_uploads_an_artifact_kept_in_git_here_to_the_store_there(
    project: Path, s3: S3Server, make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    from tests.conftest import make_project

    bucket = s3.new_bucket()
    prod = make_project(tmp_path / "prod", increments=())
    policy(prod, {"artifact_store": f"s3://{bucket}/m", "artifact_store_options": {"endpoint_url": s3.endpoint}})
    policy(project, {"environments": {"prod": {"root": str(prod)}}})
    data = os.urandom(500)
    sha = hashlib.sha256(data).hexdigest()
    assert register(project, make_artifact(data)).returncode == 0
    r = run_cli(project, "registry-promote", "fraud", "1.0.0", "--to-env", "prod", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert metadata(prod)["artifact"]["store"] == f"s3://{bucket}/m/sha256/{sha[:2]}/{sha}"
    assert s3.client().get_object(Bucket=bucket, Key=f"m/sha256/{sha[:2]}/{sha}")["Body"].read() == data
    assert not (prod / VERSION_DIR / "model.pkl").exists()


def test_to_env_a_failing_upload_there_changes_neither_side(
    project: Path, s3: S3Server, make_artifact: Callable[..., Path], tmp_path: Path
) -> None:
    prod, _ = env_pair(project, s3, tmp_path, "s3://no-such-bucket-there/models")
    assert register(project, make_artifact(os.urandom(100))).returncode == 0
    before = head(project), head(prod)
    r = run_cli(project, "registry-promote", "fraud", "1.0.0", "--to-env", "prod", "--json")
    err = error(r, "store_error", 7)
    assert err["details"]["environment"] == "prod" and "no-such-bucket-there" in err["message"]
    assert (head(project), head(prod)) == before
    assert git(prod, "status", "--porcelain", "--ignored", ".specweave/increments") == ""
    assert git(project, "status", "--porcelain") == "" and "environments" not in metadata(project)
