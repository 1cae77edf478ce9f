"""The stage rules of SPEC §6 as pure functions (sw_registry.lifecycle): no files, no git, no clock."""

from __future__ import annotations

import pytest

from sw_registry import lifecycle as L
from sw_registry.errors import RegistryError

REF = "fraud-model@2.0.0"


def code_of(excinfo: pytest.ExceptionInfo[RegistryError]) -> str:
    return excinfo.value.code


def ev(seq: int, version: str, frm: str | None, to: str, at: str, event: str = "promote") -> dict:
    return {"seq": seq, "event": event, "from": frm, "to": to, "at": at, "by": "alice@example.com",
            "reason": None, "forced": False, "version": version}


# -- plan_promotion ----------------------------------------------------------------------------

@pytest.mark.parametrize(("current", "to"), [
    ("dev", "staging"),
    ("staging", "production"),
    ("archived", "staging"),
    ("dev", "archived"),
    ("staging", "archived"),
    ("production", "archived"),
])
def test_allowed_moves_are_planned_without_force(current: str, to: str) -> None:
    move = L.plan_promotion(current, to, ref=REF)
    assert move.noop is False
    assert move.forced is False


@pytest.mark.parametrize(("current", "to"), [
    ("dev", "production"),
    ("archived", "production"),
    ("production", "staging"),
    ("staging", "dev"),
    ("archived", "dev"),
])
def test_skips_and_backward_moves_are_invalid_transitions(current: str, to: str) -> None:
    with pytest.raises(RegistryError) as exc:
        L.plan_promotion(current, to, ref=REF)
    assert code_of(exc) == "invalid_transition"
    assert exc.value.exit_code == 1


def test_dev_to_production_refusal_has_a_hint_about_force() -> None:
    with pytest.raises(RegistryError) as exc:
        L.plan_promotion("dev", "production", ref=REF)
    assert exc.value.code == "invalid_transition"
    assert exc.value.hint and "--force" in exc.value.hint
    assert "staging" in exc.value.hint  # where it can go instead


def test_force_without_reason_is_usage() -> None:
    for reason in (None, "", "   "):
        with pytest.raises(RegistryError) as exc:
            L.plan_promotion("dev", "production", force=True, reason=reason, ref=REF)
        assert exc.value.code == "usage"
        assert exc.value.exit_code == 2


def test_forced_skip_is_recorded_as_forced() -> None:
    move = L.plan_promotion("dev", "production", force=True, reason="hotfix", ref=REF)
    assert move.noop is False
    assert move.forced is True


def test_force_on_an_allowed_move_is_not_marked_forced() -> None:
    move = L.plan_promotion("staging", "production", force=True, reason="just in case", ref=REF)
    assert move.forced is False


@pytest.mark.parametrize("stage", ["dev", "staging", "production", "archived"])
def test_same_stage_is_a_noop(stage: str) -> None:
    assert L.plan_promotion(stage, stage, ref=REF).noop is True


def test_same_stage_is_a_noop_even_with_a_mismatching_from_guard() -> None:
    # CI retries a promotion that landed: `--from staging --to production` on a version already in production
    move = L.plan_promotion("production", "production", from_stage="staging", ref=REF)
    assert move.noop is True


def test_from_guard_mismatch_is_invalid_transition() -> None:
    with pytest.raises(RegistryError) as exc:
        L.plan_promotion("dev", "staging", from_stage="staging", ref=REF)
    assert exc.value.code == "invalid_transition"
    # and a matching guard passes
    assert L.plan_promotion("dev", "staging", from_stage="dev", ref=REF).noop is False


def test_deprecated_target_is_refused_unless_forced() -> None:
    with pytest.raises(RegistryError) as exc:
        L.plan_promotion("dev", "staging", deprecated=True, ref=REF)
    assert exc.value.code == "deprecated"
    assert exc.value.exit_code == 1
    move = L.plan_promotion("dev", "staging", deprecated=True, force=True, reason="needed for a replay", ref=REF)
    assert move.noop is False


def test_deprecated_version_may_still_be_archived() -> None:
    assert L.plan_promotion("staging", "archived", deprecated=True, ref=REF).noop is False


def test_unknown_stage_is_invalid_input() -> None:
    with pytest.raises(RegistryError) as exc:
        L.plan_promotion("dev", "prod", ref=REF)
    assert exc.value.code == "invalid_input"


# -- approvals ------------------------------------------------------------------------------

RULE = {"approvers": ["alice@example.com", "bob@example.com"], "min_approvals": 1, "allow_self_approval": False}


def appr(who: str, stage: str = "production") -> dict:
    return {"stage": stage, "approver": who, "at": "2024-01-15T10:00:00Z", "comment": None}


def test_valid_approvals_counts_only_listed_approvers_for_the_stage() -> None:
    approvals = [appr("mallory@example.com"), appr("bob@example.com", "staging"), appr("bob@example.com")]
    assert L.valid_approvals(RULE, approvals, "production", "carol@example.com") == ["bob@example.com"]


def test_valid_approvals_counts_each_approver_once() -> None:
    approvals = [appr("bob@example.com"), appr("bob@example.com")]
    assert L.valid_approvals(RULE, approvals, "production", "carol@example.com") == ["bob@example.com"]


def test_valid_approvals_drops_self_approval_when_disallowed() -> None:
    approvals = [appr("alice@example.com"), appr("bob@example.com")]
    assert L.valid_approvals(RULE, approvals, "production", "alice@example.com") == ["bob@example.com"]
    allowed = {**RULE, "allow_self_approval": True}
    assert L.valid_approvals(allowed, approvals, "production", "alice@example.com") == [
        "alice@example.com", "bob@example.com"]


def test_empty_approver_list_means_anyone_may_approve() -> None:
    rule = {"approvers": [], "min_approvals": 1, "allow_self_approval": True}
    assert L.valid_approvals(rule, [appr("zed@example.com")], "production", "alice@example.com") == ["zed@example.com"]
    L.check_approvals(rule, [appr("zed@example.com")], "production", "alice@example.com", REF)


def test_check_approvals_without_a_rule_passes() -> None:
    L.check_approvals(None, [], "production", "alice@example.com", REF)


def test_check_approvals_refuses_with_approvers_and_missing() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_approvals(RULE, [], "production", "carol@example.com", REF)
    assert exc.value.code == "approval_required"
    assert exc.value.exit_code == 1
    assert exc.value.details["approvers"] == ["alice@example.com", "bob@example.com"]
    assert exc.value.details["missing"] == 1


def test_check_approvals_min_two_needs_two_different_approvers() -> None:
    rule = {**RULE, "min_approvals": 2}
    with pytest.raises(RegistryError) as exc:
        L.check_approvals(rule, [appr("bob@example.com"), appr("bob@example.com")], "production",
                          "carol@example.com", REF)
    assert exc.value.code == "approval_required"
    assert exc.value.details["missing"] == 1
    with pytest.raises(RegistryError) as none:
        L.check_approvals(rule, [], "production", "carol@example.com", REF)
    assert none.value.details["missing"] == 2
    L.check_approvals(rule, [appr("bob@example.com"), appr("alice@example.com")], "production",
                      "carol@example.com", REF)


def test_check_approvals_ignores_a_self_approval_when_disallowed() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_approvals(RULE, [appr("alice@example.com")], "production", "alice@example.com", REF)
    assert exc.value.code == "approval_required"
    assert exc.value.details["missing"] == 1


def test_check_approvals_ignores_approvals_for_another_stage() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_approvals(RULE, [appr("bob@example.com", "staging")], "production", "carol@example.com", REF)
    assert exc.value.code == "approval_required"


def test_check_approver_refuses_an_unlisted_approver() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_approver(RULE, "mallory@example.com", "carol@example.com", "production", REF)
    assert exc.value.code == "not_an_approver"
    assert exc.value.exit_code == 1
    L.check_approver(RULE, "bob@example.com", "carol@example.com", "production", REF)


def test_check_approver_refuses_self_approval_when_disallowed() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_approver(RULE, "alice@example.com", "alice@example.com", "production", REF)
    assert exc.value.code == "not_an_approver"
    L.check_approver({**RULE, "allow_self_approval": True}, "alice@example.com", "alice@example.com",
                     "production", REF)


def test_check_approver_without_rule_or_list_accepts_anyone() -> None:
    L.check_approver(None, "anyone@example.com", "alice@example.com", "production", REF)
    L.check_approver({"approvers": [], "min_approvals": 1, "allow_self_approval": True}, "anyone@example.com",
                     "alice@example.com", "production", REF)


# -- previous production, holder at an instant -------------------------------------------------

def test_previous_production_is_the_last_other_version_that_was_production() -> None:
    evts = [
        ev(1, "1.0.0", "staging", "production", "2024-01-01T00:00:00Z"),
        ev(2, "2.0.0", "staging", "production", "2024-01-02T00:00:00Z"),
        ev(3, "1.0.0", "production", "archived", "2024-01-02T00:00:00Z", "archive"),
        ev(4, "3.0.0", "staging", "production", "2024-01-03T00:00:00Z"),
        ev(5, "2.0.0", "production", "archived", "2024-01-03T00:00:00Z", "archive"),
    ]
    assert L.previous_production(evts, "3.0.0") == "2.0.0"
    assert L.previous_production(evts[:3], "2.0.0") == "1.0.0"


def test_previous_production_is_none_with_a_single_production_version() -> None:
    evts = [ev(1, "1.0.0", "dev", "staging", "2024-01-01T00:00:00Z"),
            ev(2, "1.0.0", "staging", "production", "2024-01-01T00:00:00Z")]
    assert L.previous_production(evts, "1.0.0") is None
    assert L.previous_production([], None) is None


def test_previous_production_after_a_rollback_follows_seq_not_time() -> None:
    # all in one second: v1 prod, v2 prod, rollback to v1 -> the previous production version is v2
    t = "2024-01-15T10:00:00Z"
    evts = [
        ev(1, "1.0.0", "staging", "production", t),
        ev(2, "2.0.0", "staging", "production", t),
        ev(3, "1.0.0", "production", "archived", t, "archive"),
        ev(4, "1.0.0", "archived", "production", t, "rollback"),
        ev(5, "2.0.0", "production", "archived", t, "archive"),
    ]
    assert L.previous_production(evts, "1.0.0") == "2.0.0"


def test_holder_at_orders_events_of_the_same_second_by_seq() -> None:
    t = "2024-01-15T10:00:00Z"
    evts = [
        ev(1, "1.0.0", "staging", "production", t),
        ev(2, "2.0.0", "staging", "production", t),
        ev(3, "1.0.0", "production", "archived", t, "archive"),
    ]
    assert L.holder_at(evts, "production", t) == "2.0.0"
    assert L.holder_at(evts, "production", "2024-01-15T09:59:59Z") is None


def test_holder_at_with_clock_skewed_timestamps_replays_by_seq() -> None:
    # a later seq carries an earlier timestamp (another machine's clock): seq decides
    evts = [
        ev(1, "1.0.0", "staging", "production", "2024-01-15T10:00:05Z"),
        ev(2, "2.0.0", "staging", "production", "2024-01-15T10:00:01Z"),
        ev(3, "1.0.0", "production", "archived", "2024-01-15T10:00:01Z", "archive"),
    ]
    assert L.holder_at(evts, "production", "2024-01-15T11:00:00Z") == "2.0.0"


def test_holder_at_replays_by_seq_whatever_order_the_events_are_given_in() -> None:
    # events handed over sorted by timestamp (as a naive reader would) rather than by seq
    evts = [
        ev(1, "1.0.0", "staging", "production", "2024-01-15T10:00:05Z"),
        ev(2, "2.0.0", "staging", "production", "2024-01-15T10:00:01Z"),
        ev(3, "1.0.0", "production", "archived", "2024-01-15T10:00:01Z", "archive"),
    ]
    by_time = sorted(evts, key=lambda e: (e["at"], -e["seq"]))
    assert [e["seq"] for e in by_time] == [3, 2, 1]
    assert L.holder_at(by_time, "production", "2024-01-15T11:00:00Z") == "2.0.0"


def test_holder_at_between_two_promotions_and_after_archiving() -> None:
    evts = [
        ev(1, "1.0.0", "staging", "production", "2024-01-10T12:00:00Z"),
        ev(2, "2.0.0", "staging", "production", "2024-01-20T12:00:00Z"),
        ev(3, "1.0.0", "production", "archived", "2024-01-20T12:00:00Z", "archive"),
        ev(4, "2.0.0", "production", "archived", "2024-01-25T12:00:00Z", "archive"),
    ]
    assert L.holder_at(evts, "production", "2024-01-09T23:59:59Z") is None
    assert L.holder_at(evts, "production", "2024-01-15T23:59:59Z") == "1.0.0"
    assert L.holder_at(evts, "production", "2024-01-20T12:00:00Z") == "2.0.0"
    assert L.holder_at(evts, "production", "2024-01-26T00:00:00Z") is None


# -- dates ------------------------------------------------------------------------------------

def test_to_instant_date_means_end_of_that_utc_day() -> None:
    assert L.to_instant("2024-01-15") == "2024-01-15T23:59:59Z"


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"),
    ("2024-01-15T10:30:00+02:00", "2024-01-15T08:30:00Z"),
    ("2024-01-15T22:30:00-05:00", "2024-01-16T03:30:00Z"),
    ("2024-01-15T10:30:00", "2024-01-15T10:30:00Z"),
])
def test_to_instant_converts_to_utc(text: str, expected: str) -> None:
    assert L.to_instant(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "2024-01-32", "15/01/2024", ""])
def test_to_instant_rejects_invalid_dates(text: str) -> None:
    with pytest.raises(RegistryError) as exc:
        L.to_instant(text)
    assert exc.value.code == "invalid_input"
    assert exc.value.exit_code == 2


# -- rollback target ------------------------------------------------------------------------

ROLLBACK_EVTS = [
    ev(1, "1.0.0", "staging", "production", "2024-01-01T00:00:00Z"),
    ev(2, "2.0.0", "staging", "production", "2024-01-02T00:00:00Z"),
    ev(3, "1.0.0", "production", "archived", "2024-01-02T00:00:00Z", "archive"),
    ev(4, "3.0.0", "dev", "staging", "2024-01-03T00:00:00Z"),
]


def test_check_rollback_accepts_a_former_production_version() -> None:
    L.check_rollback("1.0.0", ROLLBACK_EVTS, deprecated=False, force=False, ref="m@1.0.0")


def test_check_rollback_refuses_a_version_never_in_production_unless_forced() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_rollback("3.0.0", ROLLBACK_EVTS, deprecated=False, force=False, ref="m@3.0.0")
    assert exc.value.code == "invalid_transition"
    assert exc.value.hint
    L.check_rollback("3.0.0", ROLLBACK_EVTS, deprecated=False, force=True, ref="m@3.0.0")


def test_check_rollback_refuses_a_deprecated_target_unless_forced() -> None:
    with pytest.raises(RegistryError) as exc:
        L.check_rollback("1.0.0", ROLLBACK_EVTS, deprecated=True, force=False, ref="m@1.0.0")
    assert exc.value.code == "deprecated"
    L.check_rollback("1.0.0", ROLLBACK_EVTS, deprecated=True, force=True, ref="m@1.0.0")
