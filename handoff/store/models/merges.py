"""Reversible merges of customers or open cases, and unverified evidence suggesting one."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, BigIntId, new_id, utcnow


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
