"""The full-text index over customer messages, kept by the database itself as timeline events are written.

SQLite: an FTS5 table over `timeline_events.text` (external content, so the text is not stored twice) with
`unicode61 remove_diacritics 2` (case and accents folded), filled by triggers on insert, update and delete.
PostgreSQL: a GIN index on `to_tsvector('simple', search_fold(text))`, `search_fold` being an immutable SQL
function (lower case, accents off by `translate`: no extension needed), partial on customer messages.
Either way only customer messages (`direction = 'in'`, `kind = 'message'`) are indexed, and the query's words
are folded the same way in Python (`search_keys.fold`), so "REEMBOLSO tarjéta" finds "reembolso Tarjeta".
"""
from __future__ import annotations

import unicodedata
from typing import Any

from handoff.store.search_keys import fold

FTS_TABLE = "timeline_search"  # SQLite's FTS5 table; its shadow tables are named after it
PG_INDEX = "ix_timeline_search"
PG_FOLD = "search_fold"
CUSTOMER_MESSAGE = "direction = 'in' AND kind = 'message' AND text IS NOT NULL"


def _accent_map() -> tuple[str, str]:
    """Each Latin letter with a diacritic (either case) and the one ASCII letter `fold` turns it into."""
    source, target = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        folded = fold(char)
        if len(folded) == 1 and folded.isascii() and folded.isalpha() and folded != char \
                and unicodedata.category(char).startswith("L"):
            source.append(char)
            target.append(folded)
    return "".join(source), "".join(target)


ACCENTED, PLAIN = _accent_map()


def customer_message(prefix: str) -> str:
    """CUSTOMER_MESSAGE on a named row or table."""
    return f"{prefix}.direction = 'in' AND {prefix}.kind = 'message' AND {prefix}.text IS NOT NULL"


SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(text, content='timeline_events', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON timeline_events WHEN {customer_message('new')} BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON timeline_events WHEN {customer_message('old')} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER {FTS_TABLE}_update_old AFTER UPDATE OF text, direction, kind ON timeline_events "
    f"WHEN {customer_message('old')} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER {FTS_TABLE}_update_new AFTER UPDATE OF text, direction, kind ON timeline_events "
    f"WHEN {customer_message('new')} BEGIN INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END",
    # the rows already written
    f"INSERT INTO {FTS_TABLE}(rowid, text) SELECT id, text FROM timeline_events WHERE {CUSTOMER_MESSAGE}",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}" for name in ("insert", "delete", "update_old",
                                                                        "update_new")] + [
    f"DROP TABLE IF EXISTS {FTS_TABLE}"]

PG_UP = [
    f"CREATE FUNCTION {PG_FOLD}(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
    f"AS $$ SELECT translate(lower(value), '{ACCENTED}', '{PLAIN}') $$",
    # built here for the rows already written, kept by PostgreSQL on every insert
    f"CREATE INDEX {PG_INDEX} ON timeline_events USING gin (to_tsvector('simple'::regconfig, {PG_FOLD}(text))) "
    f"WHERE {CUSTOMER_MESSAGE}",
]
PG_DOWN = [f"DROP INDEX IF EXISTS {PG_INDEX}", f"DROP FUNCTION IF EXISTS {PG_FOLD}(text)"]


def ddl(dialect: str, *, up: bool) -> list[str]:
    """The statements that build (or drop) the index on this database."""
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if dialect == "postgresql":
        return PG_UP if up else PG_DOWN
    raise ValueError(f"no full-text index for {dialect}")


def in_models(name: str | None, type_: str, _parents: Any) -> bool:
    """Alembic's `include_name`: the FTS5 table and its shadow tables, and the GIN expression index, are the
    migration's, not the models' (autogenerate and the schema test compare everything else)."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name == PG_INDEX)
