"""Trigger evaluation (SPEC §5 auto_rollback, §7.8) as pure functions: no files, no git, no clock."""

from __future__ import annotations

import pytest

from sw_registry import triggers as T
from sw_registry.errors import ConfigError
from sw_registry.policy import Policy, validate

NOW = "2024-01-16T12:00:00Z"
PROD = "2024-01-10T00:00:00Z"


def obs(at: str, **metrics: float) -> dict:
    return {"at": at, "metrics": metrics}


def one(triggers: dict, observations: list, *, since: str | None = PROD, registered: dict | None = None) -> dict:
    (evaluation,) = T.evaluate(triggers, observations, instant=NOW, since=since, registered=registered)
    return evaluation


def test_max_and_min_breach_on_the_mean_of_the_window() -> None:
    e = one({"error_rate": {"max": 0.05}}, [obs(NOW, error_rate=0.02), obs(NOW, error_rate=0.1)])
    assert e["value"] == pytest.approx(0.06) and e["breached"] and e["state"] == "breached" and e["kind"] == "max"
    e = one({"error_rate": {"max": 0.05}}, [obs(NOW, error_rate=0.02), obs(NOW, error_rate=0.07)])
    assert e["value"] == pytest.approx(0.045) and not e["breached"] and e["state"] == "ok"
    e = one({"accuracy": {"min": 0.8}}, [obs(NOW, accuracy=0.79)])
    assert e["breached"] and e["threshold"] == 0.8 and e["kind"] == "min"
    assert one({"accuracy": {"min": 0.8}}, [obs(NOW, accuracy=0.8)])["breached"] is False  # at the bound: holds


def test_min_observations_holds_a_breach_back_until_there_are_enough() -> None:
    rule = {"accuracy": {"min": 0.8, "min_observations": 3}}
    e = one(rule, [obs(NOW, accuracy=0.5), obs(NOW, accuracy=0.5)])
    assert e["state"] == "insufficient" and not e["breached"] and e["observations"] == 2
    assert one(rule, [obs(NOW, accuracy=0.5)] * 3)["breached"]


def test_a_time_window_ignores_older_observations() -> None:
    rule = {"accuracy": {"min": 0.8, "window": "24h"}}
    old = obs("2024-01-15T11:59:59Z", accuracy=0.1)  # 24 h and 1 s before NOW
    e = one(rule, [old, obs("2024-01-16T11:00:00Z", accuracy=0.9)])
    assert e["observations"] == 1 and e["value"] == 0.9 and not e["breached"] and e["window"] == "24h"
    assert one(rule, [obs("2024-01-15T12:00:00Z", accuracy=0.1)])["breached"]  # exactly 24 h: inside


def test_the_default_window_starts_when_the_version_became_production() -> None:
    rule = {"error_rate": {"max": 0.05}}
    before = obs("2024-01-09T23:59:59Z", error_rate=0.9)
    e = one(rule, [before, obs(NOW, error_rate=0.01)])
    assert e["observations"] == 1 and not e["breached"] and e["window"] == "since production"
    assert one(rule, [before], since=PROD)["state"] == "no_data"
    # a time window never reaches back before the promotion either
    assert one({"error_rate": {"max": 0.05, "window": "30d"}}, [before])["state"] == "no_data"


def test_accuracy_drop_is_relative_to_the_registered_accuracy() -> None:
    e = one({"accuracy_drop": 0.10}, [obs(NOW, accuracy=0.75)], registered={"accuracy": 0.90})
    assert e["value"] == pytest.approx(1 / 6) and e["breached"] and e["observed"] == 0.75 and e["registered"] == 0.9
    e = one({"accuracy_drop": 0.10}, [obs(NOW, accuracy=0.82)], registered={"accuracy": 0.90})
    assert e["value"] == pytest.approx(0.08 / 0.9) and not e["breached"]
    assert one({"accuracy_drop": 0.1}, [obs(NOW, accuracy=0.1)], registered={})["state"] == "no_baseline"
    assert one({"accuracy_drop": 0.1}, [], registered={"accuracy": 0.9})["state"] == "no_data"


def test_the_rollback_reason_names_metric_value_and_threshold() -> None:
    e = one({"error_rate": {"max": 0.05}}, [obs(NOW, error_rate=0.1), obs(NOW, error_rate=0.2)])
    assert T.reason(e) == "auto-rollback: error_rate 0.15 breached 0.05"
    assert T.first_breach([{"breached": False}, e]) is e


def test_windows_and_bounds_are_validated_in_registry_yaml() -> None:
    assert T.window_seconds("24h") == 86400 and T.window_seconds("30m") == 1800 and T.window_seconds("7d") == 604800
    bad = [
        {"error_rate": {"max": 0.05, "window": "soon"}},
        {"error_rate": {"window": "24h"}},
        {"error_rate": {"max": 0.05, "min_observations": 0}},
        {"accuracy_drop": 1.5},
        {"error_rate": {"max": 0.05, "median": 1}},
    ]
    for triggers in bad:
        with pytest.raises(ConfigError) as info:
            validate({"models": {"m": {"auto_rollback": triggers}}})
        assert "models.m.auto_rollback" in info.value.message
    validate({"defaults": {"auto_rollback": {"error_rate": {"max": 0.05}}}})


def test_default_triggers_apply_to_every_model_and_a_model_overrides_them_per_metric() -> None:
    policy = Policy(
        validate(
            {
                "defaults": {"auto_rollback": {"error_rate": {"max": 0.05}, "accuracy_drop": 0.1}},
                "models": {"m": {"auto_rollback": {"error_rate": {"max": 0.01}}}},
            }
        )
    )
    assert policy.auto_rollback("m") == {"error_rate": {"max": 0.01}, "accuracy_drop": 0.1}
    assert policy.auto_rollback("other") == {"error_rate": {"max": 0.05}, "accuracy_drop": 0.1}


def test_the_trigger_grammar_of_registry_policy_is_a_core_rule() -> None:
    """registry-policy --trigger/--window, parsed without the CLI (triggers.parse_triggers)."""
    from sw_registry.errors import InvalidInput, UsageError

    assert T.parse_triggers(["accuracy<0.80", " error_rate > 5e-2 "], "24h") == {
        "accuracy": {"min": 0.8, "window": "24h"},
        "error_rate": {"max": 0.05, "window": "24h"},
    }
    assert T.parse_triggers(["latency_ms>120"], None) == {"latency_ms": {"max": 120.0}}
    assert T.parse_triggers(None, None) == {}
    for bad in ("accuracy=0.8", "accuracy<", "<0.8", "accuracy<0.8.1"):
        with pytest.raises(InvalidInput) as exc:
            T.parse_triggers([bad], None)
        assert exc.value.code == "invalid_input" and bad in exc.value.message
    with pytest.raises(UsageError) as usage:
        T.parse_triggers([], "24h")
    assert usage.value.exit_code == 2 and "--trigger" in str(usage.value.hint)
