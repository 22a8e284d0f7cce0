"""What every table shares: the declarative base, the one clock, random ids, aware UTC timestamps."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Table
from sqlalchemy.orm import DeclarativeBase

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
