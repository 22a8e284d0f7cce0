"""A customer's history is scoped to its reader, on SQLite and PostgreSQL: the rule, its SQL form, the case view."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select

from handoff.core.agents import NewAgent, create_agent
from handoff.core.case_scope import readable
from handoff.core.cases import open_case
from handoff.core.customers import resolve_customer
from handoff.core.operations import load_operations
from handoff.core.permissions import may_read_case
from handoff.core.timeline import append_event
from handoff.inbox import views
from handoff.settings import REPO_ROOT
from handoff.store.models import Agent, Call, Case, Customer

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")


@dataclass(frozen=True)
class Reader:
    id: str
    role: str
    teams: tuple[str, ...]


def test_the_rule_reads_teams_and_assignees_and_lets_supervisors_read_all() -> None:
    fraud = Reader("f1", "agent", ("fraud",))
    assert not may_read_case(fraud, Case(team="care", assignee_id=None))
    assert not may_read_case(fraud, Case(team="care", assignee_id="c1"))
    assert may_read_case(fraud, Case(team="fraud", assignee_id="c1"))  # their team's, whoever holds it
    assert may_read_case(fraud, Case(team="care", assignee_id="f1"))  # assigned to them
    assert may_read_case(fraud, Case(team=None, assignee_id=None))  # the assistant's: open to take over
    assert not may_read_case(fraud, Case(team=None, assignee_id="c1"))
    for boss in (Reader("s1", "supervisor", ()), Reader("a1", "admin", ())):
        assert may_read_case(boss, Case(team="care", assignee_id="c1"))
    assert not may_read_case(Reader("d1", "designer", ("care",)), Case(team="care", assignee_id=None))


async def _agent(session, email: str, role: str, teams: tuple[str, ...]) -> Agent:
    return await create_agent(session, NewAgent(email, email.split("@")[0], role, teams, "a long password", 3),
                              OPERATIONS.teams)


async def test_the_sql_form_reads_exactly_the_cases_the_rule_allows(sessions) -> None:
    """Every holder (no team, care, fraud × nobody, one agent, another) against every kind of reader."""
    async with sessions() as session, session.begin():
        ana = await _agent(session, "ana@example.com", "agent", ("care",))
        bea = await _agent(session, "bea@example.com", "agent", ("fraud", "returns"))
        readers = [ana, bea, await _agent(session, "cal@example.com", "agent", ()),
                   await _agent(session, "sup@example.com", "supervisor", ()),
                   await _agent(session, "adm@example.com", "admin", ()),
                   await _agent(session, "des@example.com", "designer", ("care",))]
        customer = Customer(display_name="Grid")
        session.add(customer)
        await session.flush()
        cases = [Case(customer_id=customer.id, status="queued", channel="webchat", team=team, assignee_id=assignee)
                 for team, assignee in itertools.product((None, "care", "fraud"), (None, ana.id, bea.id))]
        session.add_all(cases)
    async with sessions() as session:
        for reader in readers:
            found = set(await session.scalars(select(Case.id).where(Case.customer_id == customer.id,
                                                                     readable(reader))))
            assert found == {case.id for case in cases if may_read_case(reader, case)}, reader.email


async def _story(sessions) -> tuple[Case, Case, dict[str, Agent]]:
    """The finding: a care case with a reply, a private note and a call, then the customer's next case, which
    the assistant holds (no team yet)."""
    async with sessions() as session, session.begin():
        agents = {"care": await _agent(session, "care@example.com", "agent", ("care",)),
                  "fraud": await _agent(session, "fraud@example.com", "agent", ("fraud",)),
                  "supervisor": await _agent(session, "boss@example.com", "supervisor", ()),
                  "admin": await _agent(session, "root@example.com", "admin", ())}
        customer = await resolve_customer(session, "webchat", "visitor-scope")
        care = await open_case(session, customer, "webchat", follow_up_window_hours=72)
        await append_event(session, care, channel="webchat", direction="in", actor="customer", kind="message",
                           text="mi tarjeta fue clonada")
        await append_event(session, care, channel="webchat", direction="out", actor=f"agent:{agents['care'].id}",
                           kind="message", text="CARE-REPLY te ayudo")
        await append_event(session, care, channel="webchat", direction="internal",
                           actor=f"agent:{agents['care'].id}", kind="note", text="PRIVATE-NOTE cliente vip")
        session.add(Call(provider="pbx", provider_call_id="call-care", case_id=care.id, customer_id=customer.id,
                         direction="inbound", status="completed", transcript="CARE-CALL transcript"))
        care.team, care.assignee_id, care.status = "care", agents["care"].id, "resolved"
    async with sessions() as session, session.begin():
        customer = await session.get_one(Customer, care.customer_id)
        following = await open_case(session, customer, "webchat", follow_up_window_hours=72)
        await append_event(session, following, channel="webchat", direction="in", actor="customer", kind="message",
                           text="hola de nuevo")
    assert following.id != care.id and following.team is None and following.status == "bot"
    return care, following, agents


def _texts(view: dict) -> list[str]:
    return [event["text"] for event in view["events"]]


async def test_a_fraud_agent_opening_the_next_case_sees_neither_the_care_messages_nor_the_note(sessions) -> None:
    care, following, agents = await _story(sessions)
    async with sessions() as session:
        fraud = await session.get_one(Agent, agents["fraud"].id)
        assert not may_read_case(fraud, care) and may_read_case(fraud, following)
        view = await views.case_view(session, following, fraud)
        paged = await views.case_view(session, following, fraud, before_id=view["events"][0]["id"])
    assert _texts(view) == ["hola de nuevo"]
    assert {event["case_id"] for event in view["events"]} == {following.id}
    assert view["customer"]["earlier_cases"] == [] and view["calls"] == [] and view["more_before"] is None
    assert paged["events"] == []  # paging back does not reach the care case either


async def test_supervisors_admins_and_the_care_team_still_read_the_whole_history(sessions) -> None:
    care, following, agents = await _story(sessions)
    for who in ("supervisor", "admin", "care"):
        async with sessions() as session:
            reader = await session.get_one(Agent, agents[who].id)
            view = await views.case_view(session, following, reader)
        assert _texts(view) == ["mi tarjeta fue clonada", "CARE-REPLY te ayudo", "PRIVATE-NOTE cliente vip",
                                "hola de nuevo"], who
        assert [c["id"] for c in view["customer"]["earlier_cases"]] == [care.id], who
        assert [card["transcript"] for card in view["calls"]] == ["CARE-CALL transcript"], who
