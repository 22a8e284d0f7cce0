"""Provider traffic: webhooks as received (and their refused parts), the outbox, turns the assistant owes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow


class Outbox(Base):
    """Every outbound provider message until the provider accepted it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),
                      # an integration's webhook deliveries, newest first (the admins' delivery log)
                      Index("ix_outbox_channel_recipient", "channel", "recipient", "id"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_events.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sending sent failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), index=True)  # statuses find rows by it
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundWebhook(Base):
    """A provider's webhook body as received: stored before it is acknowledged, processed after."""

    __tablename__ = "inbound_webhooks"
    __table_args__ = (Index("ix_inbound_webhooks_unprocessed", "channel", "processed_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the exact signed bytes
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed processing attempts
    last_error: Mapped[str | None] = mapped_column(Text)
    # A worker's lease on processing it (core.claims): the accepting worker holds it from the insert; another
    # takes the row once it has lapsed (that worker died), a failed one waits it out before its retry.
    claimed_until: Mapped[datetime | None]


class RefusedWebhookItem(Base):
    """One part of a signed webhook batch that failed its schema: kept for operators while the rest is processed."""

    __tablename__ = "refused_webhook_items"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("inbound_webhooks.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(200))  # where in the body, e.g. entry[0].changes[0].value.messages[1]
    error: Mapped[str] = mapped_column(Text)  # why, field by field
    raw: Mapped[str] = mapped_column(Text)  # the item's JSON, cut to a few KB
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PendingTurn(Base):
    """A stored customer message the bot has not answered yet; replayed after a crash or restart."""

    __tablename__ = "pending_turns"

    event_id: Mapped[int] = mapped_column(ForeignKey("timeline_events.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))  # where the answer goes: webchat session, WhatsApp number, ...
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The receiving worker's lease on the turn (core.claims); once it lapses another worker replays the turn.
    claimed_until: Mapped[datetime | None]
