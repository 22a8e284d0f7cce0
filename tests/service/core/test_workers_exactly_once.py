"""Three workers (own engines) on one PostgreSQL database: pending turns, due commitments, the abandonment sweep,
the NLU harvest and audit checkpoints each done once; a worker that dies holding an item leaves it to another."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from handoff.core.assignment import abandon_stale
from handoff.core.bot_client import RasaClient
from handoff.core.checkpoints import Checkpoints, keygen, load_private_key
from handoff.core.commitment_alerts import DueCommitments
from handoff.core.commitments import claim_due, promise
from handoff.core.conversation import Conversations
from handoff.core.customers import resolve_customer
from handoff.core.events import CommitmentDue, EventBus, Subscription
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.operations import load_operations
from handoff.core.sweeper import AbandonSweeper
from handoff.reports.nlu_harvest import hold_harvest, let_go_of_harvest
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import AuditCheckpoint, Case, PendingTurn, TimelineEvent, utcnow
from tests.service.support.merging import agent, case_with_events
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.workers import Sessions, at_once, worker_sessions

pytestmark = pytest.mark.postgres
__all__ = ["worker_sessions"]
OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
LEASE = timedelta(seconds=1.5)
ITEMS = 12


class Visitors:
    """A webchat deliverer stand-in: what each visitor was told."""

    staged_status = None

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value if identity_kind == "webchat" else None

    async def stage(self, session: object, event: object, address: str, message: OutboundMessage) -> None:
        """Webchat sends after the commit."""

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        self.told.append((address, message.text or ""))

    async def typing(self, address: str, actor: str, on: bool) -> None:
        """Not counted."""


class Heard:
    """The due alerts a worker published."""

    def __init__(self) -> None:
        self.due: list[int] = []

    def subscriptions(self) -> list[Subscription[CommitmentDue]]:
        return [Subscription(CommitmentDue, self.record)]

    async def record(self, event: CommitmentDue) -> None:
        self.due.append(event.commitment_id)


@pytest.fixture
async def assistants(worker_sessions: list[Sessions]) -> AsyncIterator[list[tuple[Conversations, RasaStandIn]]]:
    """Each worker's conversation service with its own Rasa stand-in (to count what each asked)."""
    built, clients = [], []
    for sessions in worker_sessions:
        rasa = RasaStandIn()
        client = httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler))
        bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0, client=client)
        built.append((build_services(sessions, OPERATIONS, bot, {"webchat": Visitors()}, lease=LEASE).conversations,
                      rasa))
        clients.append(bot)
    yield built
    for bot in clients:
        await bot.aclose()


def visitor_message(n: int) -> InboundMessage:
    return InboundMessage(channel="webchat", identity_kind="webchat", identity_value=f"visitor-{n}",
                          address=f"visitor-{n}", text=f"hola {n}", bot_input=f"hola {n}", language="es")


async def test_turns_a_dead_worker_stored_are_each_answered_once_by_three_workers_after_its_lease(
        assistants: list[tuple[Conversations, RasaStandIn]]) -> None:
    dead, _ = assistants[0]
    dead.lease = timedelta(minutes=1)  # long enough to store the backlog under any load
    for n in range(ITEMS):  # stored and acknowledged by worker 0, which then died before asking the assistant
        assert (await dead.receive(visitor_message(n))).to_bot
    live = assistants[1:]
    assert await at_once([conversations.replay_pending for conversations, _ in live]) == [0, 0]  # still held
    lapsed = utcnow() + dead.lease  # the workers' clock once the dead worker's lease has lapsed
    replayed = await at_once([lambda c=conversations: c.replay_pending(now=lapsed) for conversations, _ in live])

    assert sum(replayed) == ITEMS  # type: ignore[arg-type]
    asked = sorted(body["message"] for _, rasa in live for body in rasa.asked)
    assert asked == sorted(f"hola {n}" for n in range(ITEMS))  # each turn reached the assistant once
    told = sorted(pair for conversations, _ in live for pair in conversations.deliverers["webchat"].told)  # type: ignore[attr-defined]
    assert told == sorted((f"visitor-{n}", f"Recibido: hola {n}") for n in range(ITEMS))  # each answered once
    async with dead.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PendingTurn)) == 0
        assert await session.scalar(select(func.count()).select_from(TimelineEvent)
                                    .where(TimelineEvent.actor == "bot")) == ITEMS


async def promises_due(sessions: Sessions) -> list[int]:
    async with sessions() as session, session.begin():
        maria = await agent(session, "maria", "care")
        made = []
        for n in range(ITEMS):
            customer = await resolve_customer(session, "phone", f"+5255123456{n:02d}", verified=True)
            case = await case_with_events(session, customer, "whatsapp", "assigned", team="care", assignee=maria)
            commitment, _ = await promise(session, case, agent_id=maria.id, actor=f"agent:{maria.id}",
                                          text=f"Llamar {n}", due_at=utcnow() + timedelta(days=1))
            commitment.due_at = utcnow() - timedelta(seconds=1)
            made.append(commitment.id)
        return made


async def test_three_workers_alert_each_due_promise_once(worker_sessions: list[Sessions]) -> None:
    made = await promises_due(worker_sessions[0])
    heard = [Heard() for _ in worker_sessions]
    passes = [DueCommitments(sessions, EventBus([ear])) for sessions, ear in zip(worker_sessions, heard, strict=True)]
    await at_once([due.sweep for due in passes for _ in range(3)])
    assert sorted(c for ear in heard for c in ear.due) == sorted(made)


async def test_promises_a_worker_claimed_before_dying_are_alerted_by_another(worker_sessions: list[Sessions]) -> None:
    made = await promises_due(worker_sessions[0])
    ear = Heard()
    survivor = DueCommitments(worker_sessions[1], EventBus([ear]))
    async with worker_sessions[0]() as dying:
        await dying.begin()
        assert len(await claim_due(dying, utcnow())) == ITEMS  # claimed, not committed
        assert await asyncio.wait_for(survivor.sweep(), 30) == 0  # skipped, not waited for (SKIP LOCKED)
        await (await dying.connection()).invalidate()  # the worker's connection dies with it: rolled back
    assert await asyncio.wait_for(survivor.sweep(), 30) == ITEMS
    assert sorted(ear.due) == sorted(made)


async def stale_cases(sessions: Sessions) -> list[str]:
    async with sessions() as session, session.begin():
        cases = []
        for n in range(ITEMS):
            customer = await resolve_customer(session, "phone", f"+5255987654{n:02d}", verified=True)
            case = await case_with_events(session, customer, "webchat", "queued", team="care", texts=("hola",))
            cases.append(case.id)
        await session.execute(update(Case).values(last_customer_message_at=utcnow() - timedelta(days=2)))
        return cases


async def abandoned_events(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return sorted(await session.scalars(select(TimelineEvent.case_id).where(
            TimelineEvent.kind == "status", TimelineEvent.text == "abandoned")))


async def test_three_sweepers_end_each_abandoned_case_once(worker_sessions: list[Sessions]) -> None:
    cases = await stale_cases(worker_sessions[0])
    sweepers = [AbandonSweeper(sessions, EventBus([]), timedelta(days=1)) for sessions in worker_sessions]
    ended = await at_once([sweeper.sweep for sweeper in sweepers])
    assert sum(ended) == ITEMS  # type: ignore[arg-type]
    assert await abandoned_events(worker_sessions[0]) == sorted(cases)


async def test_cases_a_sweeper_locked_before_dying_are_ended_by_another(worker_sessions: list[Sessions]) -> None:
    cases = await stale_cases(worker_sessions[0])
    survivor = AbandonSweeper(worker_sessions[1], EventBus([]), timedelta(days=1))
    async with worker_sessions[0]() as dying:
        await dying.begin()
        assert len(await abandon_stale(dying, utcnow() - timedelta(days=1))) == ITEMS
        assert await asyncio.wait_for(survivor.sweep(), 30) == 0  # locked by the dying worker: skipped
        await (await dying.connection()).invalidate()
    assert await asyncio.wait_for(survivor.sweep(), 30) == ITEMS
    assert await abandoned_events(worker_sessions[0]) == sorted(cases)


async def test_one_worker_harvests_at_a_time_and_a_dead_harvesters_lease_lapses(
        worker_sessions: list[Sessions]) -> None:
    held = await at_once([lambda s=sessions: hold_harvest(s, LEASE) for sessions in worker_sessions])
    assert sorted(held) == [False, False, True]  # type: ignore[type-var]
    holder = held.index(True)
    others = [sessions for n, sessions in enumerate(worker_sessions) if n != holder]
    assert not await hold_harvest(others[0], LEASE)
    await asyncio.sleep(LEASE.total_seconds() + 0.2)  # the holder died mid-run: its lease lapses
    assert await hold_harvest(others[0], LEASE)
    await let_go_of_harvest(others[0])  # a finished run gives it back at once
    assert await hold_harvest(others[1], LEASE)


async def test_three_workers_sign_each_moved_chain_head_once(worker_sessions: list[Sessions]) -> None:
    cases = await stale_cases(worker_sessions[0])  # twelve chains that moved
    private, _ = keygen()
    signers = [Checkpoints(sessions, load_private_key(private)) for sessions in worker_sessions]
    signed = await at_once([signer.sign_moved for signer in signers])
    assert sum(signed) == ITEMS  # type: ignore[arg-type]
    async with worker_sessions[0]() as session:
        chains = list(await session.scalars(select(AuditCheckpoint.chain)))
    assert sorted(chains) == sorted(cases)  # one checkpoint per head, whichever worker signed it
