"""Issue 6, Deliver 9: property-based attacks (hypothesis) on names, versions, reasons, metadata documents and
registry.yaml. Whatever is generated: no traceback, no write outside the project, no forged line, no change to
an existing version. Examples are kept few where each one is a real git write, so the suite stays fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sw_registry import versions as V
from sw_registry.errors import RegistryError
from sw_registry.gitops import commit_message
from sw_registry.layout import Layout
from sw_registry.registry import ModelRegistry
from sw_registry.store.index import read_policy_file
from tests.cli.inprocess import run_main
from tests.conftest import git
from tests.trust.test_user_files import assert_no_forged_lines

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("Registry-Event: \n\r\t\x0b\x0c\x1c\x85\u2028\u2029vV0123456789.-_a"))),
    st.sampled_from(["Registry-Event: approve", "\nRegistry-To: production", "registry-model: x", "٤٢", "vv1.0.0"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_names_are_valid_or_invalid_name(text: str) -> None:
    try:
        assert V.validate_name(text) == text
    except RegistryError as exc:
        assert exc.code == "invalid_name"


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_versions_are_canonical_or_invalid_version(text: str) -> None:
    try:
        canon = V.canonical(text)
    except RegistryError as exc:
        assert exc.code == "invalid_version"
        return
    assert canon.isascii() and V.canonical(canon) == canon


@settings(max_examples=300, deadline=None)
@given(hostile_text, hostile_text)
def test_a_commit_message_never_carries_a_line_the_tool_did_not_write(reason: str, actor: str) -> None:
    message = commit_message(
        "registry: promote m v1.0.0", {"Event": "promote", "Actor": actor, "Reason": reason}, body=reason
    )
    lines = message.rstrip("\n").split("\n")
    trailer_start = max(i for i, line in enumerate(lines) if line == "") + 1
    for i, line in enumerate(lines):
        if line.lower().startswith("registry-"):
            assert i >= trailer_start, line
    keys = [line.split(":", 1)[0] for line in lines[trailer_start:]]
    assert keys == ["Registry-Event", "Registry-Actor", "Registry-Reason"][: len(keys)]


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(json_values.map(lambda v: yaml.safe_dump(v)), st.text(), st.binary().map(lambda b: b.decode("latin-1")))
)
def test_registry_yaml_reads_as_a_policy_or_a_config_error(tmp_path_factory: Any, text: str) -> None:
    root = tmp_path_factory.mktemp("policy")
    (root / ".specweave").mkdir()
    (root / ".specweave" / "registry.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        assert isinstance(read_policy_file(Layout(root)), dict)
    except RegistryError as exc:
        assert exc.code in ("config_error", "integrity")


def _versions(project: Path) -> dict[str, Any]:
    return {v.version: v.metadata for v in ModelRegistry(root=project).list_versions()}


@settings(max_examples=8, deadline=None, suppress_health_check=FIXTURES)
@given(name=hostile_text, version=hostile_text, reason=hostile_text)
def test_writes_with_hostile_names_versions_and_reasons(
    project: Path, make_artifact: Any, tmp_path: Path, name: str, version: str, reason: str
) -> None:
    reg = ModelRegistry(root=project)
    if not _versions(project):
        reg.register_model("base", str(make_artifact(b"base")), version="1.0.0")
    before = _versions(project)
    outside = sorted(p.name for p in tmp_path.iterdir())
    art = str(make_artifact())
    for args in (
        ["registry-register", name, "--artifact", art, "--version", version, "--description", reason],
        ["registry-promote", "base", "1.0.0", "--to", "staging", "--reason", reason],
        ["registry-deprecate", "base", version, "--reason", reason],
        ["registry-policy", "base", "--owner", "o@example.com", "--reason", reason],
    ):
        r = run_main(project, *args, "--json")
        assert r.returncode != 70 and "Traceback" not in r.stdout + r.stderr, r.stdout
        json.loads(r.stdout)
    after = _versions(project)
    for v, meta in before.items():  # no version lost, no artifact changed
        assert after[v]["artifact"] == meta["artifact"]
    assert sorted(p.name for p in tmp_path.iterdir()) == outside  # nothing new beside the project
    assert_no_forged_lines(project)
    assert git(project, "status", "--porcelain", "--untracked-files=all", "--", ".specweave") == ""


@settings(max_examples=10, deadline=None, suppress_health_check=FIXTURES)
@given(doc=json_values, suffix=st.sampled_from([".json", ".yaml"]))
def test_metadata_documents_register_or_are_invalid_input(
    project: Path, make_artifact: Any, tmp_path: Path, doc: Any, suffix: str
) -> None:
    path = tmp_path / f"meta{suffix}"
    path.write_text(json.dumps(doc) if suffix == ".json" else yaml.safe_dump(doc))
    head = git(project, "rev-parse", "HEAD")
    before = _versions(project)
    r = run_main(
        project,
        "registry-register",
        "m",
        "--artifact",
        str(make_artifact()),
        "--metadata",
        str(path),
        "--bump",
        "patch",
        "--json",
    )
    assert r.returncode in (0, 1, 2), r.stdout
    out = json.loads(r.stdout)
    if r.returncode:
        assert git(project, "rev-parse", "HEAD") == head
    else:
        assert out["data"]["name"] == "m"
    after = _versions(project)
    assert all(after[v] == meta for v, meta in before.items())
    assert git(project, "status", "--porcelain", "--untracked-files=all", "--", ".specweave") == ""
