"""Full-text search over customer messages and the filtered case list, on SQLite and PostgreSQL.

Before: nothing searched what customers wrote, and the inbox listed only the queue and "my cases".
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from handoff.core import message_search
from handoff.core.agents import NewAgent, create_agent
from handoff.core.case_list import BadCursor, CaseFilter, conditions, find_cases_by_id, list_cases, read_cursor
from handoff.core.case_scope import readable
from handoff.core.cases import open_case
from handoff.core.customers import resolve_contact
from handoff.core.message_search import find_messages, fts5_match, query_words, tsquery
from handoff.core.timeline import append_event
from handoff.store.db import create_engine, session_factory
from handoff.store.migrate import alembic_config, upgrade
from handoff.store.models import Case, Handoff, TimelineEvent


@dataclass(frozen=True)
class Reader:
    id: str
    role: str
    teams: tuple[str, ...]


SUPERVISOR = Reader("s1", "supervisor", ())
CARE = Reader("c1", "agent", ("care",))
FRAUD = Reader("f1", "agent", ("fraud",))
DAY = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Story:
    refund_es: str  # care: "Quiero un REEMBOLSO, me cobraron dos veces la tárjeta" then "gracias"
    refund_en: str  # care: "I want a refund to my card"
    fraud: str  # fraud: "reembolso de la tarjeta robada"
    agent_said: str  # care: only the agent wrote "reembolso tarjeta"


async def _story(sessions) -> Story:
    ids = []
    lines = [("care", "Ana Pérez", ["Quiero un REEMBOLSO, me cobraron dos veces la tárjeta", "¿me ayudan?"]),
             ("care", "John Smith", ["I want a refund to my card", "Reembolso a la tarjeta, please"]),
             ("fraud", "Luis Núñez", ["reembolso de la tarjeta robada"]),
             ("care", "Eva Ruiz", ["hola"])]
    async with sessions() as session, session.begin():
        for number, (team, name, said) in enumerate(lines):
            customer = (await resolve_contact(session, "webchat", f"visitor-{number}", display_name=name)).customer
            case = await open_case(session, customer, "webchat", follow_up_window_hours=72)
            case.team, case.status = team, "queued"
            for words in said:
                await append_event(session, case, channel="webchat", direction="in", actor="customer",
                                   kind="message", text=words)
            ids.append(case.id)
        last = await session.get_one(Case, ids[-1])
        await append_event(session, last, channel="webchat", direction="out", actor="agent:c1", kind="message",
                           text="Su reembolso a la tarjeta está en camino")
        await append_event(session, last, channel="webchat", direction="internal", actor="agent:c1", kind="note",
                           text="reembolso tarjeta pendiente")
    return Story(*ids)


async def _found(sessions, reader: Reader, query: str) -> list[str]:
    async with sessions() as session:
        return [hit["case_id"] for hit in await find_messages(session, reader, query, limit=20)]


async def test_what_customers_wrote_is_found_folded_newest_first_one_hit_a_case(sessions) -> None:
    story = await _story(sessions)
    # every word, any case and accents, each a prefix; the agent's reply and note are not customer messages
    assert await _found(sessions, SUPERVISOR, "reembolso tarjeta") == [story.fraud, story.refund_en,
                                                                       story.refund_es]
    assert await _found(sessions, SUPERVISOR, "TARJÉTA reembolsó") == [story.fraud, story.refund_en,
                                                                        story.refund_es]
    assert await _found(sessions, SUPERVISOR, "refund card") == [story.refund_en]
    assert await _found(sessions, SUPERVISOR, "reembolso tarjeta robad") == [story.fraud]  # the last as typed
    assert await _found(sessions, SUPERVISOR, "reemb tarjeta") == []  # words before it are whole words
    assert await _found(sessions, SUPERVISOR, "camino") == []  # only the agent wrote it
    assert await _found(sessions, SUPERVISOR, "pendiente") == []  # a note
    assert await _found(sessions, SUPERVISOR, "reembolso zapato") == []
    assert await _found(sessions, SUPERVISOR, "¡¿ ?!") == []
    async with sessions() as session:
        [hit] = await find_messages(session, SUPERVISOR, "refund", limit=5)
    assert hit["text"] == "I want a refund to my card" and hit["customer_name"] == "John Smith"
    assert hit["team"] == "care" and hit["status"] == "queued" and hit["channel"] == "webchat"
    async with sessions() as session:  # the latest matching message of the case stands for it
        [hit] = await find_messages(session, SUPERVISOR, "tarjeta please", limit=5)
    assert hit["text"] == "Reembolso a la tarjeta, please"


async def test_an_agent_finds_only_conversations_they_may_read(sessions) -> None:
    story = await _story(sessions)
    assert await _found(sessions, CARE, "reembolso tarjeta") == [story.refund_en, story.refund_es]
    assert await _found(sessions, FRAUD, "reembolso tarjeta") == [story.fraud]
    async with sessions() as session:
        assert len(await find_messages(session, SUPERVISOR, "reembolso", limit=2)) == 2


async def test_messages_written_later_are_indexed_as_they_are_written(sessions) -> None:
    story = await _story(sessions)
    async with sessions() as session, session.begin():
        case = await session.get_one(Case, story.agent_said)
        await append_event(session, case, channel="whatsapp", direction="in", actor="customer", kind="message",
                           text="Olvidé mi contraseña")
    assert await _found(sessions, SUPERVISOR, "contrasena olvide") == [story.agent_said]


def test_the_query_is_folded_into_the_index_syntax_of_each_database() -> None:
    assert query_words("  Reembolso, TARJÉTA reembolso  ") == ["reembolso", "tarjeta"]
    assert fts5_match(["reembolso", "tarj"]) == '"reembolso" "tarj"*'
    assert tsquery(["reembolso", "tarj"]) == "reembolso & tarj:*"
    assert query_words('"x" OR y* & !z:*') == ["x", "or", "y", "z"]  # no operator survives the fold


async def test_the_migration_indexes_the_messages_already_written(workdir: Path, database_url: str) -> None:
    """Rows written before 0012_search are found after it (a fresh database at every other head, then it)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{workdir / f'before-search-{uuid.uuid4().hex}.sqlite3'}"
    else:
        url = database_url
        engine = create_engine(url)
        async with engine.connect() as connection:  # the fixture's database is at every head: start it over
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
            await connection.commit()
        await engine.dispose()
    for head in ScriptDirectory.from_config(alembic_config(url)).get_heads():
        if head != "0012_search":
            await asyncio.to_thread(upgrade, url, head)  # Alembic runs its own event loop
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        customer = (await resolve_contact(session, "webchat", "visitor-old", display_name="Old")).customer
        case = await open_case(session, customer, "webchat", follow_up_window_hours=72)
        await append_event(session, case, channel="webchat", direction="in", actor="customer", kind="message",
                           text="Necesito el reembolso de mi tarjeta")
        await append_event(session, case, channel="webchat", direction="out", actor="bot", kind="message",
                           text="Claro, el reembolso del pedido")
    await asyncio.to_thread(upgrade, url, "heads")
    assert await _found(sessions, SUPERVISOR, "reembolso tarjeta") == [case.id]
    assert await _found(sessions, SUPERVISOR, "pedido") == []  # the business's answer is not indexed
    await engine.dispose()


# ---- the case list -------------------------------------------------------------------------------------------
async def _cases(sessions) -> list[str]:
    """12 cases a day apart (newest last): teams care/fraud/none by turns, statuses, channels, CSAT, reasons."""
    ids = []
    async with sessions() as session, session.begin():
        customer = (await resolve_contact(session, "webchat", "visitor-list", display_name="Lista")).customer
        for number in range(12):
            case = Case(customer_id=customer.id, channel=("webchat", "whatsapp", "voice")[number % 3],
                        team=("care", "fraud", None)[number % 3],
                        status=("queued", "resolved", "assigned", "resolved")[number % 4],
                        assignee_id=None, csat=(number % 5) + 1 if number % 4 in (1, 3) else None,
                        created_at=DAY + timedelta(days=number))
            session.add(case)
            await session.flush()
            session.add(Handoff(case_id=case.id, reason=("low_confidence", "customer_asked")[number % 2],
                                team=case.team))
            ids.append(case.id)
    return ids


async def _list(sessions, reader: Reader, found: CaseFilter, limit: int = 50, cursor: str | None = None):
    async with sessions() as session:
        return await list_cases(session, reader, found, limit=limit, cursor=cursor)


async def test_filters_narrow_the_list_newest_first(sessions) -> None:
    ids = await _cases(sessions)
    everything = await _list(sessions, SUPERVISOR, CaseFilter())
    assert [row["id"] for row in everything["items"]] == ids[::-1] and everything["total"] == 12
    care_queued = await _list(sessions, SUPERVISOR, CaseFilter(statuses=("queued",), teams=("care",)))
    assert [row["id"] for row in care_queued["items"]] == [ids[0]]  # care: 0 3 6 9; queued: 0 4 8
    assert (await _list(sessions, SUPERVISOR, CaseFilter(teams=("care",))))["total"] == 4
    assert [r["id"] for r in (await _list(sessions, SUPERVISOR, CaseFilter(channels=("voice",))))["items"]] == \
        [ids[11], ids[8], ids[5], ids[2]]
    window = CaseFilter(opened_from=DAY + timedelta(days=2), opened_before=DAY + timedelta(days=4))
    assert [r["id"] for r in (await _list(sessions, SUPERVISOR, window))["items"]] == [ids[3], ids[2]]
    unhappy = await _list(sessions, SUPERVISOR, CaseFilter(csat_max=2))
    assert [(r["id"], r["csat"]) for r in unhappy["items"]] == [(ids[11], 2), (ids[5], 1), (ids[1], 2)]
    asked = await _list(sessions, SUPERVISOR, CaseFilter(reasons=("customer_asked",), statuses=("resolved",)))
    assert [r["id"] for r in asked["items"]] == [ids[11], ids[9], ids[7], ids[5], ids[3], ids[1]]
    assert asked["items"][0]["reason"] == "customer_asked" and asked["items"][0]["customer_name"] == "Lista"
    assert (await _list(sessions, SUPERVISOR, CaseFilter(agent_id="nobody")))["total"] == 0


async def test_pages_follow_the_cursor_with_the_total_and_the_reading_rule(sessions) -> None:
    ids = await _cases(sessions)
    seen, cursor = [], None
    while True:
        page = await _list(sessions, CARE, CaseFilter(), limit=3, cursor=cursor)
        assert page["total"] == 8  # care's 4 and the 4 no team holds (the assistant's, open to take over)
        seen.extend(row["id"] for row in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i for n, i in enumerate(ids) if n % 3 != 1][::-1]
    assert (await _list(sessions, FRAUD, CaseFilter(teams=("care",))))["total"] == 0
    with pytest.raises(BadCursor):
        read_cursor("not-a-cursor")


async def test_a_case_is_found_by_its_id_or_the_start_of_it(sessions) -> None:
    ids = await _cases(sessions)
    async with sessions() as session:
        assert [c["id"] for c in await find_cases_by_id(session, SUPERVISOR, ids[4].upper(), limit=5)] == [ids[4]]
        assert [c["id"] for c in await find_cases_by_id(session, SUPERVISOR, ids[4][:10], limit=5)] == [ids[4]]
        assert await find_cases_by_id(session, FRAUD, ids[0], limit=5) == []  # care's
        assert await find_cases_by_id(session, SUPERVISOR, ids[4][:5], limit=5) == []  # too short to mean an id


async def test_the_index_follows_an_edited_row(sessions) -> None:
    """Timeline rows are not edited by the service; if an operator corrects one, no stale hit stays."""
    story = await _story(sessions)
    async with sessions() as session, session.begin():
        event = await session.scalar(select(TimelineEvent.id).where(TimelineEvent.case_id == story.refund_en)
                                     .order_by(TimelineEvent.id).limit(1))
        await session.execute(TimelineEvent.__table__.update().where(TimelineEvent.id == event)
                              .values(text="I want my money back"))
    assert await _found(sessions, SUPERVISOR, "refund") == []
    assert await _found(sessions, SUPERVISOR, "money back") == [story.refund_en]


async def test_the_list_reads_by_the_reading_rule_under_every_team_filter(sessions) -> None:
    """`case_list.scope` (the rule narrowed by the filter's teams) answers row for row as `case_scope.readable`."""
    ids = await _cases(sessions)
    async with sessions() as session, session.begin():
        agent = await create_agent(session, NewAgent("c@example.com", "C", "agent", ("care",), "a long password", 3),
                                   ("care", "fraud"))
        (await session.get_one(Case, ids[1])).assignee_id = agent.id  # fraud's case, assigned to a care agent
    readers = [SUPERVISOR, CARE, FRAUD, Reader(agent.id, "agent", ("care",)), Reader("b1", "agent", ("care", "fraud")),
               Reader("d1", "designer", ("care",))]
    for reader in readers:
        for teams in [(), ("care",), ("fraud",), ("care", "fraud")]:
            found = CaseFilter(teams=teams)
            async with sessions() as session:
                expected = set(await session.scalars(select(Case.id).where(*conditions(found), readable(reader))))
                listed = await list_cases(session, reader, found, limit=200)
            assert {row["id"] for row in listed["items"]} == expected and listed["total"] == len(expected), \
                (reader, teams)


async def test_the_newest_events_first_then_all_of_them(sessions, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's first look among the newest events: enough there, or everything when they hold too few."""
    story = await _story(sessions)
    monkeypatch.setattr(message_search, "RECENT_EVENTS", 3)  # the last three events: Eva's and the agent's
    async with sessions() as session:
        [newest] = await find_messages(session, SUPERVISOR, "reembolso tarjeta", limit=1)
    assert newest["case_id"] == story.fraud
    assert await _found(sessions, SUPERVISOR, "reembolso tarjeta") == [story.fraud, story.refund_en,
                                                                       story.refund_es]
    assert await _found(sessions, CARE, "hola") == [story.agent_said]
    async with sessions() as session:  # found among the newest: no second look
        assert [hit["case_id"] for hit in await find_messages(session, CARE, "hola", limit=1)] == [story.agent_said]


@pytest.mark.parametrize("typed", ['"', "'", '" OR "', "a* NEAR b", "x AND NOT y", "-tarjeta", "tar:*", "!&|()",
                                   "\\", "tarjeta'; DROP TABLE cases; --", "カード 返金", "💳 reembolso", "ǂʘ", "½ ²",
                                   "a_b", "x" * 100, "REEMBOLSO\ttarjeta\n"])
async def test_anything_typed_is_a_query_never_an_error(sessions, typed: str) -> None:
    """The search box's text reaches FTS5 and to_tsquery only as folded words: no syntax of theirs gets through."""
    story = await _story(sessions)
    async with sessions() as session:
        hits = await find_messages(session, SUPERVISOR, typed, limit=20)
    if typed.startswith("REEMBOLSO"):
        assert [hit["case_id"] for hit in hits] == [story.fraud, story.refund_en, story.refund_es]
    assert all(hit["case_id"] in vars(story).values() for hit in hits)
