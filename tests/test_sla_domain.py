"""The incident lifecycle's pure rules: stage graph, targets, pauses, thresholds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.handbook import handbook
from app.services.tickets.rules import (
    ALLOWED_MOVES,
    FINAL_STAGES,
    TIMED_STAGES,
    CityTier,
    ClockView,
    EtaRequired,
    Policy,
    Stage,
    Status,
    due_at,
    firing_order,
    format_duration,
    handbook_policy,
    is_allowed,
    next_due,
    next_stages,
    outcome_at_completion,
    parse_duration,
    paused_after_resume,
    status_after_move,
    step,
    target_for,
)

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ORDER = [*TIMED_STAGES, Stage.closed]
POLICY = handbook_policy(handbook()["incident_lifecycle"])
stages = st.sampled_from(list(Stage))


def test_the_handbook_path_with_and_without_a_site_visit_is_allowed() -> None:
    with_visit = [
        "reception", "registration", "diagnosis", "dispatch", "field_repair",
        "verification", "stability", "closure", "closed",
    ]  # fmt: skip
    without = [s for s in with_visit if s not in ("dispatch", "field_repair")]
    for path in (with_visit, without):
        for a, b in itertools.pairwise(path):
            assert is_allowed(Stage(a), Stage(b)), (a, b)


@settings(deadline=None)  # a shared, noisy machine: no per-example deadline
@given(stages, stages)
def test_only_the_table_or_a_cancellation_is_allowed(previous: Stage, current: Stage) -> None:
    expected = previous not in FINAL_STAGES and (
        current is Stage.cancelled or (previous, current) in ALLOWED_MOVES
    )
    assert is_allowed(previous, current) is expected


@settings(deadline=None)  # a shared, noisy machine: no per-example deadline
@given(stages, stages)
def test_no_backward_step_and_no_stay(previous: Stage, current: Stage) -> None:
    if previous in ORDER and current in ORDER and ORDER.index(current) <= ORDER.index(previous):
        assert not is_allowed(previous, current)


def test_skipping_a_stage_is_refused() -> None:
    assert not is_allowed(Stage.reception, Stage.diagnosis)
    assert not is_allowed(Stage.registration, Stage.verification)
    assert not is_allowed(Stage.dispatch, Stage.verification)
    assert not is_allowed(Stage.verification, Stage.closed)
    assert next_stages(Stage.diagnosis) == [Stage.dispatch, Stage.verification, Stage.cancelled]


@settings(deadline=None)  # a shared, noisy machine: no per-example deadline
@given(stages)
def test_nothing_leaves_a_final_stage_and_every_open_stage_may_cancel(stage: Stage) -> None:
    assert (next_stages(stage) == []) is (stage in FINAL_STAGES)
    if stage not in FINAL_STAGES:
        assert is_allowed(stage, Stage.cancelled)


def test_status_follows_the_stage() -> None:
    assert status_after_move(Stage.closed) is Status.closed
    assert status_after_move(Stage.cancelled) is Status.cancelled
    assert status_after_move(Stage.diagnosis) is Status.open


def test_default_policy_is_the_handbooks() -> None:
    minutes = {s: t.total_seconds() / 60 for s, t in POLICY.targets.items() if t}
    assert minutes == {
        Stage.reception: 1, Stage.registration: 4, Stage.diagnosis: 20,
        Stage.field_repair: 240, Stage.verification: 10, Stage.stability: 360, Stage.closure: 30,
    }  # fmt: skip
    assert POLICY.dispatch == {
        CityTier.main: timedelta(hours=3),
        CityTier.intermediate: timedelta(hours=6),
        CityTier.remote: None,
    }
    assert POLICY.warning_ratio == 0.75
    assert POLICY.escalation_ratios == (1.0, 1.5, 2.0)


def test_dispatch_target_by_tier_and_eta() -> None:
    assert target_for(POLICY, Stage.dispatch, CityTier.main, T0) == timedelta(hours=3)
    assert target_for(POLICY, Stage.dispatch, CityTier.intermediate, T0) == timedelta(hours=6)
    with pytest.raises(EtaRequired):
        target_for(POLICY, Stage.dispatch, CityTier.remote, T0)
    eta = T0 + timedelta(hours=30)
    assert target_for(POLICY, Stage.dispatch, CityTier.remote, T0, eta) == timedelta(hours=30)
    with pytest.raises(ValueError, match="future"):
        target_for(POLICY, Stage.dispatch, CityTier.remote, T0, T0 - timedelta(minutes=1))
    assert target_for(POLICY, Stage.closed, CityTier.main, T0) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT1M", 60), ("PT4M", 240), ("PT1H30M", 5400), ("P1DT2H", 93600), ("PT2.5S", 2.5),
     ("P1W", 604800), ("pt3s", 3)],
)  # fmt: skip
def test_iso_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "1M", "PT-1M", "P1M", "P1Y", "PT0S", "PTM", "abc"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|positive"):
        parse_duration(text)


@settings(deadline=None)  # a shared, noisy machine: no per-example deadline
@given(st.integers(min_value=1, max_value=365 * 86400))
def test_duration_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


def test_policy_ratios_are_checked() -> None:
    with pytest.raises(ValueError, match="warning_ratio"):
        Policy(targets={}, dispatch={}, warning_ratio=1.2)
    with pytest.raises(ValueError, match="decrease"):
        Policy(targets={}, dispatch={}, escalation_ratios=(1.0, 2.0, 1.5))
    with pytest.raises(ValueError, match="level 1"):
        Policy(targets={}, dispatch={}, escalation_ratios=(0.5, 2.0, 3.0))


def _clock(target_s: float = 60, paused_s: float = 0) -> ClockView:
    return ClockView(
        started_at=T0,
        target=timedelta(seconds=target_s),
        paused=timedelta(seconds=paused_s),
        warning_ratio=0.75,
        escalation_ratios=(1.0, 1.5, 2.0),
    )


@settings(deadline=None)  # a shared, noisy machine: no per-example deadline
@given(
    st.integers(min_value=1, max_value=86400),
    st.lists(st.integers(min_value=0, max_value=10**6), max_size=20),
)
def test_pauses_push_the_due_time_by_their_length(target_s: int, pauses_ms: list[int]) -> None:
    paused = timedelta(0)
    at = T0
    for ms in pauses_ms:
        at += timedelta(seconds=1)
        paused = paused_after_resume(paused, at, at + timedelta(milliseconds=ms))
        at += timedelta(milliseconds=ms)
    due = due_at(T0, timedelta(seconds=target_s), paused)
    assert due == T0 + timedelta(seconds=target_s) + timedelta(milliseconds=sum(pauses_ms))


def test_a_resume_before_the_pause_adds_nothing() -> None:
    assert paused_after_resume(timedelta(5), T0, T0 - timedelta(1)) == timedelta(5)


def test_thresholds_of_a_one_minute_clock() -> None:
    clock = _clock()
    assert next_due(clock) == T0 + timedelta(seconds=45)
    assert step(clock, T0 + timedelta(seconds=44)).next_due_at == T0 + timedelta(seconds=45)
    warned = step(clock, T0 + timedelta(seconds=45))
    assert warned.warn
    assert not warned.breach
    assert warned.escalate_to == []
    assert warned.next_due_at == T0 + timedelta(seconds=60)
    at_breach = step(ClockView(**{**clock.__dict__, "warned": True}), T0 + timedelta(seconds=60))
    assert at_breach.breach
    assert at_breach.escalate_to == [1]
    assert at_breach.next_due_at == T0 + timedelta(seconds=90)
    late = step(clock, T0 + timedelta(seconds=130))
    assert late.breach
    assert not late.warn
    assert late.escalate_to == [1, 2, 3]
    assert late.next_due_at is None


@settings(deadline=None)  # a shared, noisy machine: no per-example deadline
@given(st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=30))
def test_each_threshold_fires_once_and_never_early(times_ms: list[int]) -> None:
    """Whatever instants the engine happens to look at, each threshold fires at most once,
    never before its instant, and all of them have fired once the last one has passed."""
    clock = _clock(paused_s=3)
    fired: list[tuple[str, int]] = []
    for ms in [*sorted(times_ms), 10**7]:
        now = T0 + timedelta(milliseconds=ms)
        result = step(clock, now)
        if result.breach:
            assert now >= T0 + timedelta(seconds=63)
            fired.append(("breach", 0))
        if result.warn:
            assert now >= T0 + timedelta(seconds=48)
            fired.append(("warning", 0))
        fired.extend(("escalation", lv) for lv in result.escalate_to)
        clock = ClockView(
            **{
                **clock.__dict__,
                "warned": clock.warned or result.warn,
                "breached": clock.breached or result.breach,
                "escalation_level": max([clock.escalation_level, *result.escalate_to]),
            }
        )
    assert len(fired) == len(set(fired))
    assert {("breach", 0), ("escalation", 1), ("escalation", 2), ("escalation", 3)} <= set(fired)


def test_a_clock_without_target_never_falls_due() -> None:
    clock = ClockView(T0, None, timedelta(0), 0.75, (1.0, 1.5, 2.0))
    assert next_due(clock) is None
    assert step(clock, T0 + timedelta(days=10)) == step(clock, T0)


def test_outcome_at_completion() -> None:
    due = T0 + timedelta(minutes=1)
    assert outcome_at_completion(due, due, breached=False) == "met"
    assert outcome_at_completion(due, due + timedelta(microseconds=1), breached=False) == "breached"
    assert outcome_at_completion(due, T0, breached=True) == "breached"
    assert outcome_at_completion(None, T0 + timedelta(days=9), breached=False) == "met"


def test_a_clock_catching_up_takes_its_place_by_its_breach() -> None:
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    # Warned before the outage: its next threshold is its breach, due 10 s ago.
    warned = firing_order(now - timedelta(seconds=10), None, now - timedelta(seconds=10), now)
    # Not warned yet: its warning was due 30 s ago, its breach 5 s ago.
    unwarned = firing_order(now - timedelta(seconds=5), None, now - timedelta(seconds=30), now)
    assert warned < unwarned  # breaches are recorded in the order they fell due
    # Before its breach, a clock goes by its next threshold (its warning).
    ahead = firing_order(now + timedelta(seconds=60), None, now - timedelta(seconds=1), now)
    assert ahead == now - timedelta(seconds=1)
    # Once breached, by its next escalation level.
    breached = firing_order(now - timedelta(seconds=60), now, now - timedelta(seconds=2), now)
    assert breached == now - timedelta(seconds=2)
