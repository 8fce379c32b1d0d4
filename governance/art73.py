"""EU AI Act Art. 73 reporting clocks for serious incidents: the deadline from the moment of
awareness and the incident's classes, the reminders that run ahead of it, and where a clock
stands. Nothing here imports Django.

Art. 73(2)-(4): report a serious incident within 15 days of becoming aware of it; within 10
days where a person died; within 2 days for a widespread infringement or a serious and
irreversible disruption of critical infrastructure. An incident may fall in several classes:
the strictest deadline applies. Only models whose tier's policy sets
`incident_reporting_clock` (high and critical by default) start a clock; incidents on other
models are recorded without one.

Reminders come from the tier's policy: at fractions of the reporting window
(`incident_reminder_fractions`, default half-way) and hours before the deadline
(`incident_reminder_hours_before`, default a day). Times that coincide or fall outside the
window are dropped. A scan that runs late sends only the latest reminder that has come due,
and none once the deadline has passed: then the report is overdue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from core.errors import InvalidInput
from governance.errors import AwareBeforeOccurred, AwarenessInFuture

SERIOUS = "serious"
DEATH = "death"
WIDESPREAD = "widespread"
CLASSES = (SERIOUS, DEATH, WIDESPREAD)
REPORTING_DAYS = {SERIOUS: 15, DEATH: 10, WIDESPREAD: 2}

NOT_REQUIRED = "not_required"
PENDING = "pending"
OVERDUE = "overdue"
REPORTED = "reported"
NOT_FILED = "not_filed"
REPORTING_STATUSES = (NOT_REQUIRED, PENDING, OVERDUE, REPORTED, NOT_FILED)


def check_classes(classes: Any) -> list[str]:
    """One or more known classes, each once, in the order of CLASSES."""
    if not isinstance(classes, list | tuple) or not classes:
        raise InvalidInput(f"classes lists one or more of {', '.join(CLASSES)}")
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise InvalidInput(f"classes lists one or more of {', '.join(CLASSES)}")
    return [c for c in CLASSES if c in classes]


def reporting_days(classes: Iterable[str]) -> int:
    """Days allowed to report: the strictest of the incident's classes."""
    return min(REPORTING_DAYS[c] for c in classes)


def deadline(became_aware_at: datetime, classes: Iterable[str]) -> datetime:
    return became_aware_at + timedelta(days=reporting_days(classes))


def check_times(*, occurred_at: datetime, became_aware_at: datetime, now: datetime) -> None:
    """Awareness is a fact of the past, and nobody becomes aware of what has not happened."""
    if became_aware_at > now:
        raise AwarenessInFuture("became_aware_at cannot be in the future")
    if became_aware_at < occurred_at:
        raise AwareBeforeOccurred("became_aware_at cannot be before occurred_at")


def reminder_times(
    became_aware_at: datetime,
    deadline_at: datetime,
    *,
    fractions: Iterable[float],
    hours_before: Iterable[int],
) -> list[datetime]:
    """When reminders go out, in order: strictly inside the window, each time once."""
    window = deadline_at - became_aware_at
    times = {became_aware_at + window * fraction for fraction in fractions}
    times |= {
        deadline_at - timedelta(hours=hours)
        for hours in hours_before
        if timedelta(hours=hours) < window
    }
    return sorted(t for t in times if became_aware_at < t < deadline_at)


def due_reminder(
    times: list[datetime], sent: int, deadline_at: datetime, now: datetime
) -> int | None:
    """The number (1-based) of the reminder to send now: the latest whose time has come and
    that is later than the last one sent; None when none is due or the deadline has passed."""
    if now > deadline_at:
        return None
    due = [number for number, at in enumerate(times, start=1) if at <= now and number > sent]
    return max(due) if due else None


def is_overdue(deadline_at: datetime | None, reported: bool, now: datetime) -> bool:
    return deadline_at is not None and not reported and now > deadline_at


def reporting_status(
    *,
    clock_applies: bool,
    deadline_at: datetime | None,
    reported: bool,
    closed: bool,
    now: datetime,
) -> str:
    """Where the report to the authority stands: not required (no clock), reported, not filed
    (closed without it, with a reason), overdue (the deadline has passed without it) or
    pending."""
    if not clock_applies:
        return NOT_REQUIRED
    if reported:
        return REPORTED
    if closed:
        return NOT_FILED
    if is_overdue(deadline_at, reported, now):
        return OVERDUE
    return PENDING
