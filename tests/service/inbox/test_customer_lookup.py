"""Finding a customer: phone in any format, email, name, order number; scoped by the case-reading rule.

Before: there was no way to find a customer at all (`GET /inbox/api/customers` answered 404).
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.core.agents import NewAgent, create_agent
from handoff.core.cases import open_case
from handoff.core.customer_lookup import find_customers, probes
from handoff.core.customers import resolve_contact
from handoff.core.operations import load_operations
from handoff.core.timeline import append_event
from handoff.settings import REPO_ROOT
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Agent, Case, Customer, CustomerKey
from tests.service.inbox.support import AgentClient
from tests.service.inbox.support import create_agent as store_agent
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import app_settings, served_app, served_standin

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
PHONE = "+525512345678"


@dataclass(frozen=True)
class Story:
    maria: str  # WhatsApp +52 55 1234 5678, care case (webchat then WhatsApp), order 100002, email told
    jose: str  # webchat only, a fraud case
    merged: str  # merged into maria: never listed
    care_case: str
    fraud_case: str


async def _story(sessions) -> Story:
    async with sessions() as session, session.begin():
        maria = (await resolve_contact(session, "whatsapp", PHONE, verified=True, verified_by="whatsapp",
                                       display_name="María José Pérez")).customer
        care = await open_case(session, maria, "webchat", follow_up_window_hours=72)
        await append_event(session, care, channel="webchat", direction="in", actor="customer", kind="message",
                           text="hola")
        await append_event(session, care, channel="whatsapp", direction="in", actor="customer", kind="message",
                           text="mi pedido 100002")
        care.team, care.status = "care", "queued"
        maria.facts = {"order_number": "100002", "email": "Maria.Perez@Example.com"}
        jose = (await resolve_contact(session, "webchat", "visitor-jose", display_name="José Ñúñez")).customer
        fraud = await open_case(session, jose, "webchat", follow_up_window_hours=72)
        fraud.team, fraud.status = "fraud", "queued"
        merged = (await resolve_contact(session, "email", "maria@old.example", display_name="María Pérez")).customer
        await open_case(session, merged, "webchat", follow_up_window_hours=72)
        merged.facts = {"order_number": "100002"}
        await session.flush()
        merged.merged_into_id = maria.id
    return Story(maria.id, jose.id, merged.id, care.id, fraud.id)


@dataclass(frozen=True)
class Reader:
    id: str
    role: str
    teams: tuple[str, ...]


SUPERVISOR = Reader("s1", "supervisor", ())
CARE = Reader("c1", "agent", ("care",))
FRAUD = Reader("f1", "agent", ("fraud",))


async def _ids(sessions, reader: Reader, query: str) -> list[str]:
    async with sessions() as session:
        return [card["id"] for card in await find_customers(session, reader, query, region="MX")]


@pytest.mark.parametrize("typed", ["+52 55 1234 5678", "+525512345678", "55 1234 5678", "(55) 1234-5678",
                                   "5512345678", "+52 (55) 1234.5678"])
async def test_a_phone_in_any_format_finds_the_same_customer(sessions, typed: str) -> None:
    story = await _story(sessions)
    assert await _ids(sessions, SUPERVISOR, typed) == [story.maria]


async def test_email_order_number_and_name_find_her_on_both_databases(sessions) -> None:
    story = await _story(sessions)
    assert await _ids(sessions, SUPERVISOR, "MARIA.perez@example.com ") == [story.maria]  # a told email
    assert await _ids(sessions, SUPERVISOR, "maria@old.example") == []  # merged away: not listed
    assert await _ids(sessions, SUPERVISOR, "#100002") == [story.maria]  # not the merged customer
    for name in ("maria", "MARÍA JOSÉ", "pérez", "jose p", "Perez"):
        assert await _ids(sessions, SUPERVISOR, name) == [story.maria], name
    assert await _ids(sessions, SUPERVISOR, "jose") == [story.jose, story.maria]  # "jose nunez" < "jose perez"
    assert await _ids(sessions, SUPERVISOR, "nunez") == [story.jose]
    assert await _ids(sessions, SUPERVISOR, "zzz") == []


async def test_an_agent_sees_customers_only_through_the_cases_they_may_read(sessions) -> None:
    story = await _story(sessions)
    assert await _ids(sessions, FRAUD, PHONE) == []  # maria's only case is care's
    assert await _ids(sessions, FRAUD, "jose") == [story.jose]
    assert await _ids(sessions, CARE, "jose") == [story.maria]
    async with sessions() as session:
        [card] = await find_customers(session, CARE, "100002", region="MX")
    assert card == {
        "id": story.maria, "name": "María José Pérez",
        "identities": [{"kind": "whatsapp", "value": PHONE, "verified": True}],
        "cases": [{"id": story.care_case, "status": "queued", "channels": ["webchat", "whatsapp"],
                   "created_at": card["cases"][0]["created_at"]}],
    }


async def test_keys_follow_the_name_and_keep_every_order_number_learnt(sessions) -> None:
    story = await _story(sessions)
    async with sessions() as session, session.begin():
        maria = await session.get_one(Customer, story.maria)
        maria.display_name = "Mary Smith"
        maria.facts = {**maria.facts, "order_number": "100007"}
    assert await _ids(sessions, SUPERVISOR, "smith") == [story.maria]
    assert await _ids(sessions, SUPERVISOR, "perez") == []
    assert await _ids(sessions, SUPERVISOR, "100002") == [story.maria]  # the earlier order still finds her
    assert await _ids(sessions, SUPERVISOR, "100007") == [story.maria]
    async with sessions() as session:
        kinds = sorted(await session.scalars(select(CustomerKey.kind).where(CustomerKey.customer_id == story.maria)))
    assert kinds == ["email", "name", "name", "order", "order"]


def test_what_a_query_is_read_as() -> None:
    assert probes("55 1234 5678", "MX").identities == [("phone", PHONE), ("whatsapp", PHONE)]
    assert probes("#100002", "MX").keys == [("order", "100002")]
    assert probes("100002", "MX").name_prefix is None
    assert probes("Ana@X.mx", "MX").identities == [("email", "ana@x.mx")]
    assert probes("a@b", "MX") == probes("!!", "MX")  # nothing to look for: an empty answer, not an error


# ---- the HTTP API ------------------------------------------------------------------------------------------
@pytest.fixture
async def api(workdir: Path) -> AsyncIterator[tuple[str, Story]]:
    """The app over the story's database, with a care, a fraud, a supervisor and a designer account."""
    async with served_standin(RasaStandIn()) as rasa_url:
        settings = app_settings(workdir, rasa_url, inbox_login_attempts=1000)
        engine = create_engine(settings.database_url)
        story = await _story(session_factory(engine))
        await engine.dispose()
        store_agent(settings.database_url, "care@example.com", teams="care")
        store_agent(settings.database_url, "fraud@example.com", teams="fraud")
        store_agent(settings.database_url, "boss@example.com", role="supervisor", teams="")
        store_agent(settings.database_url, "designer@example.com", role="designer", teams="care")
        async with served_app(settings) as base_url:
            yield base_url, story


async def _client(base_url: str, email: str) -> AgentClient:
    client = AgentClient(base_url)
    assert (await client.login(email)).status_code == 200
    return client


async def test_the_api_finds_scopes_and_refuses(api: tuple[str, Story]) -> None:
    base_url, story = api
    care, fraud, boss = [await _client(base_url, f"{who}@example.com") for who in ("care", "fraud", "boss")]
    try:
        for typed in ("+52 55 1234 5678", "(55) 1234-5678", "5512345678"):
            response = await care.get("/customers", params={"q": typed})
            assert response.status_code == 200 and [c["id"] for c in response.json()] == [story.maria], typed
        found = (await care.get("/customers", params={"q": "maria.perez@example.com"})).json()
        assert found[0]["cases"][0]["channels"] == ["webchat", "whatsapp"]
        assert [c["id"] for c in (await care.get("/customers", params={"q": "100002"})).json()] == [story.maria]
        assert (await fraud.get("/customers", params={"q": PHONE})).json() == []  # another team's customer
        assert (await care.get(f"/customers/{story.maria}")).json() == found[0]
        assert (await fraud.get(f"/customers/{story.maria}")).status_code == 403
        assert (await boss.get(f"/customers/{story.jose}")).json()["cases"][0]["id"] == story.fraud_case
        assert (await boss.get(f"/customers/{story.merged}")).status_code == 404  # merged away
        assert (await boss.get(f"/customers/{'0' * 32}")).status_code == 404
        for bad in ({"q": "a"}, {"q": "x" * 101}, {}, {"q": "maria", "limit": 0}, {"q": "maria", "limit": 51},
                    {"q": "maria", "limit": "many"}):
            assert (await care.get("/customers", params=bad)).status_code == 422, bad
        assert (await care.get("/customers/not an id")).status_code == 422
        assert (await care.get(f"/customers/{'x' * 33}")).status_code == 422
        assert len((await boss.get("/customers", params={"q": "maria", "limit": 1})).json()) == 1
        anonymous = AgentClient(base_url)
        assert (await anonymous.get("/customers", params={"q": "maria"})).status_code == 401
        await anonymous.close()
        designer = await _client(base_url, "designer@example.com")
        assert (await designer.get("/customers", params={"q": "maria"})).status_code == 403
        await designer.close()
    finally:
        for client in (care, fraud, boss):
            await client.close()


async def test_agents_made_by_the_core_read_like_the_inbox(sessions) -> None:
    """The lookup takes the agent row itself as its reader (the inbox passes principal.agent)."""
    story = await _story(sessions)
    async with sessions() as session, session.begin():
        agent = await create_agent(session, NewAgent("c@example.com", "C", "agent", ("care",), "a long password", 3),
                                   OPERATIONS.teams)
    async with sessions() as session:
        reader = await session.get_one(Agent, agent.id)
        assert [c["id"] for c in await find_customers(session, reader, "perez", region="MX")] == [story.maria]


async def test_a_case_merged_into_another_is_not_listed(sessions) -> None:
    story = await _story(sessions)
    async with sessions() as session, session.begin():
        maria = await session.get_one(Customer, story.maria)
        absorbed = Case(customer_id=maria.id, status="merged", channel="voice", team="care",
                        merged_into_case_id=story.care_case)
        session.add(absorbed)
    async with sessions() as session:
        [card] = await find_customers(session, SUPERVISOR, PHONE, region="MX")
    assert [case["id"] for case in card["cases"]] == [story.care_case]
