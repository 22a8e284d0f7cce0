"""Callbacks: a customer asked to be called back in a time window; an agent places the call from the inbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow


class Callback(Base):
    """One requested callback: the team's queued task until placed; its outcome is a call on the timeline."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_status_team_window", "status", "team", "window_start"),  # the team's due callbacks
        Index("ix_callbacks_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    phone: Mapped[str] = mapped_column(String(32))  # E.164, the number the customer asked to be called at
    window_start: Mapped[datetime]  # UTC: the customer's preferred window
    window_end: Mapped[datetime]
    team: Mapped[str | None] = mapped_column(String(64))  # whose queued task it is
    # requested placing answered no_answer busy failed cancelled
    status: Mapped[str] = mapped_column(String(16), default="requested")
    requested_by: Mapped[str] = mapped_column(String(16))  # customer agent system
    requested_by_agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))  # who placed it (last attempt)
    provider_call_id: Mapped[str | None] = mapped_column(String(128))  # the provider's id of the placed call
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    placed_at: Mapped[datetime | None]
    bridged_at: Mapped[datetime | None]  # the agent answered and the customer was dialed
    ended_at: Mapped[datetime | None]
    missed_message: Mapped[str | None] = mapped_column(String(16))  # unanswered: WhatsApp sent, skipped, failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
