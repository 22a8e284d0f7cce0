"""People: agents, their logins, and the hash-chained audit log of what they did."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, new_id, utcnow


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
    phone: Mapped[str | None] = mapped_column(String(320))  # E.164 or sip:…: where the agent takes callbacks
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # deactivated agents cannot log in
    locale: Mapped[str | None] = mapped_column(String(8))  # the inbox's language (en es pt); None: the browser's
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
    # The chain covers SHA-256(salt, detail) (core/hashchain.py): an erasure empties a detail that names the
    # customer (a verified phone in a merge's evidence), removes the salt, keeps the digest
    content_salt: Mapped[str | None] = mapped_column(String(64))
    content_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class PresenceChange(Base):
    """An agent's move to online, away or offline, kept for occupancy (online time) and staffing (who was online)."""

    __tablename__ = "presence_history"
    __table_args__ = (Index("ix_presence_history_agent", "agent_id", "changed_at"),
                      Index("ix_presence_history_changed", "changed_at"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    presence: Mapped[str] = mapped_column(String(16))  # online away offline: the state from changed_at on
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
