"""Signed audit checkpoints: a chain's head (a case's timeline, or the audit log) signed with the service's
Ed25519 key (core/checkpoints.py), so rewriting a chain end to end inside the database shows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, utcnow


class AuditCheckpoint(Base):
    """Insert-only. The signature covers (chain, seq, hash, signed_at); the private key is never stored."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_chain_seq", "chain", "seq"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(32))  # a case id, or "audit_log"
    seq: Mapped[int] = mapped_column(Integer)  # the chain's last event when signed
    hash: Mapped[str] = mapped_column(String(64))  # … and its hash
    signed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    key_id: Mapped[str] = mapped_column(String(16))  # SHA-256 of the raw public key, first 16 hex digits
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, base64
