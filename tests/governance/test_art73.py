"""The EU AI Act Art. 73 clock math: the strictest deadline of an incident's classes, the
reminders inside the window, one reminder per scan, and where a report stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from governance import art73, policy
from governance.errors import AwareBeforeOccurred, AwarenessInFuture

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
HIGH = policy.DEFAULT_TIERS["high"]

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
class_sets = st.lists(st.sampled_from(art73.CLASSES), min_size=1, max_size=3, unique=True)


@pytest.mark.parametrize(
    ("classes", "days"),
    [
        (["serious"], 15),
        (["death"], 10),
        (["widespread"], 2),
        (["serious", "death"], 10),
        (["death", "widespread"], 2),
        (["widespread", "serious", "death"], 2),
    ],
)
def test_deadline_is_the_strictest_of_the_classes_when_several_apply(classes, days):
    assert art73.deadline(T0, art73.check_classes(classes)) == T0 + days * DAY


@given(aware=moments, classes=class_sets)
def test_deadline_never_exceeds_any_applicable_class_when_classes_vary(aware, classes):
    deadline = art73.deadline(aware, classes)
    assert all(deadline <= aware + art73.REPORTING_DAYS[c] * DAY for c in classes)
    assert deadline - aware in {art73.REPORTING_DAYS[c] * DAY for c in classes}


@pytest.mark.parametrize("classes", [[], ["minor"], "serious", None, ["serious", 3]])
def test_classes_are_refused_when_empty_or_unknown(classes):
    with pytest.raises(InvalidInput):
        art73.check_classes(classes)


def test_classes_are_kept_once_in_their_order_when_repeated():
    assert art73.check_classes(["death", "serious", "death"]) == ["serious", "death"]


def test_default_reminders_run_half_way_and_a_day_before_when_the_window_is_fifteen_days():
    deadline = art73.deadline(T0, ["serious"])
    times = art73.reminder_times(
        T0,
        deadline,
        fractions=HIGH["incident_reminder_fractions"],
        hours_before=HIGH["incident_reminder_hours_before"],
    )
    assert times == [T0 + timedelta(days=7, hours=12), T0 + 14 * DAY]


def test_coinciding_reminders_count_once_when_the_window_is_two_days():
    deadline = art73.deadline(T0, ["widespread"])
    times = art73.reminder_times(T0, deadline, fractions=[0.5], hours_before=[24, 72])
    assert times == [T0 + DAY]


@given(
    aware=moments,
    classes=class_sets,
    fractions=st.lists(st.floats(0.01, 0.99), max_size=10),
    hours=st.lists(st.integers(1, 8760), max_size=10),
)
def test_reminders_fall_strictly_inside_the_window_in_order_when_the_policy_varies(
    aware, classes, fractions, hours
):
    deadline = art73.deadline(aware, classes)
    times = art73.reminder_times(aware, deadline, fractions=fractions, hours_before=hours)
    assert times == sorted(set(times))
    assert all(aware < t < deadline for t in times)


@given(now=st.integers(0, 16 * 24), sent=st.integers(0, 2))
def test_a_scan_sends_at_most_the_latest_due_reminder_and_none_after_the_deadline(now, sent):
    deadline = T0 + 15 * DAY
    times = [T0 + timedelta(days=7, hours=12), T0 + 14 * DAY]
    at = T0 + timedelta(hours=now)
    due = art73.due_reminder(times, sent, deadline, at)
    if at > deadline:
        assert due is None
    elif due is not None:
        assert due > sent and times[due - 1] <= at
        assert all(t > at for t in times[due:])
    else:
        assert all(t > at or n <= sent for n, t in enumerate(times, start=1))


def test_times_are_refused_when_awareness_is_in_the_future_or_before_the_incident():
    with pytest.raises(AwarenessInFuture) as future:
        art73.check_times(occurred_at=T0, became_aware_at=T0 + DAY, now=T0)
    with pytest.raises(AwareBeforeOccurred) as early:
        art73.check_times(occurred_at=T0, became_aware_at=T0 - DAY, now=T0 + DAY)
    assert (future.value.code, future.value.status) == ("awareness_in_future", 422)
    assert (early.value.code, early.value.status) == ("aware_before_occurred", 422)
    art73.check_times(occurred_at=T0, became_aware_at=T0, now=T0)


@pytest.mark.parametrize(
    ("clock", "reported", "closed", "now", "status"),
    [
        (False, False, False, T0, "not_required"),
        (True, False, False, T0, "pending"),
        (True, False, False, T0 + 15 * DAY, "pending"),
        (True, False, False, T0 + 15 * DAY + timedelta(seconds=1), "overdue"),
        (True, True, False, T0 + 20 * DAY, "reported"),
        (True, False, True, T0 + 20 * DAY, "not_filed"),
    ],
)
def test_reporting_status_follows_the_clock_when_time_passes(clock, reported, closed, now, status):
    deadline = T0 + 15 * DAY if clock else None
    assert (
        art73.reporting_status(
            clock_applies=clock, deadline_at=deadline, reported=reported, closed=closed, now=now
        )
        == status
    )


def test_policy_starts_the_clock_for_high_and_critical_tiers_only_by_default():
    clocks = {tier: spec["incident_reporting_clock"] for tier, spec in policy.DEFAULT_TIERS.items()}
    assert clocks == {"low": False, "medium": False, "high": True, "critical": True}


@pytest.mark.parametrize(
    "change",
    [
        {"incident_reporting_clock": "yes"},
        {"incident_reminder_fractions": [0]},
        {"incident_reminder_fractions": [1.5]},
        {"incident_reminder_fractions": [True]},
        {"incident_reminder_hours_before": [0]},
        {"incident_reminder_hours_before": [1.5]},
        {"incident_reminder_hours_before": list(range(1, 13))},
    ],
)
def test_policy_refuses_incident_fields_when_they_are_invalid(change):
    with pytest.raises(InvalidInput):
        policy.merge_tiers(policy.default_tiers(), {"high": change})


def test_policy_accepts_other_reminders_when_they_are_valid():
    merged = policy.merge_tiers(
        policy.default_tiers(),
        {"critical": {"incident_reminder_fractions": [], "incident_reminder_hours_before": [48]}},
    )
    assert merged["critical"]["incident_reminder_hours_before"] == [48]
