"""Messages other systems ask the service to send first (POST /api/v1/notifications), one row per request."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, new_id, utcnow


class Notification(Base):
    """A notification: who asked (integration, idempotency key), to whom, what, and where it stands."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("integration_id", "idempotency_key", name="uq_notifications_idempotency"),
        Index("ix_notifications_status_due", "status", "due_at"),  # the release loop finds held ones
        Index("ix_notifications_customer_sent", "customer_id", "sent_at"),  # the daily cap
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    integration_id: Mapped[str] = mapped_column(ForeignKey("integrations.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    template: Mapped[str | None] = mapped_column(String(100))  # None: free text only (detail["text"])
    language: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued held sent refused
    reason: Mapped[str | None] = mapped_column(Text)  # why it is held or refused
    due_at: Mapped[datetime] = mapped_column(default=utcnow)  # not sent before (send_after, quiet hours)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # the sent message's timeline event: its delivery status is the notification's
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
