"""Path and query parameters the routers share, typed and range-checked: a value out of range is a 422, never a 500.

Row ids are the store's BIGINT keys, so nothing past 2**63 - 1 names a row (and the driver would overflow on it);
case ids are the store's 32-character keys; days and times are kept to years a report can add a day to and
move between time zones without overflowing.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator

MAX_ROW_ID = 2**63 - 1  # PostgreSQL BIGINT, SQLite INTEGER
FIRST_YEAR, LAST_YEAR = 2000, 2199
KEY = r"^[A-Za-z0-9_-]+$"  # the store's random string ids (cases, customers, merges): at most 32 characters
MAX_NAME_CHARS = 64  # a team, channel, reason, intent or status: the store's widest such column
When = TypeVar("When", bound=date)  # a datetime is a date too


def in_years(value: When) -> When:
    """Inside FIRST_YEAR..LAST_YEAR, or a validation error (422)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


EventId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A timeline event's id")]
HandoffId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A transition's (handoff's) id")]
SampleId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="An NLU sample's id")]
SuggestionId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A merge suggestion's id")]
CallbackId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A callback's id")]
CaseId = Annotated[str, Path(min_length=1, max_length=32, pattern=KEY, description="A case's id")]
CustomerId = Annotated[str, Path(min_length=1, max_length=32, pattern=KEY, description="A customer's id")]
CommitmentId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A commitment's id")]
IntegrationId = Annotated[str, Path(min_length=1, max_length=32, pattern=KEY, description="An integration's id")]
MergeId = Annotated[str, Path(min_length=1, max_length=32, pattern=KEY, description="A merge's id")]
BeforeEvent = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="Older events: those before this id")]
BeforeId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="Older rows: those before this id")]
Day = Annotated[date, AfterValidator(in_years),
                Query(description=f"A local day, {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31")]
Moment = Annotated[Annotated[datetime, AfterValidator(in_years)] | None,
                   Query(description=f"An ISO 8601 time in the years {FIRST_YEAR} to {LAST_YEAR}")]
Name = Annotated[str | None, Query(max_length=MAX_NAME_CHARS)]
