"""The webhook worker on SQLite and PostgreSQL: a receiver that is down holds back only its own integration's
deliveries, however many pile up (more than the outbox's scan); a revoked integration's queue fails unsent."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import insert, select, update

from handoff.core.customers import resolve_customer
from handoff.core.outbox import SCAN_LIMIT
from handoff.integrations.deliveries import CHANNEL
from handoff.integrations.registry import Integrations
from handoff.integrations.signatures import verify
from handoff.integrations.tokens import IntegrationError
from handoff.integrations.webhook_delivery import Webhooks
from handoff.integrations.webhooks import webhook_body
from handoff.store.models import Outbox, utcnow
from tests.service.support.merging import Sessions, case_with_events
from tests.service.support.processes import free_port
from tests.service.support.webhook_receiver import WebhookReceiver

KEY = b"worker-tests-secret-key-0123456789"


@dataclass
class Setup:
    sessions: Sessions
    registry: Integrations
    webhooks: Webhooks
    case_id: str
    receiver: WebhookReceiver


@pytest.fixture
async def setup(sessions: Sessions) -> AsyncIterator[Setup]:
    async with sessions() as session, session.begin():
        customer = await resolve_customer(session, "webchat", "visitor-w")
        case = await case_with_events(session, customer, "webchat", "assigned", team="care")
    receiver = WebhookReceiver().start()
    webhooks = Webhooks.build(sessions, KEY, max_attempts=5, backoff=3600, backoff_max=3600, timeout=5)
    yield Setup(sessions, Integrations(sessions, KEY), webhooks, case.id, receiver)
    await webhooks.stop()
    receiver.stop()


async def stage(setup: Setup, integration_id: str, count: int) -> None:
    """`count` deliveries for the integration, as the listener stages them (one insert here, for speed)."""
    rows = [{"case_id": setup.case_id, "channel": CHANNEL, "recipient": integration_id, "status": "pending",
             "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow(), "updated_at": utcnow(),
             "payload": {"kind": "webhook", "event": "case.assigned",
                         "body": webhook_body(f"d{integration_id[:6]}{n}", integration_id, "case.assigned", utcnow(),
                                              {"n": n})}}
            for n in range(count)]
    async with setup.sessions() as session, session.begin():
        await session.execute(insert(Outbox), rows)


async def statuses(setup: Setup, integration_id: str) -> list[tuple[str, int]]:
    async with setup.sessions() as session:
        rows = await session.execute(select(Outbox.status, Outbox.attempts).where(Outbox.recipient == integration_id)
                                     .order_by(Outbox.id))
        return [(row.status, row.attempts) for row in rows]


async def test_a_receiver_that_is_down_holds_back_only_its_own_deliveries(setup: Setup) -> None:
    down = await setup.registry.create("cli", "Down", ["webhooks"], f"http://127.0.0.1:{free_port()}/hooks")
    up = await setup.registry.create("cli", "Up", ["webhooks"], setup.receiver.url)
    await stage(setup, down.integration["id"], SCAN_LIMIT + 100)  # more than one scan of the outbox holds
    await stage(setup, up.integration["id"], 2)
    await setup.webhooks.worker.drain()
    assert len(setup.receiver.bodies()) == 2
    assert [b'"n":0' in item.body for item in setup.receiver.bodies()] == [True, False]  # in order
    assert await statuses(setup, up.integration["id"]) == [("sent", 1), ("sent", 1)]
    held = await statuses(setup, down.integration["id"])
    assert held[0] == ("pending", 1) and set(held[1:]) == {("pending", 0)}  # the head waits for its backoff
    async with setup.sessions() as session:
        error = await session.scalar(select(Outbox.last_error).where(Outbox.recipient == down.integration["id"])
                                     .order_by(Outbox.id).limit(1))
    assert error is not None and "could not be reached" in error


async def test_a_revoked_integrations_queue_fails_unsent_and_a_4xx_is_not_retried(setup: Setup) -> None:
    gone = await setup.registry.create("cli", "Gone", ["webhooks"], setup.receiver.url)
    await stage(setup, gone.integration["id"], 3)
    await setup.registry.revoke("cli", gone.integration["id"])
    await setup.webhooks.worker.drain()
    assert await statuses(setup, gone.integration["id"]) == [("failed", 1)] * 3 and setup.receiver.bodies() == []

    setup.receiver.status = 410
    refusing = await setup.registry.create("cli", "Refusing", ["webhooks"], setup.receiver.url)
    await stage(setup, refusing.integration["id"], 2)
    await setup.webhooks.worker.drain()
    assert await statuses(setup, refusing.integration["id"]) == [("failed", 1), ("failed", 1)]
    assert len(setup.receiver.bodies()) == 2  # each once, the second after the first failed
    async with setup.sessions() as session, session.begin():
        await session.execute(update(Outbox).values(status="pending", next_attempt_at=utcnow()))
    setup.receiver.status = 200  # (a failed delivery stays failed; here the rows are made pending by hand)
    await setup.webhooks.worker.drain()
    assert len(setup.receiver.bodies()) == 4  # the revoked integration's rows still go nowhere


async def test_a_rotated_secret_signs_from_then_on_and_a_new_url_gets_what_is_sent_after(setup: Setup) -> None:
    made = await setup.registry.create("cli", "CRM", ["webhooks"], setup.receiver.url, ["case.assigned"])
    integration_id, old = made.integration["id"], made.webhook_secret
    assert old is not None
    new = await setup.registry.rotate_secret("cli", integration_id)
    assert new != old and new.startswith("whsec_")
    await stage(setup, integration_id, 1)
    await setup.webhooks.worker.drain()
    (item,) = setup.receiver.bodies()
    header = item.headers["X-Frontdoor-Signature"]
    assert verify(header, item.body, new, time.time()) and not verify(header, item.body, old, time.time())

    other = WebhookReceiver().start()
    try:
        changed = await setup.registry.set_webhook("cli", integration_id, other.url, [])
        assert changed["webhook_url"] == other.url and len(changed["webhook_events"]) == 5  # none named: all
        await stage(setup, integration_id, 1)
        await setup.webhooks.worker.drain()
        assert len(other.bodies()) == 1 and len(setup.receiver.bodies()) == 1
    finally:
        other.stop()
    off = await setup.registry.set_webhook("cli", integration_id, None, [])
    assert off["webhook_url"] is None and off["webhook_events"] == []
    with pytest.raises(IntegrationError) as refused:
        await setup.registry.rotate_secret("cli", integration_id)
    assert refused.value.status == 409
    await setup.registry.revoke("cli", integration_id)
    with pytest.raises(IntegrationError) as revoked:
        await setup.registry.set_webhook("cli", integration_id, setup.receiver.url, [])
    assert revoked.value.status == 409


async def test_a_delivery_without_an_answer_in_time_is_failed_never_sent_twice(sessions: Sessions,
                                                                               setup: Setup) -> None:
    slow = Webhooks.build(sessions, KEY, max_attempts=5, backoff=0.05, backoff_max=0.05, timeout=0.5)
    setup.receiver.delay = 2.0  # it got the request, then took too long to answer: it may have processed it
    made = await setup.registry.create("cli", "Slow", ["webhooks"], setup.receiver.url)
    await stage(setup, made.integration["id"], 2)
    try:
        await slow.worker.drain()
        await asyncio.sleep(0.3)  # past any backoff: nothing is due again
        await slow.worker.drain()
    finally:
        await slow.stop()
    assert await statuses(setup, made.integration["id"]) == [("failed", 1), ("failed", 1)]
    assert len(setup.receiver.bodies()) == 2  # each once, in order
    assert [b'"n":0' in item.body for item in setup.receiver.bodies()] == [True, False]
    async with setup.sessions() as session:
        errors = list(await session.scalars(select(Outbox.last_error).where(
            Outbox.recipient == made.integration["id"])))
    assert all("not sent again" in (error or "") for error in errors)
