from __future__ import annotations

from pathlib import Path

from tests.conftest import git


def test_register_list_info_get_end_to_end(cli, project: Path, make_artifact) -> None:
    art = make_artifact(b"model-bytes")
    r = cli(
        "registry-register",
        "fraud-model",
        "--artifact",
        str(art),
        "--version",
        "v1",
        "--metric",
        "accuracy=0.9",
        "--json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    data = r.json["data"]
    assert data["version"] == "1.0.0" and data["stage"] == "dev" and len(data["commit"]) == 40
    assert git(project, "log", "-1", "--format=%(trailers:key=Registry-Event,valueonly)").strip() == "register"

    listed = cli("registry-list", "--json").json["data"]["models"]
    assert [m["name"] for m in listed] == ["fraud-model"] and listed[0]["latest"] == "1.0.0"

    info = cli("registry-info", "fraud-model", "--json").json["data"]
    assert [v["version"] for v in info["versions"]] == ["1.0.0"]

    got = cli("registry-get", "fraud-model", "--version", "1.0.0", "--path-only")
    assert got.returncode == 0
    assert Path(got.stdout.strip()).read_bytes() == b"model-bytes"
