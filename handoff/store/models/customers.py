"""Customers, the keys agents find them by (kept by mapper events), their identities and one-time codes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from handoff.store.models.base import Base, BigIntId, new_id, utcnow
from handoff.store.search_keys import fact_keys, name_keys


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    display_name: Mapped[str | None] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(64))  # a WhatsApp username (the number may be hidden)
    language: Mapped[str | None] = mapped_column(String(8))
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # told on one channel, known on all
    # The open promises of all the customer's cases (id, text, due_at), kept by core.commitments with every write
    # and merge, so the assistant's metadata needs no read of its own on a turn. None: nothing open.
    open_commitments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # "stop"/"baja" on WhatsApp, or an agent: no message the service starts goes there (core/consent.py)
    whatsapp_opted_out_at: Mapped[datetime | None]
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
