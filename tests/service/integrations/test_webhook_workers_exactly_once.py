"""Three webhook workers (own engines) on one PostgreSQL database: each delivery reaches the receiver once, in order
per integration; a delivery a dead worker had started is failed for review, never sent again."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from handoff.core.customers import resolve_customer
from handoff.integrations.deliveries import CHANNEL
from handoff.integrations.registry import Integrations
from handoff.integrations.webhook_delivery import Webhooks
from handoff.integrations.webhooks import webhook_body
from handoff.store.models import Outbox, utcnow
from tests.service.support.merging import case_with_events
from tests.service.support.webhook_receiver import WebhookReceiver
from tests.service.support.workers import Sessions, at_once, worker_sessions

pytestmark = pytest.mark.postgres
__all__ = ["worker_sessions"]
KEY = b"worker-tests-secret-key-0123456789"
DELIVERIES = 8


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.fixture
async def workers(worker_sessions: list[Sessions]) -> AsyncIterator[list[Webhooks]]:
    built = [Webhooks.build(sessions, KEY, max_attempts=5, backoff=0.05, backoff_max=0.05, timeout=5)
             for sessions in worker_sessions]
    for webhooks in built:
        webhooks.worker.stale_after = timedelta(seconds=1)  # no send to the loopback receiver takes longer
    yield built
    for webhooks in built:
        await webhooks.stop()


async def stage(sessions: Sessions, integration_id: str, count: int) -> list[int]:
    """`count` deliveries for the integration, as the listener stages them; their outbox ids."""
    async with sessions() as session, session.begin():
        customer = await resolve_customer(session, "webchat", f"visitor-{integration_id[:8]}")
        case = await case_with_events(session, customer, "webchat", "assigned", team="care")
        rows = [{"case_id": case.id, "channel": CHANNEL, "recipient": integration_id, "status": "pending",
                 "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow(), "updated_at": utcnow(),
                 "payload": {"kind": "webhook", "event": "case.assigned",
                             "body": webhook_body(f"d-{integration_id[:6]}-{n}", integration_id, "case.assigned",
                                                  utcnow(), {"n": n})}}
                for n in range(count)]
        return list((await session.execute(insert(Outbox).returning(Outbox.id, sort_by_parameter_order=True),
                                           rows)).scalars())


async def until_sent(webhooks: Webhooks) -> None:
    while await webhooks.worker.drain() is not None:
        await asyncio.sleep(0.02)


def received(receiver: WebhookReceiver) -> dict[str, list[int]]:
    """The `n` of each body per integration, in the order the receiver got them."""
    seen: dict[str, list[int]] = {}
    for item in receiver.bodies():
        body = json.loads(item.body)
        assert item.headers["X-Frontdoor-Delivery"] == body["id"]  # what a receiver dedupes on
        seen.setdefault(body["integration_id"], []).append(body["data"]["n"])
    return seen


async def test_three_workers_deliver_each_webhook_once_in_order_per_integration(
        worker_sessions: list[Sessions], workers: list[Webhooks], receiver: WebhookReceiver) -> None:
    registry = Integrations(worker_sessions[0], KEY)
    made = [await registry.create("cli", f"CRM {n}", ["webhooks"], receiver.url) for n in range(3)]
    for integration in made:
        await stage(worker_sessions[0], integration.integration["id"], DELIVERIES)
    await at_once([lambda w=webhooks: until_sent(w) for webhooks in workers])
    assert received(receiver) == {i.integration["id"]: list(range(DELIVERIES)) for i in made}
    async with worker_sessions[1]() as session:
        assert set(await session.scalars(select(Outbox.status))) == {"sent"}


async def test_a_delivery_a_dead_worker_started_is_failed_not_resent_and_the_next_goes_out(
        worker_sessions: list[Sessions], workers: list[Webhooks], receiver: WebhookReceiver) -> None:
    made = await Integrations(worker_sessions[0], KEY).create("cli", "CRM", ["webhooks"], receiver.url)
    first, *_ = await stage(worker_sessions[0], made.integration["id"], 3)
    assert await workers[0].worker._claim(first) is not None  # sending, then the worker died: was it received?
    await asyncio.sleep(1.2)  # past stale_after: no send takes that long
    await at_once([lambda w=webhooks: until_sent(w) for webhooks in workers[1:]])
    assert received(receiver) == {made.integration["id"]: [1, 2]}
    async with worker_sessions[1]() as session:
        row = await session.get(Outbox, first)
        assert row.status == "failed" and "interrupted" in row.last_error
