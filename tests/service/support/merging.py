"""Customers with several cases, identities, facts, calls and assignments, and what a merge must leave as it was."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.customers import resolve_customer
from handoff.core.timeline import append_event, verify_case
from handoff.store.db import create_engine, session_factory
from handoff.store.models import (
    Agent,
    Call,
    Case,
    Customer,
    CustomerKey,
    Handoff,
    Identity,
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
        keys = await session.execute(select(CustomerKey.customer_id, CustomerKey.kind, CustomerKey.value)
                                     .order_by(CustomerKey.customer_id, CustomerKey.kind, CustomerKey.value))
        rows["customer_keys"] = [dict(row._mapping) for row in keys]  # what finds whom (ids are rewritten)
    return rows


async def chains_ok(sessions: Sessions, customers: Iterable[str] | None = None) -> None:
    """Every case's chain (or only the cases of `customers`, in a database other tests seed) and the audit's."""
    async with sessions() as session:
        query = select(Case.id) if customers is None else select(Case.id).where(Case.customer_id.in_(list(customers)))
        for case_id in await session.scalars(query):
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


def ana_phone(tag: str = "") -> str:
    return "+525512345678" if not tag else f"+52551234{tag[-4:]}"


async def two_customers(sessions: Sessions, tag: str = "") -> dict[str, str]:
    """Ana on WhatsApp (two cases, one assigned) and a web visitor (two cases, one queued, a call, an email);
    `tag` keeps the accounts and identities apart when several tests share a database."""
    async with sessions() as session, session.begin():
        maria = await agent(session, f"maria{tag}", "care")
        luis = await agent(session, f"luis{tag}", "returns")
        ana = await resolve_customer(session, "phone", ana_phone(tag), verified=True, verified_by="whatsapp",
                                     display_name="Ana", language="es")
        ana.facts = {"order_number": "100002"}
        visitor = await resolve_customer(session, "webchat", f"visitor-1{tag}")
        session.add(Identity(customer_id=visitor.id, kind="email", value=f"ana{tag}@example.mx"))
        visitor.facts = {"order_number": "999999", "email": f"ana{tag}@example.mx"}
        await case_with_events(session, ana, "whatsapp", "resolved", texts=("hola", "gracias"), age_hours=30)
        ana_open = await case_with_events(session, ana, "whatsapp", "assigned", team="care", assignee=maria,
                                          texts=("mi pedido",), age_hours=2)
        await case_with_events(session, visitor, "webchat", "resolved", texts=("hi",), age_hours=20)
        web_open = await case_with_events(session, visitor, "webchat", "queued", team="returns",
                                          texts=("te escribí por whatsapp",), age_hours=1)
        session.add(Call(provider="twilio", provider_call_id=f"CA1{tag}", case_id=web_open.id,
                         customer_id=visitor.id, direction="inbound", status="completed"))
    return {"phone": ana_phone(tag), "ana": ana.id, "visitor": visitor.id, "ana_open": ana_open.id,
            "web_open": web_open.id, "maria": maria.id, "luis": luis.id}


async def whatsapp_ana(sessions: Sessions, *, email: str | None = None, crm: str | None = None) -> dict[str, str]:
    """Ana wrote on WhatsApp about order 100002 (her number verified by WhatsApp) and the assistant holds her open
    case; `email` and `crm` are identities the site signed for her."""
    async with sessions() as session, session.begin():
        ana = Customer(display_name="Ana", language="es", facts={"order_number": "100002"})
        session.add(ana)
        await session.flush()
        session.add(Identity(customer_id=ana.id, kind="phone", value=ana_phone(), verified=True,
                             verified_by="whatsapp"))
        for kind, value in (("email", email), ("crm", crm)):
            if value:
                session.add(Identity(customer_id=ana.id, kind=kind, value=value, verified=True,
                                     verified_by="site_token"))
        case = await case_with_events(session, ana, "whatsapp", "bot", texts=("mi pedido 100002 no llega",))
    return {"ana": ana.id, "case": case.id}


async def whatsapp_ana_at(database_url: str, **identities: str) -> dict[str, str]:
    """`whatsapp_ana` in the database of an app a test serves (it holds the URL, not the sessions)."""
    engine = create_engine(database_url)
    try:
        return await whatsapp_ana(session_factory(engine), **identities)
    finally:
        await engine.dispose()
