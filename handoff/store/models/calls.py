"""Phone calls of any provider or PBX."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow


class Call(Base):
    """One phone call (any provider or PBX): state, recording and transcript; each change is also a timeline event."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("provider", "provider_call_id", name="uq_calls_provider_call_id"),
        Index("ix_calls_customer_started", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))  # twilio, pbx
    provider_call_id: Mapped[str] = mapped_column(String(128))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    direction: Mapped[str] = mapped_column(String(16))  # inbound, outbound
    from_number: Mapped[str | None] = mapped_column(String(64))
    to_number: Mapped[str | None] = mapped_column(String(64))
    # ringing in-progress queued completed busy no-answer canceled failed abandoned
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))  # the locale the assistant speaks and listens in
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]  # waiting for a person since
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recording_url: Mapped[str | None] = mapped_column(Text)
    recording_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    agent_name: Mapped[str | None] = mapped_column(String(200))  # who took it, also when not one of our agents
    silences: Mapped[int] = mapped_column(Integer, default=0)  # the voice assistant's unanswered prompts in a row
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # numbered choices read out: DTMF map
    recovery: Mapped[str | None] = mapped_column(String(16))  # missed-call WhatsApp follow-up: sent, failed, skipped
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
