"""The rows KPIs are computed from: plain values read once from the store, so the arithmetic stays pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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

    @property
    def to_human(self) -> tuple[HandoffFact, ...]:
        """The bot-to-human (and human-to-human transfer) transitions."""
        return tuple(h for h in self.handoffs if h.direction == "to_human")

    @property
    def assisted(self) -> bool:
        """A person was asked to take part at least once."""
        return bool(self.to_human)
