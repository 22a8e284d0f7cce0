"""What each agent has read of each case: the unread count of the lists is the customer's messages after it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, utcnow


class CaseRead(Base):
    """One row per agent and case, moved forward (never back) when the agent opens the case or sees it live."""

    __tablename__ = "case_reads"

    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger)  # the case's latest timeline event when read
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
