"""Review cadence math: when a periodic review opens, is reminded, escalates and runs out of
grace, from the anchor (the last completed review, or the approval) and a tier's policy.
Nothing here imports Django.

For a tier with cadence C, reminder R, escalation E and grace G (days), anchored at A:
  due        A + C                      (the cadence has elapsed)
  opens      due - 2R, not before A     (the boards get notice before the reminder)
  reminded   due - R
  escalated  due + E to the boards' chairs, due + E + ceil(G/2) to the model-risk officers
  overdue    due + G: the policy's overdue action (flag, or non-compliant and suspended)"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

REMIND = "remind"
ESCALATE_CHAIR = "escalate_chair"
ESCALATE_OFFICER = "escalate_officer"
OVERDUE = "overdue"
STEPS = (REMIND, ESCALATE_CHAIR, ESCALATE_OFFICER, OVERDUE)


@dataclass(frozen=True)
class Schedule:
    anchor_at: datetime
    opens_at: datetime
    remind_at: datetime
    due_at: datetime
    escalate_at: datetime
    escalate_officer_at: datetime
    grace_ends_at: datetime

    def step_times(self) -> dict[str, datetime]:
        return {
            REMIND: self.remind_at,
            ESCALATE_CHAIR: self.escalate_at,
            ESCALATE_OFFICER: self.escalate_officer_at,
            OVERDUE: self.grace_ends_at,
        }


def schedule(anchor: datetime, spec: dict[str, Any]) -> Schedule:
    """The review schedule of one cadence period of a tier's policy."""
    day = timedelta(days=1)
    due = anchor + spec["review_cadence_days"] * day
    reminder = spec["review_reminder_days"] * day
    escalate = due + spec["review_escalation_days"] * day
    grace = spec["review_grace_days"]
    return Schedule(
        anchor_at=anchor,
        opens_at=max(anchor, due - 2 * reminder),
        remind_at=max(anchor, due - reminder),
        due_at=due,
        escalate_at=escalate,
        escalate_officer_at=max(escalate, escalate + math.ceil(grace / 2) * day),
        grace_ends_at=max(escalate, due + grace * day),
    )


def pending_steps(times: dict[str, datetime], done: set[str], now: datetime) -> list[str]:
    """The steps whose time has come and that were not taken, in order."""
    return [step for step in STEPS if step not in done and times[step] <= now]


def timing(*, due_at: datetime, remind_at: datetime, completed: bool, now: datetime) -> str:
    """How an open review stands now: upcoming, due (inside the reminder period) or overdue."""
    if completed:
        return "completed"
    if now > due_at:
        return "overdue"
    if now >= remind_at:
        return "due"
    return "upcoming"
