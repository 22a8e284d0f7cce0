"""Full-text search over what customers wrote, newest first, one hit per conversation, by the reading rule.

The index is the database's (store/search_index.py: SQLite FTS5, PostgreSQL a GIN index on folded words),
kept as events are written. The query is folded like the index (case, accents, punctuation), every word
must appear, the last one also as the start of a longer word, as it is being typed ("reembolso tarj" finds
"Reembolso de las tarjetas"). An agent sees a hit only on a case they may read (`case_scope.readable`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.case_scope import readable
from handoff.core.hashchain import utc_iso
from handoff.core.permissions import Reader, can, sees_all_teams
from handoff.store.models import Case, Customer, TimelineEvent
from handoff.store.search_index import FTS_TABLE, PG_FOLD, customer_message
from handoff.store.search_keys import fold

MAX_WORDS = 8
SCAN_FACTOR = 4  # hits read per conversation listed: several hits of one case count once
RECENT_EVENTS = 100_000  # PostgreSQL looks among these first (find_messages)
_FTS = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))
_EVENTS = TimelineEvent.__table__


def query_words(query: str) -> list[str]:
    """The query's words as the index holds them: folded, at most MAX_WORDS, none repeated."""
    return list(dict.fromkeys(fold(query).split()))[:MAX_WORDS]


def fts5_match(words: list[str]) -> str:
    """SQLite FTS5: every word, the last also as a prefix ('"reembolso" "tarj"*'); words are folded \\w only."""
    return " ".join(f'"{word}"' for word in words) + "*"


def tsquery(words: list[str]) -> str:
    """PostgreSQL to_tsquery: every word, the last also as a prefix ('reembolso & tarj:*')."""
    return " & ".join(words) + ":*"


def _matching(dialect: str, words: list[str]) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]]:
    """The timeline joined to what finds its matches, the condition, and newest first, for this database."""
    if dialect == "sqlite":
        return (_FTS.join(_EVENTS, _EVENTS.c.id == _FTS.c.rowid), _FTS.c[FTS_TABLE].match(fts5_match(words)),
                _FTS.c.rowid.desc())
    # The index's expression and predicate, literally: a bound value would not match a partial GIN index
    simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
    document = func.to_tsvector(simple, getattr(func, PG_FOLD)(_EVENTS.c.text))
    condition = and_(text(customer_message(_EVENTS.name)),
                     document.op("@@")(func.to_tsquery(simple, tsquery(words))))
    # Newest first by `id + 0`: ordered by the primary key itself, PostgreSQL would walk it backwards testing every
    # row's words (seconds for a common word) instead of reading the matches from the GIN index
    return _EVENTS, condition, (_EVENTS.c.id + 0).desc()


async def find_messages(session: AsyncSession, reader: Reader, query: str, *, limit: int) -> list[dict[str, Any]]:
    """The conversations whose customer wrote every word of the query, the latest such message of each.

    PostgreSQL reads the GIN index's matches as a bitmap, not in order: a common word matches tens of thousands
    of events, each fetched to be sorted. So it looks among the newest RECENT_EVENTS first (the bitmap ANDed with
    the primary key's range) and reads them all only when those held too few conversations."""
    words = query_words(query)
    if not words:
        return []
    dialect = session.get_bind().dialect.name
    if dialect != "sqlite":  # FTS5 hands its matches over newest first: it stops at the limit by itself
        newest = await session.scalar(select(func.max(_EVENTS.c.id)))
        if newest is not None and newest > RECENT_EVENTS:
            hits = await _hits(session, _statement(dialect, words, reader, limit, newest - RECENT_EVENTS), limit)
            if len(hits) == limit:
                return hits
    return await _hits(session, _statement(dialect, words, reader, limit, None), limit)


def _statement(dialect: str, words: list[str], reader: Reader, limit: int, after_id: int | None) -> Select[Any]:
    """The matching customer messages (after that event id, when given) with their cases and customers."""
    source, condition, newest = _matching(dialect, words)
    if after_id is not None:
        condition = and_(condition, _EVENTS.c.id > after_id)
    columns = (_EVENTS.c.id, _EVENTS.c.case_id, _EVENTS.c.customer_id, _EVENTS.c.channel, _EVENTS.c.text,
               _EVENTS.c.created_at, Case.status, Case.team, Case.merged_into_case_id, Customer.display_name)
    if can(reader.role, "inbox") and sees_all_teams(reader.role):
        # every case is readable: the newest matches first, then the cases and customers of those alone
        latest = (select(_EVENTS.c.id.label("hit")).select_from(source).where(condition).order_by(newest)
                  .limit(limit * SCAN_FACTOR).subquery())
        source = _EVENTS.join(latest, latest.c.hit == _EVENTS.c.id)
        condition, newest = true(), _EVENTS.c.id.desc()
    return (select(*columns)
            .select_from(source.join(Case, Case.id == _EVENTS.c.case_id)
                         .join(Customer, Customer.id == _EVENTS.c.customer_id))
            .where(condition, readable(reader)).order_by(newest).limit(limit * SCAN_FACTOR))


async def _hits(session: AsyncSession, statement: Select[Any], limit: int) -> list[dict[str, Any]]:
    """One hit per case, the newest, up to `limit`."""
    hits: dict[str, dict[str, Any]] = {}
    for row in await session.execute(statement):
        if row.case_id in hits:
            continue
        hits[row.case_id] = {"case_id": row.case_id, "customer_id": row.customer_id,
                             "customer_name": row.display_name, "status": row.status, "team": row.team,
                             "merged_into_case_id": row.merged_into_case_id, "channel": row.channel,
                             "event_id": row.id, "text": row.text, "created_at": utc_iso(row.created_at)}
        if len(hits) == limit:
            break
    return list(hits.values())
