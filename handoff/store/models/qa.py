"""Quality reviews: a reviewer's scores of one whole case against a scorecard of operations.yml."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow


class QaReview(Base):
    """One reviewer's scores of one case (scoring again replaces them; the audit log keeps each version)."""

    __tablename__ = "qa_reviews"
    __table_args__ = (
        UniqueConstraint("case_id", "reviewer_id", name="uq_qa_reviews_case_reviewer"),
        Index("ix_qa_reviews_agent_week", "agent_id", "week"),  # an agent's own scores, trends
        Index("ix_qa_reviews_week", "week"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))  # whose work is scored (None: nobody's)
    team: Mapped[str | None] = mapped_column(String(64))  # the case's team when scored, for team trends
    week: Mapped[str] = mapped_column(String(8))  # ISO week the case was handled in (operations' time zone)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    scorecard: Mapped[str] = mapped_column(String(40))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)  # criterion key → 0..scale, or null (not applicable)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # criterion key → the reviewer's comment
    comment: Mapped[str | None] = mapped_column(Text)  # about the whole conversation
    total: Mapped[float | None] = mapped_column(Float)  # core.qa.total, 0–100
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
