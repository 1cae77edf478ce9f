"""registry-compare's rules (SPEC §7.10) as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from sw_registry.compare import compare, markdown, metric_row
from sw_registry.policy import DEFAULT_LOWER_IS_BETTER as LIB


def meta(version: str, metrics: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "m", "version": version, "metrics": metrics, **extra}


def test_delta_relative_and_direction() -> None:
    acc = metric_row("accuracy", 0.80, 0.88, LIB)
    assert acc["delta"] == pytest.approx(0.08) and acc["relative"] == pytest.approx(0.1) and acc["better"] is True
    lat = metric_row("inference_latency_p95_ms", 80, 60, LIB)
    assert lat["delta"] == -20 and lat["relative"] == pytest.approx(-0.25) and lat["better"] is True
    loss = metric_row("val_loss", 0.2, 0.3, LIB)
    assert loss["better"] is False
    assert metric_row("accuracy", 0, 0.5, LIB)["relative"] is None  # a is 0
    assert metric_row("accuracy", 0.5, 0.5, LIB)["better"] is None  # equal
    assert metric_row("accuracy", None, 0.5, LIB)["better"] is None  # unknown on one side


@pytest.mark.parametrize(
    ("a", "b", "recommendation"),
    [
        ({"accuracy": 0.8, "latency": 50}, {"accuracy": 0.9, "latency": 40}, "better"),
        ({"accuracy": 0.8}, {"accuracy": 0.7}, "worse"),
        ({"accuracy": 0.8, "latency": 50}, {"accuracy": 0.9, "latency": 60}, "mixed"),
        ({"accuracy": 0.8}, {"accuracy": 0.8}, "same"),
    ],
)
def test_recommendation(a: dict[str, float], b: dict[str, float], recommendation: str) -> None:
    assert compare(meta("1.0.0", a), meta("1.1.0", b), LIB)["recommendation"] == recommendation


def test_features_hyperparameters_and_signature() -> None:
    a = meta(
        "1.0.0",
        {},
        hyperparameters={"depth": 6, "lr": 0.1},
        signature={"inputs": {"amount": "float", "old": "int", "kind": "str"}, "outputs": {"p": "float"}},
    )
    b = meta(
        "2.0.0",
        {},
        hyperparameters={"depth": 8, "lr": 0.1, "trees": 100},
        signature={"inputs": {"amount": "float", "kind": "int", "new": "float"}, "outputs": {"p": "float"}},
    )
    data = compare(a, b, LIB)
    assert data["features"] == {
        "added": ["new"],
        "removed": ["old"],
        "retyped": [{"name": "kind", "a": "str", "b": "int"}],
    }
    assert data["hyperparameters"]["changed"] == [
        {"name": "depth", "a": 6, "b": 8},
        {"name": "trees", "a": None, "b": 100},
    ]
    assert data["signature_compatible"] is False
    only_added = meta(
        "1.1.0", {}, signature={"inputs": {**a["signature"]["inputs"], "extra": "float"}, "outputs": {"p": "float"}}
    )
    assert compare(a, only_added, LIB)["signature_compatible"] is True


def test_markdown_report_names_both_versions_and_the_verdict() -> None:
    text = markdown(compare(meta("3.0.0", {"accuracy": 0.85}), meta("3.1.0", {"accuracy": 0.87}), LIB))
    assert "v3.0.0 vs v3.1.0" in text and "| accuracy | 0.85 | 0.87 | +2.4% | ✅ |" in text
    assert "Recommendation: better" in text
