"""The rows KPIs are computed from: facts of single cases (held in memory) and the sums per cell the store returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

BOT_ONLY = "(bot)"  # the team and intent key of cases no person was asked to join
TRANSFER = "transfer"  # the reason of a transition from people to people: not the assistant giving up
Day = tuple[str, datetime, datetime]  # a local date, its first instant and the first instant after it (UTC)


@dataclass(frozen=True)
class HandoffFact:
    """One transition row, with the first agent message after it (looked up from the timeline)."""

    direction: str  # to_human, to_bot
    reason: str
    intent: str | None
    team: str | None
    bot_turns: int
    queued_at: datetime
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    first_response_at: datetime | None = None
    decision: str | None = None  # the routing policy's (overflow: the customer was offered the ways out)
    overflow_choice: str | None = None  # what the overflowed customer chose: wait whatsapp callback assistant
    agent_id: str | None = None  # who took it (occupancy's handle time)


@dataclass(frozen=True)
class CaseFact:
    """One case with its transitions in order."""

    id: str
    customer_id: str
    channel: str
    status: str
    created_at: datetime
    resolved_at: datetime | None = None
    csat: int | None = None
    handoffs: tuple[HandoffFact, ...] = field(default_factory=tuple)
    reask_turns: int = 0  # turns in which the assistant asked for a fact the customer had already given
    merged_into: str | None = None  # the case its conversation continues on (cases.merged_into_case_id)
    fallbacks: int = 0  # customer messages the assistant did not understand (nlu_samples of source nlu_fallback)
    last_customer_at: datetime | None = None  # the customer's latest message (cases.last_customer_message_at)
    inbound_channels: int = 1  # channels the customer wrote or called on within the case

    @property
    def to_human(self) -> tuple[HandoffFact, ...]:
        """The bot-to-human (and human-to-human transfer) transitions."""
        return tuple(h for h in self.handoffs if h.direction == "to_human")


class Cell(NamedTuple):
    """Sums for one (local day, channel, team, intent, reason): every KPI is a ratio or mean of these.

    A case's own counts sit on the cell of its first transition to people (reason None when it had none);
    each transition to people counts on the cell of its reason. Durations are whole microseconds."""

    day: str
    channel: str
    team: str
    intent: str
    reason: str | None
    cases: int = 0
    assisted: int = 0
    resolved: int = 0
    fcr: int = 0
    recontacts: int = 0
    csat_bot_sum: int = 0
    csat_bot_responses: int = 0
    csat_assisted_sum: int = 0
    csat_assisted_responses: int = 0
    reasked: int = 0  # cases with at least one re-ask
    handoffs: int = 0  # bot to people, transfers excluded
    bot_turns: int = 0
    bot_us: int = 0
    waits: int = 0  # accepted transitions to people, transfers included
    wait_us: int = 0
    queue_done: int = 0  # accepted or abandoned unaccepted
    abandoned: int = 0
    responses: int = 0
    response_us: int = 0
    handled: int = 0
    handle_us: int = 0
    sla_checks: int = 0
    sla_met: int = 0
    overflowed: int = 0  # bot to people whose routing decision was overflow (wait over target, nobody online)
    chose_wait: int = 0  # … and what the customer chose (none of these: they did not answer)
    chose_whatsapp: int = 0
    chose_callback: int = 0
    chose_assistant: int = 0


CELL_KEY = Cell._fields[:5]
CELL_SUMS = Cell._fields[5:]
OVERFLOW = "overflow"  # handoffs.decision of an overflowed handoff (core/routing_policy.py)
OVERFLOW_CHOICES = ("wait", "whatsapp", "callback", "assistant")  # handoffs.overflow_choice

# What became of a promise due in the period, at the time of the report (measures.commitment_outcome).
COMMITMENT_OUTCOMES = ("kept_on_time", "kept_late", "broken", "overdue", "pending")
