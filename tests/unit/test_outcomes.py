"""The plain results the operations build (outcomes.py) and their public dataclass twins (model.py, results.py)."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from sw_registry import outcomes as O

PLAIN = [O.PlainVersion, O.PlainSummary, O.PlainRow, O.PlainInfo, O.PlainPromote, O.PlainRollback, O.PlainApprove,
         O.PlainDeprecate, O.PlainEvent, O.PlainHistory]

SAMPLES = [
    O.PlainVersion({"name": "m", "version": "1.0.0", "stage": "dev", "artifact": {"sha256": "ab"}}, "/p", "c1", True,
                   ("big",)),
    O.PlainSummary("m", "1.0.0", None, "1.1.0", 2, {"name": "auc", "value": 0.9}, "2026-01-01T00:00:00Z", "o@x"),
    O.PlainInfo("m", None, {"approval": {}}, {"production": "1.0.0", "staging": None},
                [O.PlainRow("1.0.0", "production", None, "0001-a", False, {"auc": 0.9})]),
    O.PlainPromote("m", "1.0.0", "dev", "staging", None, "c2", "a@x", True, ("w",)),
    O.PlainRollback("m", "1.1.0", "1.0.0", "bad", "c3", "a@x"),
    O.PlainApprove("m", "1.0.0", "production", "b@x", 1, 2, "c4", (), "SHA256:k"),
    O.PlainDeprecate("m", "1.0.0", "old", None, None, "a@x"),
    O.PlainHistory("m", [O.PlainEvent("promote", "1.0.0", "dev", "staging", None, "a@x", None, "c5", 3, True)]),
]


def twin(cls: type[O.Outcome]) -> type:
    module, name = cls.public_type
    return getattr(importlib.import_module(f"sw_registry.{module}"), name)  # type: ignore[no-any-return]


@pytest.mark.parametrize("cls", PLAIN, ids=lambda c: c.__name__)
def test_each_plain_result_has_its_dataclass_twins_fields_in_order(cls: type[O.Outcome]) -> None:
    public = twin(cls)
    assert dataclasses.is_dataclass(public)
    assert tuple(f.name for f in dataclasses.fields(public)) == cls.__slots__
    # a default_factory (an empty list) is None in the plain form's __init__, which makes the fresh list
    defaults = [None if f.default_factory is not dataclasses.MISSING else f.default
                for f in dataclasses.fields(public) if dataclasses.MISSING in (f.default, f.default_factory)
                and (f.default, f.default_factory) != (dataclasses.MISSING, dataclasses.MISSING)]
    assert list(cls.__init__.__defaults__ or ()) == defaults


@pytest.mark.parametrize("plain", SAMPLES, ids=lambda p: type(p).__name__)
def test_public_makes_the_dataclass_with_the_same_dict(plain: O.Outcome) -> None:
    public = O.public(plain)
    assert type(public) is twin(type(plain)) and dataclasses.is_dataclass(public)
    assert public.to_dict() == plain.to_dict()  # type: ignore[attr-defined]
    assert list(public.to_dict()) == list(plain.to_dict())  # type: ignore[attr-defined]  # the same key order
    assert O.public(public) is public


def test_the_api_twins_are_dataclasses_the_operations_results_are_not() -> None:
    info = O.public(SAMPLES[2])
    assert type(info.versions[0]).__name__ == "VersionRow" and dataclasses.is_dataclass(info.versions[0])
    assert dataclasses.asdict(O.public(SAMPLES[1]))["version_count"] == 2
    assert not dataclasses.is_dataclass(SAMPLES[0])
    assert SAMPLES[0].replace(warnings=("x",)).warnings == ("x",) and SAMPLES[0].warnings == ("big",)
    loaded = [1, 2]  # a loaded model that happens to be a list is handed back as it is
    assert O.public(loaded) is loaded
