"""What an agent promised a customer on a case, with its due time: the next agent, the assistant and supervisors see it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow

MAX_COMMITMENT_CHARS = 500


class Commitment(Base):
    """One promise: open until kept or broken; open past `due_at` is overdue (computed, never stored)."""

    __tablename__ = "commitments"
    __table_args__ = (
        Index("ix_commitments_case", "case_id"),
        Index("ix_commitments_customer_status", "customer_id", "status"),
        Index("ix_commitments_status_due", "status", "due_at"),  # due alerts, overdue lists, the dashboard
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))  # when promised; reads follow the case
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))  # who promised
    text: Mapped[str] = mapped_column(String(MAX_COMMITMENT_CHARS))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open kept broken
    kept_at: Mapped[datetime | None]  # when it was marked kept (or broken)
    settled_by: Mapped[str | None] = mapped_column(String(64))  # actor who marked it kept or broken
    alerted_at: Mapped[datetime | None]  # the due alert was sent (claimed once)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
