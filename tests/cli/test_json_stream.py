"""A big JSON envelope is written in pieces (cli/json_stream.py), byte for byte as ``json.dumps`` writes it whole:
the same text for any data (hypothesis), the same rule for numbers JSON cannot spell, and the same output of a
real command whichever way it is written. A read the memo keeps is written whole (the memo stores its text)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sw_registry.cli import output
from sw_registry.cli.json_stream import write_pieces
from sw_registry.registry import ModelRegistry
from sw_registry.store import readcache
from tests.cli.inprocess import run_main


def whole(envelope: dict[str, object]) -> str:
    """What write_json printed before pieces: the whole text, or, where a number cannot be spelled, the
    envelope's text after ``_finite``."""
    try:
        text = json.dumps(envelope, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        text = json.dumps(output._finite(envelope), ensure_ascii=False, default=str, allow_nan=False)
    return text + "\n"


def pieces(envelope: dict[str, object]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        write_pieces(envelope, output._finite)
    return out.getvalue()


scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
           | st.sampled_from([Path("/srv/model.pkl"), {3}, b"raw"]))  # not JSON: written with default=str
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.text(max_size=8), st.lists(values, max_size=6) | values, max_size=5),
       ok=st.booleans(), extra=st.none() | st.lists(st.text(), max_size=2))
def test_the_pieces_are_the_text_json_dumps_writes(data: dict[str, object], ok: bool, extra: object) -> None:
    envelope: dict[str, object] = {"ok": ok, "data": data}
    if extra is not None:
        envelope["warnings"] = extra
    assert pieces(envelope) == whole(envelope)


def test_a_number_json_cannot_spell_is_null_in_its_piece_as_in_the_whole_text() -> None:
    envelope = {"ok": True, "data": {"events": [{"v": 1.5}, {"v": math.nan}, {"v": [math.inf, 2]}], "n": -math.inf}}
    assert pieces(envelope) == whole(envelope)
    assert '{"v": null}' in pieces(envelope) and '"n": null' in pieces(envelope)


def test_only_a_big_envelope_with_string_keys_goes_in_pieces() -> None:
    big = {"ok": True, "data": {"events": list(range(output.BIG))}}
    assert output.in_pieces(big)
    assert not output.in_pieces({"ok": True, "data": {"events": list(range(output.BIG - 1))}})
    assert not output.in_pieces({"ok": True, "data": {1: list(range(output.BIG))}})  # json.dumps writes "1"
    assert not output.in_pieces({"ok": False, "error": {"code": "usage"}})


def test_a_command_prints_the_same_text_in_pieces(project: Path, make_artifact,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    reg = ModelRegistry(root=project)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        reg.register_model("m", str(make_artifact(version.encode())), version=version)
    reg.promote_model("m", "1.1.0", to_stage="staging")
    whole_text = run_main(project, "registry-audit", "--json").stdout
    monkeypatch.setattr(output, "BIG", 1)  # every list in pieces
    in_pieces = run_main(project, "registry-audit", "--json")
    assert in_pieces.returncode == 0 and in_pieces.stdout == whole_text
    assert len(json.loads(whole_text)["data"]["events"]) == 4


def test_a_read_the_memo_keeps_is_written_whole_and_served_the_same(project: Path, make_artifact,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    reg = ModelRegistry(root=project)
    for version in ("1.0.0", "1.1.0"):
        reg.register_model("m", str(make_artifact(version.encode())), version=version)
    monkeypatch.setattr(output, "BIG", 1)
    time.sleep(readcache.RACY_NS / 1e9 + 0.03)  # the files age past the memo's racy window
    first = run_main(project, "registry-info", "m", "--json").stdout
    kept = list((project / ".specweave" / "cache" / "sw-registry" / "reads").glob("registry-info*"))
    assert kept, "the memo kept the read's whole text"
    assert run_main(project, "registry-info", "m", "--json").stdout == first
    assert json.loads(first)["data"]["versions"][0]["version"] == "1.0.0"
