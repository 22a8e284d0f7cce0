"""The SLA clock a case shows in the agents' lists (pure): what a person owes the customer, by when, how close.

From the handoff to people the customer is owed a person's answer within the channel's `sla.answer`
(`cases.answer_due_at`, set by `handoffs.open_handoff`); the clock stops at the first agent message since then.
The inbox's `sla.js` applies the same thresholds as the seconds run, so the color changes without a reload.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

SlaState = Literal["ok", "warning", "breached"]
WARNING_SHARE = 0.25  # the last quarter of the target is a warning
CLOCKED = ("queued", "assigned")


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; everything here compares aware datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class SlaClock:
    due_at: datetime
    target_seconds: int

    def seconds_left(self, now: datetime) -> float:
        return (aware(self.due_at) - aware(now)).total_seconds()

    def state(self, now: datetime) -> SlaState:
        return sla_state(self.seconds_left(now), self.target_seconds)


def sla_state(seconds_left: float, target_seconds: int) -> SlaState:
    """Breached once the due time passed; a warning in the target's last quarter; ok before."""
    if seconds_left <= 0:
        return "breached"
    if seconds_left <= target_seconds * WARNING_SHARE:
        return "warning"
    return "ok"


def sla_clock(status: str, answer_due_at: datetime | None, answer_seconds: int | None,
              last_agent_message_at: datetime | None) -> SlaClock | None:
    """The running clock, or None: not with people, no target for the channel, or a person already answered."""
    if status not in CLOCKED or answer_due_at is None or not answer_seconds or answer_seconds <= 0:
        return None
    owed_since = aware(answer_due_at) - timedelta(seconds=answer_seconds)
    if last_agent_message_at is not None and aware(last_agent_message_at) >= owed_since:
        return None
    return SlaClock(aware(answer_due_at), answer_seconds)
