"""Unread counts per agent and case, and the lists' SLA clocks, on SQLite and PostgreSQL; the clock's rule (pure)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from handoff.core.case_reads import case_marks, mark_read
from handoff.core.customers import resolve_customer
from handoff.core.sla_clock import SlaClock, sla_clock, sla_state
from handoff.core.timeline import append_event
from handoff.inbox import views
from handoff.store.models import Case, CaseRead, utcnow
from tests.service.support.merging import Sessions, agent, case_with_events

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
TARGETS = {"whatsapp": 900, "webchat": 120}


def test_the_clock_is_ok_then_a_warning_in_its_last_quarter_then_breached() -> None:
    assert [sla_state(s, 120) for s in (120, 31, 30.5, 30, 1, 0, -5)] \
        == ["ok", "ok", "ok", "warning", "warning", "breached", "breached"]
    clock = SlaClock(NOW + timedelta(seconds=60), 120)
    assert clock.seconds_left(NOW) == 60 and clock.state(NOW) == "ok"
    assert clock.state(NOW + timedelta(seconds=31)) == "warning"
    assert clock.state(NOW.replace(tzinfo=None) + timedelta(seconds=60)) == "breached"  # SQLite's naive UTC


def test_the_clock_runs_for_people_until_an_agent_answers_since_the_handoff() -> None:
    due = NOW + timedelta(seconds=100)  # handed off 20 s ago with a 120 s target
    assert sla_clock("queued", due, 120, None) == SlaClock(due, 120)
    assert sla_clock("assigned", due.replace(tzinfo=None), 120, None) == SlaClock(due, 120)
    assert sla_clock("assigned", due, 120, NOW - timedelta(seconds=25)) == SlaClock(due, 120)  # before the handoff
    assert sla_clock("assigned", due, 120, NOW - timedelta(seconds=20)) is None  # answered at the handoff
    assert sla_clock("assigned", due, 120, NOW) is None
    assert [sla_clock(status, due, 120, None) for status in ("bot", "resolved", "abandoned")] == [None] * 3
    assert sla_clock("queued", None, 120, None) is None and sla_clock("queued", due, None, None) is None
    assert sla_clock("queued", due, 0, None) is None


async def say(sessions: Sessions, case_id: str, actor: str, text: str) -> None:
    async with sessions() as session, session.begin():
        case = await session.get(Case, case_id)
        assert case is not None
        direction = "in" if actor == "customer" else "out"
        await append_event(session, case, channel=case.channel, direction=direction, actor=actor, kind="message",
                           text=text)


async def test_unread_counts_the_customers_messages_since_each_agent_read_the_case(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        maria = await agent(session, "maria-unread", "care")
        luis = await agent(session, "luis-unread", "care")
        ana = await resolve_customer(session, "phone", "+525500001111", verified=True, display_name="Ana")
        mine = await case_with_events(session, ana, "whatsapp", "assigned", team="care", assignee=maria,
                                      texts=("hola", "¿mi reembolso?"))
        ids = (maria.id, luis.id, mine.id)
    maria_id, luis_id, case_id = ids
    await say(sessions, case_id, "bot", "Te paso con una persona")  # not the customer's: never unread

    async with sessions() as session:
        assert (await case_marks(session, maria_id, [case_id]))[case_id].unread == 2
        assert [row["unread"] for row in await views.assigned_to(session, maria_id, TARGETS)] == [2]
        assert await case_marks(session, maria_id, []) == {}
    async with sessions() as session, session.begin():
        latest = await mark_read(session, maria_id, case_id)
    async with sessions() as session:
        assert (await case_marks(session, maria_id, [case_id]))[case_id].unread == 0
        assert (await case_marks(session, luis_id, [case_id]))[case_id].unread == 2  # Luis has read nothing

    await say(sessions, case_id, "customer", "¿hola?")
    await say(sessions, case_id, f"agent:{maria_id}", "Aquí estoy")
    async with sessions() as session:
        assert (await case_marks(session, maria_id, [case_id]))[case_id].unread == 1
        assert (await case_marks(session, luis_id, [case_id]))[case_id].unread == 3

    async with sessions() as session, session.begin():  # a mark only moves forward (a late request, two tabs)
        await session.execute(update(CaseRead).where(CaseRead.agent_id == maria_id)
                              .values(last_event_id=CaseRead.last_event_id + 1000))
        assert await mark_read(session, maria_id, case_id) is not None
    async with sessions() as session:
        stored = await session.scalar(select(CaseRead.last_event_id).where(CaseRead.agent_id == maria_id))
        assert stored == (latest or 0) + 1000
        assert await mark_read(session, maria_id, "0" * 32) is None  # no events: nothing to read


async def test_the_lists_show_each_cases_sla_clock_until_a_person_answers(sessions: Sessions) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        maria = await agent(session, "maria-sla", "sla-team")
        web = await resolve_customer(session, "webchat", "visitor-sla-1")
        fresh = await case_with_events(session, web, "webchat", "queued", team="sla-team", texts=("hola",))
        late = await case_with_events(session, web, "webchat", "queued", team="sla-team", texts=("¿hay alguien?",))
        gone = await case_with_events(session, web, "webchat", "queued", team="sla-team", texts=("hola!!",))
        mine = await case_with_events(session, web, "whatsapp", "assigned", team="sla-team", assignee=maria)
        fresh.answer_due_at, fresh.queued_at = now + timedelta(seconds=100), now - timedelta(seconds=20)
        late.answer_due_at, late.queued_at = now + timedelta(seconds=20), now - timedelta(seconds=100)
        gone.answer_due_at, gone.queued_at = now - timedelta(seconds=5), now - timedelta(seconds=125)
        mine.answer_due_at, mine.queued_at = now + timedelta(seconds=800), now - timedelta(seconds=100)
        ids = {"fresh": fresh.id, "late": late.id, "gone": gone.id, "mine": mine.id, "maria": maria.id}

    async with sessions() as session:
        rows = {row["id"]: row for row in await views.queue(session, ["sla-team"], ids["maria"], TARGETS)}
        assert {name: rows[ids[name]]["sla_state"] for name in ("fresh", "late", "gone")} \
            == {"fresh": "ok", "late": "warning", "gone": "breached"}
        assert {rows[ids[name]]["sla_target_seconds"] for name in ("fresh", "late", "gone")} == {120}
        due = datetime.fromisoformat(rows[ids["late"]]["sla_due_at"].replace("Z", "+00:00"))
        assert abs((due - (now + timedelta(seconds=20))).total_seconds()) < 0.001
        untimed = await views.queue(session, ["sla-team"], ids["maria"], {})  # no target for the channel: no clock
        assert {row["sla_state"] for row in untimed} == {None}
        [assigned] = await views.assigned_to(session, ids["maria"], TARGETS)
        assert (assigned["sla_state"], assigned["sla_target_seconds"]) == ("ok", 900)

    await say(sessions, ids["mine"], f"agent:{ids['maria']}", "Hola, te ayudo")
    await say(sessions, ids["gone"], f"agent:{ids['maria']}", "Perdón la espera")
    async with sessions() as session:
        [assigned] = await views.assigned_to(session, ids["maria"], TARGETS)
        assert (assigned["sla_state"], assigned["sla_due_at"]) == (None, None)  # answered: nothing owed
        rows = {row["id"]: row for row in await views.queue(session, ["sla-team"], ids["maria"], TARGETS)}
        assert rows[ids["gone"]]["sla_state"] is None and rows[ids["late"]]["sla_state"] == "warning"
