"""Commitments in the core: the pure rules, the due pass claiming each promise once across two workers, and the
customer's snapshot (what the assistant reads) kept true through a merge and its undo, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import update

from handoff.core.bot_client import RasaClient
from handoff.core.commitment_alerts import CommitmentSnapshots, DueCommitments
from handoff.core.commitments import CommitmentRefused, check_promise, kept_on_time, promise, state
from handoff.core.customers import resolve_customer
from handoff.core.events import CommitmentDue, EventBus, Merged, MergeUndone, Subscription
from handoff.core.merges import merge_customers, undo_merge
from handoff.core.messages import InboundMessage
from handoff.core.operations import load_operations
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Commitment, Customer, utcnow
from tests.service.support.merging import Sessions, agent, case_with_events
from tests.service.support.rasa_standin import RasaStandIn

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def test_a_promise_needs_text_and_a_future_due_time_with_a_zone() -> None:
    assert check_promise("  Reembolso  ", datetime(2026, 12, 5, 12, tzinfo=timezone(timedelta(hours=-6))), NOW) \
        == ("Reembolso", datetime(2026, 12, 5, 18, tzinfo=timezone.utc))
    for text, due, field in (("", NOW + timedelta(days=1), "text"), (" \n ", NOW + timedelta(days=1), "text"),
                             ("x" * 501, NOW + timedelta(days=1), "text"), ("ok", NOW, "due_at"),
                             ("ok", NOW - timedelta(seconds=1), "due_at"),
                             ("ok", datetime(2026, 12, 5, 12), "due_at")):
        with pytest.raises(CommitmentRefused) as refused:
            check_promise(text, due, NOW)
        assert refused.value.field == field
    assert check_promise("x" * 500, NOW + timedelta(seconds=1), NOW)[0] == "x" * 500


def test_overdue_is_open_past_due_and_on_time_is_kept_by_the_due_time() -> None:
    due = NOW
    assert [state("open", due, NOW - timedelta(seconds=1)), state("open", due, NOW),
            state("kept", due, NOW + timedelta(days=1)), state("broken", due, NOW - timedelta(days=1))] \
        == ["open", "overdue", "kept", "broken"]
    assert kept_on_time("kept", NOW, due) and not kept_on_time("kept", NOW + timedelta(microseconds=1), due)
    assert not kept_on_time("broken", NOW - timedelta(days=1), due) and not kept_on_time("open", None, due)
    assert kept_on_time("kept", NOW.replace(tzinfo=None), due)  # SQLite's naive UTC


async def promised(sessions: Sessions, due_in: timedelta) -> tuple[str, str, int]:
    async with sessions() as session, session.begin():
        maria = await agent(session, "maria", "care")
        ana = await resolve_customer(session, "phone", "+525512345678", verified=True, display_name="Ana")
        case = await case_with_events(session, ana, "whatsapp", "assigned", team="care", assignee=maria)
        made, _ = await promise(session, case, agent_id=maria.id, actor=f"agent:{maria.id}", text="Reembolso",
                                due_at=utcnow() + timedelta(days=1))
        made.due_at = utcnow() + due_in
        return ana.id, case.id, made.id


class Heard:
    def __init__(self) -> None:
        self.due: list[CommitmentDue] = []

    def subscriptions(self) -> list[Subscription[CommitmentDue]]:
        return [Subscription(CommitmentDue, self.record)]

    async def record(self, event: CommitmentDue) -> None:
        self.due.append(event)


async def test_two_workers_passing_at_once_alert_a_due_promise_once(sessions: Sessions) -> None:
    _, case_id, commitment_id = await promised(sessions, timedelta(seconds=-1))
    heard = Heard()
    workers = [DueCommitments(sessions, EventBus([heard])) for _ in range(2)]
    counts = await asyncio.gather(*(worker.sweep() for worker in workers))
    assert sorted(counts) == [0, 1] and await workers[0].sweep() == 0
    assert [(e.case_id, e.commitment_id, e.team) for e in heard.due] == [(case_id, commitment_id, "care")]


async def test_a_promise_not_yet_due_or_settled_is_not_alerted(sessions: Sessions) -> None:
    _, _, commitment_id = await promised(sessions, timedelta(minutes=5))
    heard = Heard()
    assert await DueCommitments(sessions, EventBus([heard])).sweep() == 0
    async with sessions() as session, session.begin():
        await session.execute(update(Commitment).where(Commitment.id == commitment_id)
                              .values(due_at=utcnow() - timedelta(minutes=1), status="kept"))
    assert await DueCommitments(sessions, EventBus([heard])).sweep() == 0 and heard.due == []


async def test_the_snapshot_follows_the_case_through_a_merge_and_its_undo(sessions: Sessions) -> None:
    ana_id, case_id, commitment_id = await promised(sessions, timedelta(days=2))
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-1")
        ana = await session.get_one(Customer, ana_id)
        updated_at = ana.updated_at
        assert [c["id"] for c in ana.open_commitments or []] == [commitment_id]
        result = await merge_customers(session, visitor, ana, "agent:x", {"kind": "test"})
    listener = CommitmentSnapshots(sessions)
    for moved in result.case_ids:
        await listener.refresh(Merged(moved, result.merge.id, "customers"))
    async with sessions() as session:
        survivor = await session.get_one(Customer, visitor.id)
        assert [c["id"] for c in survivor.open_commitments or []] == [commitment_id]
    async with sessions() as session, session.begin():
        undone = await undo_merge(session, result.merge.id, "agent:x")
    for moved in undone.case_ids:
        await listener.refresh(MergeUndone(moved, result.merge.id))
    async with sessions() as session:
        survivor = await session.get_one(Customer, visitor.id)
        ana = await session.get_one(Customer, ana_id)
    assert survivor.open_commitments is None and [c["case_id"] for c in ana.open_commitments or []] == [case_id]
    assert ana.updated_at == updated_at  # the snapshot is derived: it never counts as a change of the customer


async def test_the_assistant_is_told_the_customers_open_promises_of_all_their_cases(sessions: Sessions) -> None:
    ana_id, case_id, commitment_id = await promised(sessions, timedelta(days=2))
    rasa = RasaStandIn()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    conversations = build_services(sessions, load_operations(REPO_ROOT / "operations.yml"), bot, {}).conversations
    async with sessions() as session, session.begin():
        await session.execute(update(Case).where(Case.id == case_id).values(status="bot", team=None,
                                                                            assignee_id=None))
    received = await conversations.receive(InboundMessage(
        channel="whatsapp", identity_kind="phone", identity_value="+525512345678", address="525512345678",
        text="¿y mi reembolso?", bot_input="¿y mi reembolso?", verified=True, language="es"))
    await conversations.process(received.event_id, received.turn)
    await bot.aclose()
    assert received.case_id == case_id
    told = rasa.asked[-1]["metadata"]["commitments"]
    assert [(c["id"], c["text"], c["case_id"]) for c in told] == [(commitment_id, "Reembolso", case_id)]
    assert told[0]["due_at"].endswith("Z")
