"""Merges on SQLite and PostgreSQL: undo restores every row exactly, every chain verifies, evidence decides."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.customers import find_contact, resolve_customer
from handoff.core.merge_evidence import link_verified_identity, open_suggestions, weigh_told
from handoff.core.merge_rules import MergeRefused
from handoff.core.merges import merge_cases, merge_customers, undo_merge
from handoff.core.timeline import append_event, verify_case
from handoff.store.models import (
    Agent,
    Call,
    Case,
    Customer,
    Handoff,
    Identity,
    Merge,
    MergeSuggestion,
    TimelineEvent,
    utcnow,
)

SNAPSHOT = (Customer, Identity, Case, Handoff, Call, MergeSuggestion)
Sessions = async_sessionmaker[AsyncSession]


async def snapshot(sessions: Sessions) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a merge may touch, plus the events' filing (not the merge's own events)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with sessions() as session:
        for model in SNAPSHOT:
            table = model.__table__
            result = await session.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [dict(row._mapping) for row in result]
        events = await session.execute(select(TimelineEvent.id, TimelineEvent.case_id, TimelineEvent.customer_id,
                                              TimelineEvent.hash).where(TimelineEvent.kind != "merge")
                                       .order_by(TimelineEvent.id))
        rows["timeline_events"] = [dict(row._mapping) for row in events]
    return rows


async def chains_ok(sessions: Sessions) -> None:
    async with sessions() as session:
        for case_id in await session.scalars(select(Case.id)):
            check = await verify_case(session, case_id)
            assert check.ok, (case_id, check)
        assert (await audit.verify(session)).ok


async def agent(session: AsyncSession, name: str, team: str) -> Agent:
    found = Agent(email=f"{name}@example.com", display_name=name.title(), password_hash="x", teams=[team])
    session.add(found)
    await session.flush()
    return found


async def case_with_events(session: AsyncSession, customer: Customer, channel: str, status: str, *,
                           team: str | None = None, assignee: Agent | None = None, texts: tuple[str, ...] = (),
                           age_hours: int = 0) -> Case:
    case = Case(customer_id=customer.id, status=status, channel=channel, team=team,
                assignee_id=assignee.id if assignee else None, created_at=utcnow() - timedelta(hours=age_hours),
                resolved_at=utcnow() if status == "resolved" else None)
    session.add(case)
    await session.flush()
    for text in texts:
        await append_event(session, case, channel=channel, direction="in", actor="customer", kind="message", text=text)
    if status in ("queued", "assigned"):
        session.add(Handoff(case_id=case.id, reason="explicit_request", team=team,
                            agent_id=assignee.id if assignee else None, slots={"order_number": "100002"}))
    return case


async def two_customers(sessions: Sessions) -> dict[str, str]:
    """Ana on WhatsApp (two cases, one assigned) and a web visitor (two cases, one queued, a call, an email)."""
    async with sessions() as session, session.begin():
        maria = await agent(session, "maria", "care")
        luis = await agent(session, "luis", "sales")
        ana = await resolve_customer(session, "phone", "+525512345678", verified=True, verified_by="whatsapp",
                                     display_name="Ana", language="es")
        ana.facts = {"order_number": "100002"}
        visitor = await resolve_customer(session, "webchat", "visitor-1")
        session.add(Identity(customer_id=visitor.id, kind="email", value="ana@example.mx"))
        visitor.facts = {"order_number": "999999", "email": "ana@example.mx"}
        await case_with_events(session, ana, "whatsapp", "resolved", texts=("hola", "gracias"), age_hours=30)
        ana_open = await case_with_events(session, ana, "whatsapp", "assigned", team="care", assignee=maria,
                                          texts=("mi pedido",), age_hours=2)
        await case_with_events(session, visitor, "webchat", "resolved", texts=("hi",), age_hours=20)
        web_open = await case_with_events(session, visitor, "webchat", "queued", team="sales",
                                          texts=("te escribí por whatsapp",), age_hours=1)
        session.add(Call(provider="twilio", provider_call_id="CA1", case_id=web_open.id, customer_id=visitor.id,
                         direction="inbound", status="completed"))
    return {"ana": ana.id, "visitor": visitor.id, "ana_open": ana_open.id, "web_open": web_open.id,
            "maria": maria.id, "luis": luis.id}


async def test_undo_restores_every_row_of_customers_with_several_cases(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        ana, visitor = await session.get_one(Customer, ids["ana"]), await session.get_one(Customer, ids["visitor"])
        result = await merge_customers(session, ana, visitor, "agent:x", {"kind": "agent"})
    merge_id = result.merge.id
    await chains_ok(sessions)
    async with sessions() as session:
        contact = await find_contact(session, "webchat", "visitor-1")  # the absorbed customer's door finds Ana
        assert contact is not None and contact.customer.id == ids["ana"]
        assert {i.value for i in contact.identities} == {"+525512345678", "visitor-1", "ana@example.mx"}
        visitor = await session.get_one(Customer, ids["visitor"])
        assert visitor.merged_into_id == ids["ana"]
        ana = await session.get_one(Customer, ids["ana"])
        assert ana.facts == {"order_number": "100002", "email": "ana@example.mx"}  # Ana's order kept, email added
        cases = {c.id: c for c in await session.scalars(select(Case).where(Case.customer_id == ids["ana"]))}
        assert len(cases) == 4
        web_open, ana_open = cases[ids["web_open"]], cases[ids["ana_open"]]
        assert ana_open.status == "assigned"  # held by Maria: it absorbs the queued one
        assert (web_open.status, web_open.merged_into_case_id) == ("merged", ids["ana_open"])
        assert (web_open.team, web_open.assignee_id) == ("care", ids["maria"])
        events = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.customer_id == ids["ana"])))
        assert {e.case_id for e in events} == set(cases)  # the survivor's history holds both customers' events
        assert [e.text for e in events if e.kind == "merge"] == ["customers merged"] * 2
        handoff = await session.scalar(select(Handoff).where(Handoff.case_id == ids["web_open"]))
        assert handoff is not None and handoff.outcome == "merged" and handoff.ended_at is not None
        assert (await session.scalar(select(Call.customer_id))) == ids["ana"]
    async with sessions() as session, session.begin():
        undone = await undo_merge(session, merge_id, "agent:x")
    assert set(undone.case_ids) == {ids["ana_open"], ids["web_open"]}
    after = await snapshot(sessions)
    for table in before:  # row by row first: a failure names the table, the row and the columns
        for old, new in zip(before[table], after[table], strict=True):
            assert old == new, (table, old.get("id"), {key: (value, new[key]) for key, value in old.items()
                                                       if new[key] != value})
    assert after == before
    await chains_ok(sessions)
    async with sessions() as session:
        actions = [entry.action for entry in await audit.entries(session)]
        assert actions == ["merge_customers", "undo_merge"]
        with pytest.raises(MergeRefused) as refused:
            await undo_merge(session, merge_id, "agent:x")
        assert refused.value.status == 409


async def test_a_later_merge_must_be_undone_first(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        third = await resolve_customer(session, "webchat", "visitor-3")
    async with sessions() as session, session.begin():
        first = await merge_customers(session, await session.get_one(Customer, ids["ana"]),
                                      await session.get_one(Customer, ids["visitor"]), "agent:x", {})
    async with sessions() as session, session.begin():
        second = await merge_customers(session, await session.get_one(Customer, ids["ana"]),
                                       await session.get_one(Customer, third.id), "agent:x", {})
    async with sessions() as session, session.begin():
        with pytest.raises(MergeRefused) as refused:
            await undo_merge(session, first.merge.id, "agent:x")
    assert refused.value.status == 409 and second.merge.id in refused.value.message
    async with sessions() as session, session.begin():
        await undo_merge(session, second.merge.id, "agent:x")
    async with sessions() as session, session.begin():
        await undo_merge(session, first.merge.id, "agent:x")
    await chains_ok(sessions)


async def test_two_open_cases_of_one_customer_merge_and_come_apart(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        ana = await session.get_one(Customer, ids["ana"])
        second = await case_with_events(session, ana, "webchat", "bot", texts=("otra vez",))
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        kept = await session.get_one(Case, ids["ana_open"])
        result = await merge_cases(session, kept, await session.get_one(Case, second.id), "agent:x", {})
    async with sessions() as session:
        absorbed = await session.get_one(Case, second.id)
        assert (absorbed.status, absorbed.merged_into_case_id) == ("merged", ids["ana_open"])
    await chains_ok(sessions)
    async with sessions() as session, session.begin():
        with pytest.raises(MergeRefused) as refused:  # a closed case cannot be merged again
            await merge_cases(session, await session.get_one(Case, ids["ana_open"]),
                              await session.get_one(Case, second.id), "agent:x", {})
    assert refused.value.status == 409
    async with sessions() as session, session.begin():
        await undo_merge(session, result.merge.id, "agent:x")
    assert await snapshot(sessions) == before
    await chains_ok(sessions)


async def test_a_verified_identity_another_customer_owns_verified_merges_automatically(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        visitor = await session.get_one(Customer, ids["visitor"])
        continuing = await link_verified_identity(session, visitor, "phone", "+525512345678", "otp_whatsapp")
    assert continuing.id == ids["ana"]
    async with sessions() as session:
        merge = await session.scalar(select(Merge))
        assert merge is not None and (merge.actor, merge.absorbed_customer_id) == ("system", ids["visitor"])
        assert merge.evidence["verified_by"] == "otp_whatsapp"
    await chains_ok(sessions)


async def test_a_told_phone_of_someone_else_is_a_suggestion_not_a_merge(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    before = await snapshot(sessions)
    async with sessions() as session, session.begin():
        visitor = await session.get_one(Customer, ids["visitor"])
        await weigh_told(session, visitor, {"phone": "+52 55 1234 5678"})
        await weigh_told(session, visitor, {"phone": "+525512345678"})  # once per evidence
    after = await snapshot(sessions)
    assert after["customers"] == before["customers"] and after["identities"] == before["identities"]
    async with sessions() as session:
        assert await session.scalar(select(Merge)) is None
        suggestions = await open_suggestions(session, ids["ana"])
    assert [(s.evidence_kind, s.evidence_value, other.id) for s, other in suggestions] == [
        ("told_phone", "+525512345678", ids["visitor"])]


async def test_the_same_name_and_order_number_is_a_suggestion(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    async with sessions() as session, session.begin():
        other = await resolve_customer(session, "webchat", "visitor-9", display_name="  ana ")
        await weigh_told(session, other, {"order_number": "100002"})
    async with sessions() as session:
        suggestions = await open_suggestions(session, other.id)
    assert [(s.evidence_kind, found.id) for s, found in suggestions] == [("name_and_order", ids["ana"])]
