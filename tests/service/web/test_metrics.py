"""GET /metrics: the token, the names, a handoff counted, the queue and backlog gauges (issue 20 item 4)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Agent, Case, Customer, InboundWebhook, Outbox, utcnow
from handoff.web.metrics import access, provider_code, read_snapshot
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import Served, served_with_assistant
from tests.service.support.webchat_client import Visitor

TOKEN = "metrics-token-0123456789"
NAMES = {"frontdoor_turn_latency_seconds", "frontdoor_rasa_latency_seconds", "frontdoor_handoffs",
         "frontdoor_queue_length", "frontdoor_queue_oldest_wait_seconds", "frontdoor_agents_online",
         "frontdoor_outbox_backlog", "frontdoor_outbox_failed", "frontdoor_webhooks_unprocessed",
         "frontdoor_webchat_open_sessions"}


def answers(message: str) -> list[dict[str, Any]]:
    if "persona" in message:
        return [{"text": "Te comunico con una persona."},
                {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human"}}}]
    return [{"text": f"Recibido: {message}"}]


def test_provider_codes_are_bounded_labels() -> None:
    assert provider_code("(131047) Re-engagement message: more than 24 hours") == "131047"
    assert provider_code("the receiver answered HTTP 503 (gave up after 15 attempts)") == "http_503"
    assert provider_code("connection refused") == "other"
    assert provider_code(None) == "other"


def test_access_needs_the_configured_bearer_token() -> None:
    assert access(None, f"Bearer {TOKEN}") == 404
    assert access(TOKEN, None) == 401
    assert access(TOKEN, TOKEN) == 401  # no scheme
    assert access(TOKEN, "Bearer wrong") == 401
    assert access(TOKEN, f"Basic {TOKEN}") == 401
    assert access(TOKEN, f"Bearer {TOKEN}") == 200
    assert access(TOKEN, f"bearer {TOKEN}") == 200


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=answers), metrics_token=TOKEN) as running:
        yield running


async def scrape(base_url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by name, with its labels."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    families = list(text_string_to_metric_families(response.text))
    assert {family.name for family in families} >= NAMES  # each declared, with or without samples yet
    for family in families:
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(value for found, value in samples.get(name, []) if labels.items() <= found.items())


async def test_a_scrape_needs_the_token(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "frontdoor" not in wrong.text


async def test_metrics_are_off_without_a_token(tmp_path: Path) -> None:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=answers)) as running, \
            httpx.AsyncClient(base_url=running.base_url) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "METRICS_TOKEN" in response.json()["detail"]


async def test_turns_handoffs_and_queues_show_in_the_scrape(served: Served) -> None:
    before = await scrape(served.base_url)
    assert total(before, "frontdoor_webchat_open_sessions") == 0
    assert total(before, "frontdoor_handoffs_total") == 0
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        await visitor.say("hola")
        await visitor.say("quiero hablar con una persona")
    finally:
        await visitor.close()
    after = await scrape(served.base_url)
    assert total(after, "frontdoor_turn_latency_seconds_count", channel="webchat") == 2
    assert total(after, "frontdoor_rasa_latency_seconds_count", channel="webchat") == 2
    assert 0 < total(after, "frontdoor_turn_latency_seconds_sum", channel="webchat") < 20
    assert total(after, "frontdoor_handoffs_total", reason="explicit_request") == 1
    assert total(after, "frontdoor_queue_length") == 1
    assert total(after, "frontdoor_webchat_open_sessions") == 1

    engine = create_engine(served.database_url)
    async with session_factory(engine)() as session, session.begin():
        case = (await session.scalars(select(Case))).one()
        session.add_all([Outbox(case_id=case.id, channel="whatsapp", recipient="5215512345678", payload={},
                                status="failed", last_error="(131047) Re-engagement message"),
                         Outbox(case_id=case.id, channel="whatsapp", recipient="5215512345678", payload={}),
                         InboundWebhook(channel="whatsapp", body=b"{}")])
    await engine.dispose()
    stored = await scrape(served.base_url)
    assert total(stored, "frontdoor_outbox_failed", channel="whatsapp", code="131047") == 1
    assert total(stored, "frontdoor_outbox_backlog", channel="whatsapp") == 1
    assert total(stored, "frontdoor_webhooks_unprocessed", channel="whatsapp") == 1


async def test_the_snapshot_reads_queues_and_agents(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        customer = Customer()
        session.add(customer)
        await session.flush()
        session.add_all([
            Case(customer_id=customer.id, channel="whatsapp", status="queued", team="billing",
                 queued_at=now - timedelta(minutes=5)),
            Case(customer_id=customer.id, channel="webchat", status="queued", team="billing",
                 queued_at=now - timedelta(minutes=1)),
            Case(customer_id=customer.id, channel="webchat", status="resolved", team="billing"),
            Agent(email="a@example.com", display_name="A", password_hash="x", teams=["billing", "sales"],
                  presence="online"),
            Agent(email="b@example.com", display_name="B", password_hash="x", teams=["billing"], presence="away")])
    async with sessions() as session:
        snapshot = await read_snapshot(session, now)
    assert snapshot.queued == {"billing": 2}
    assert 299 <= snapshot.oldest_wait["billing"] <= 301
    assert snapshot.agents_online == {"billing": 1, "sales": 1}
    assert snapshot.webchat_open == 1
