"""The designers' loop: misunderstood utterances to label, and how far the harvester has read."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow


class NluSample(Base):
    """A customer utterance the assistant misunderstood (or a supervisor flagged), for designers to label."""

    __tablename__ = "nlu_samples"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_nlu_samples_source_event"),
        Index("ix_nlu_samples_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # the customer's message on the timeline
    handoff_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(24))  # nlu_fallback low_confidence review
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    predicted_intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    review_tag: Mapped[str | None] = mapped_column(String(32))  # the supervisor's verdict, for review samples
    status: Mapped[str] = mapped_column(String(16), default="open")  # open annotated dismissed exported
    intent: Mapped[str | None] = mapped_column(String(64))  # what the designer says it was
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluHarvestMark(Base):
    """How far the designers' harvester has read the assistant's timeline events (by id), so each is read once."""

    __tablename__ = "nlu_harvest_marks"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]  # the harvesting worker's lease: one harvester at a time (core.claims)
