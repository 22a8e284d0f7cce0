"""Other systems that call the service (API tokens with scopes) and that it tells what happened (webhooks)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models.base import Base, new_id, utcnow


class Integration(Base):
    """One integration: its token (only its SHA-256 kept), scopes, and where its webhooks go."""

    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    token_hint: Mapped[str] = mapped_column(String(16))  # the token's first characters, to tell tokens apart
    created_by: Mapped[str] = mapped_column(String(64))  # "cli" or the admin's agent id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The webhook secret is derived from the service's SECRET_KEY and this number (never stored); +1 rotates it.
    secret_generation: Mapped[int] = mapped_column(Integer, default=1)
