"""The data model of DESIGN.md: one customer, one conversation, many doors."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from handoff.store.search_keys import fact_keys, name_keys

# SQLite only auto-increments INTEGER PRIMARY KEY, PostgreSQL wants BIGINT for an event log.
BigIntId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    """Timezone-aware UTC with microseconds, the only clock the timeline uses."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """Random ids: they appear in URLs and as Rasa sender ids, so they must not be guessable."""
    return uuid.uuid4().hex


class UTCDateTime(DateTime):
    """Stored with time zone where the database supports it."""

    def __init__(self) -> None:
        super().__init__(timezone=True)


class Base(DeclarativeBase):
    # Every model is declared with __tablename__, so it maps a Table (DeclarativeBase allows any FromClause).
    __table__: ClassVar[Table]
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    display_name: Mapped[str | None] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(64))  # a WhatsApp username (the number may be hidden)
    language: Mapped[str | None] = mapped_column(String(8))
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # told on one channel, known on all
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerKey(Base):
    """A key agents find a customer by: a word of the name (folded), an order number, a told email or phone.

    Kept by the mapper events below whenever a customer's name or facts change; order numbers, emails and
    phones once learnt stay (an older order still finds its customer), name keys follow the name.
    """

    __tablename__ = "customer_keys"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "value", name="uq_customer_keys"),
        Index("ix_customer_keys_lookup", "kind", "value", "customer_id"),  # prefix ranges come out in order
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # name order email phone
    # Byte order on PostgreSQL, as on SQLite: a prefix is then one index range under any database locale.
    value: Mapped[str] = mapped_column(String(120).with_variant(String(120, collation="C"), "postgresql"))


_KEYS = CustomerKey.__table__


def _keep_keys(connection: Connection, customer: Customer, *, created: bool) -> None:
    """Rewrites the name keys when the name changed and adds the keys of newly learnt facts."""
    state = inspect(customer)
    if created or state.attrs.display_name.history.has_changes():
        connection.execute(delete(_KEYS).where(_KEYS.c.customer_id == customer.id, _KEYS.c.kind == "name"))
        names = [{"customer_id": customer.id, "kind": "name", "value": key}
                 for key in dict.fromkeys(name_keys(customer.display_name))]
        if names:
            connection.execute(insert(_KEYS), names)
    if created or state.attrs.facts.history.has_changes():
        wanted = fact_keys(customer.facts)
        if wanted and not created:
            wanted -= set(connection.execute(select(_KEYS.c.kind, _KEYS.c.value).where(
                _KEYS.c.customer_id == customer.id, _KEYS.c.kind != "name")).tuples())
        if wanted:
            connection.execute(insert(_KEYS), [{"customer_id": customer.id, "kind": kind, "value": value}
                                               for kind, value in sorted(wanted)])


@event.listens_for(Customer, "after_insert")
def _customer_created(mapper: Mapper[Customer], connection: Connection, customer: Customer) -> None:
    _keep_keys(connection, customer, created=True)


@event.listens_for(Customer, "after_update")
def _customer_changed(mapper: Mapper[Customer], connection: Connection, customer: Customer) -> None:
    _keep_keys(connection, customer, created=False)


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identity_kind_value"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # phone, email, whatsapp, whatsapp_bsuid, webchat, crm
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by: Mapped[str | None] = mapped_column(String(32))  # whatsapp, caller_id, agent, ...
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_customer_status", "customer_id", "status"),
        Index("ix_cases_queue", "status", "team", "priority", "queued_at"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_created", "created_at"),  # the dashboard reads a date range
        Index("ix_cases_customer_created", "customer_id", "created_at"),  # recontacts within the follow-up window
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
    reask_turns: Mapped[int] = mapped_column(Integer, default=0)  # the assistant asked for a fact already known
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Merge(Base):
    """Two customers, or two open cases of one, made one: exactly what moved, so an undo restores the state before."""

    __tablename__ = "merges"
    __table_args__ = (
        Index("ix_merges_survivor", "survivor_customer_id", "created_at"),
        Index("ix_merges_absorbed", "absorbed_customer_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # customers, cases
    survivor_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    absorbed_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))  # the survivor for a case merge
    kept_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))  # open cases combined: this one stays
    absorbed_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    actor: Mapped[str] = mapped_column(String(64))  # agent:<id>, system
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # why: the verified identity, a suggestion
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # core.merges.Moved as JSON: what undo restores
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(64))


class MergeSuggestion(Base):
    """Unverified evidence that two customers are one person: shown to agents, never merged on its own."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (
        UniqueConstraint("customer_id", "other_customer_id", "evidence_kind", "evidence_value",
                         name="uq_merge_suggestion_evidence"),
        Index("ix_merge_suggestions_other", "other_customer_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))  # who gave the evidence
    other_customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))  # whom it points at
    evidence_kind: Mapped[str] = mapped_column(String(32))  # told_phone, told_email, name_and_order
    evidence_value: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open dismissed accepted
    merge_id: Mapped[str | None] = mapped_column(String(32))  # the merge that accepted it
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VerificationCode(Base):
    """A one-time code sent to a phone to prove a visitor owns it: only its keyed hash is kept, never the code."""

    __tablename__ = "verification_codes"
    __table_args__ = (
        Index("ix_verification_codes_session", "session_key", "created_at"),
        Index("ix_verification_codes_identity", "identity_kind", "identity_value", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_key: Mapped[str] = mapped_column(String(128))  # the conversation the code may be typed in
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))  # who asked (the visitor)
    identity_kind: Mapped[str] = mapped_column(String(16))  # phone
    identity_value: Mapped[str] = mapped_column(String(320))  # normalized (E.164)
    channel: Mapped[str] = mapped_column(String(16))  # how it was delivered: whatsapp, voice
    code_hash: Mapped[bytes] = mapped_column(LargeBinary)  # HMAC-SHA256(secret key, id + code)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending verified failed expired superseded …
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class TimelineEvent(Base):
    """Append-only: rows are inserted, never updated, except the delivery status of outbound messages."""

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


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")  # agent supervisor designer admin
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    presence: Mapped[str] = mapped_column(String(16), default="offline")  # online away offline
    last_seen_at: Mapped[datetime | None]
    last_assigned_at: Mapped[datetime | None]  # routing prefers the agent idle the longest
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # deactivated agents cannot log in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    """A login: the cookie carries a signed token whose SHA-256 is the id, so a database leak logs no one in."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only, hash-chained record of everything a person did (handoff/audit.py is the only writer)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    actor: Mapped[str] = mapped_column(String(64))  # agent:<id>, cli, system
    action: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Outbox(Base):
    """Every outbound provider message until the provider accepted it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

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
