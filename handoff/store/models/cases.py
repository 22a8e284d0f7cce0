"""A customer's conversation: cases, the hash-chained timeline, and every bot-human transition."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, new_id, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_customer_status", "customer_id", "status"),
        Index("ix_cases_queue", "status", "team", "priority", "queued_at"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_created", "created_at"),  # the dashboard reads a date range
        Index("ix_cases_customer_created", "customer_id", "created_at"),  # recontacts within the follow-up window
        Index("ix_cases_kept", "status", "kept_until"),  # the opening pass finds the cases kept for it
        Index("ix_cases_team_status_created", "team", "status", "created_at"),  # the case list, newest first
        Index("ix_cases_status_created", "status", "created_at"),  # … for every team
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot queued assigned resolved abandoned
    channel: Mapped[str] = mapped_column(String(16))  # the customer's latest channel
    language: Mapped[str | None] = mapped_column(String(8))
    team: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    handoff_count: Mapped[int] = mapped_column(Integer, default=0)
    first_response_due_at: Mapped[datetime | None]
    answer_due_at: Mapped[datetime | None]
    csat: Mapped[int | None] = mapped_column(Integer)
    disposition: Mapped[str | None] = mapped_column(String(64))
    previous_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    merged_into_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))  # status "merged": continues there
    queued_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_customer_message_at: Mapped[datetime | None]
    csat_requested_at: Mapped[datetime | None]  # the CSAT question went out; the answer may come later
    # An abandoned website chat was looked at for recovery on WhatsApp (core/recovery.py): sent or skipped, once
    # per silence of the customer (a later customer message makes a new abandonment possible)
    recovery_claimed_at: Mapped[datetime | None]
    reask_turns: Mapped[int] = mapped_column(Integer, default=0)  # the assistant asked for a fact already known
    held_for_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))  # a follow-up queued for its agent…
    held_until: Mapped[datetime | None]  # … until then; afterwards any agent of the team
    kept_until: Mapped[datetime | None]  # handed off after hours: kept (queued, routed to no one) for this opening…
    opened_at: Mapped[datetime | None]  # … until the opening pass routed it (core/opening.py), once
    proactive: Mapped[bool] = mapped_column(default=False)  # opened by a notification (core/notifications.py)
    # The last notification sent on the case, as the assistant reads it (core/notification_content.py): template,
    # values by name, how it went; passed in every turn's metadata
    notified: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TimelineEvent(Base):
    """Append-only: rows are inserted, never updated, except the delivery status of outbound messages and an
    erasure (core/erasure.py: the content and its salt removed, the digest kept)."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_timeline_case_seq"),
        UniqueConstraint("channel", "provider_id", name="uq_timeline_channel_provider_id"),
        Index("ix_timeline_customer_created", "customer_id", "created_at"),
        Index("ix_timeline_customer_id", "customer_id", "id"),  # the inbox pages a customer's history by id
        Index("ix_timeline_case_created", "case_id", "created_at"),  # first agent reply after a handoff
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    seq: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))  # in, out, internal
    actor: Mapped[str] = mapped_column(String(64))  # customer, bot, system, agent:<id>
    kind: Mapped[str] = mapped_column(String(16))  # message call note handoff assignment status delivery csat
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The chain covers SHA-256(salt, text, payload), not the content (core/hashchain.py): an erasure deletes the
    # text, the payload and the salt, keeps the digest, and every chain still verifies
    content_salt: Mapped[str | None] = mapped_column(String(64))
    content_digest: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Handoff(Base):
    """Every bot-to-human and human-to-bot transition, each its own row."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16), default="to_human")  # to_human, to_bot
    reason: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(64))
    bot_turns: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))  # resolved returned_to_bot transferred abandoned
    review_tag: Mapped[str | None] = mapped_column(String(32))
    review_note: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))  # the routing policy's: assign hold queue overflow …
    decision_reason: Mapped[str | None] = mapped_column(String(32))  # … and why (core/routing_policy.py REASONS)
    # Overflow (core/overflow.py): the choices offered to the customer, when, and the one answer they gave.
    overflow_offers: Mapped[list[str] | None] = mapped_column(JSON)
    overflow_offered_at: Mapped[datetime | None]
    overflow_choice: Mapped[str | None] = mapped_column(String(16))  # wait whatsapp callback assistant
    overflow_chosen_at: Mapped[datetime | None]
