"""Outgoing webhooks through the whole app on SQLite and PostgreSQL: a receiver on loopback gets each event of its
integration signed (verified here as a receiver would), in order and once, also after being down for a while."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from handoff.integrations.signatures import sign, verify, webhook_secret
from handoff.integrations.webhook_delivery import answer_result, encoded
from handoff.integrations.webhooks import webhook_body
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Commitment, utcnow
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.polling import until
from tests.service.support.processes import free_port
from tests.service.support.served_app import app_settings, served_app
from tests.service.support.webchat_client import Visitor
from tests.service.support.webhook_receiver import Received, WebhookReceiver


def test_signatures_verify_only_the_signed_body_and_time_and_answers_decide_retries() -> None:
    secret = webhook_secret(b"service-key", "integration-1", 1)
    assert secret != webhook_secret(b"service-key", "integration-1", 2) != webhook_secret(b"other", "integration-1", 1)
    body = encoded(webhook_body("d1", "integration-1", "case.resolved", utcnow(), {"case": {"id": "c1"}}))
    now = int(time.time())
    header = sign(secret, now, body)
    expected = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={now},v1={expected}"
    assert verify(header, body, secret, now + 299)
    assert not verify(header, body, secret, now + 301)  # a replay after the tolerance
    assert not verify(header, body + b" ", secret, now) and not verify(header, body, secret + "x", now)
    assert not verify(header.replace(f"t={now}", f"t={now + 1}"), body, secret, now)  # the time is signed too
    assert not verify(None, body, secret, now) and not verify("t=x,v1=é", body, secret, now)
    assert answer_result(204).ok and answer_result(200).message_id == "HTTP 200"
    for status, retry in ((500, True), (503, True), (429, True), (408, True), (400, False), (404, False),
                          (410, False), (301, False)):
        assert not answer_result(status).ok and answer_result(status).retry is retry, status


@dataclass
class Desk:
    base_url: str
    database_url: str
    admin: AgentClient
    agent: AgentClient
    receiver: WebhookReceiver


@pytest.fixture
async def desk(tmp_path: Path, database_url: str) -> AsyncIterator[Desk]:
    for email, role in (("root@example.com", "admin"), ("eva@example.com", "agent")):
        await asyncio.to_thread(create_agent, database_url, email, role)
    receiver = WebhookReceiver().start()
    settings = app_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url=database_url,
                            bot_timeout_seconds=2, webhook_backoff_seconds=0.1, webhook_backoff_max_seconds=0.4,
                            commitments_due_check_seconds=0.2, webchat_rate_limit_messages=1000)
    async with served_app(settings) as url:
        admin, agent = AgentClient(url), AgentClient(url)
        assert (await admin.login("root@example.com")).status_code == 200
        assert (await agent.login("eva@example.com")).status_code == 200
        yield Desk(url, database_url, admin, agent, receiver)
        await admin.close()
        await agent.close()
    receiver.stop()


def received_at_least(receiver: WebhookReceiver, count: int) -> Callable[[], Awaitable[list[Received] | None]]:
    async def check() -> list[Received] | None:
        bodies = receiver.bodies()
        return bodies if len(bodies) >= count else None
    return check


def verified(received: list[Received], secret: str) -> list[dict[str, Any]]:
    """What a receiver does with each request: check the signature against its clock, then read the JSON."""
    bodies = []
    for item in received:
        assert verify(item.headers["X-Frontdoor-Signature"], item.body, secret, time.time()), item.headers
        body = json.loads(item.body)
        assert item.headers["X-Frontdoor-Event"] == body["event"]
        assert item.headers["X-Frontdoor-Delivery"] == body["id"]
        assert item.headers["Content-Type"] == "application/json"
        bodies.append(body)
    return bodies


async def test_each_event_reaches_the_receiver_signed_in_order_and_once_after_an_outage(desk: Desk) -> None:
    made = await desk.admin.post("/integrations", {"name": "CRM", "scopes": ["webhooks"],
                                                   "webhook_url": desk.receiver.url})
    assert made.status_code == 201, made.text
    secret, integration = made.json()["webhook_secret"], made.json()["integration"]
    quiet = await desk.admin.post("/integrations", {"name": "Only CSAT", "scopes": ["webhooks"],
                                                    "webhook_url": desk.receiver.url.replace("/hooks", "/other"),
                                                    "webhook_events": ["csat.received"]})
    assert quiet.status_code == 201

    assert (await desk.agent.post("/presence", {"presence": "online"})).status_code == 200
    visitor = Visitor(desk.base_url)
    await visitor.connect()
    await visitor.say("necesito ayuda con mi pedido", metadata={"language": "es"})  # nobody answers: to people
    first = await until(received_at_least(desk.receiver, 2), "received the handoff and the assignment")
    handed, assigned = verified(first, secret)
    assert [handed["event"], assigned["event"]] == ["case.handed_off", "case.assigned"]
    case = handed["data"]["case"]
    assert handed["data"]["reason"] == "bot_unavailable" and case["channel"] == "webchat"
    assert handed["integration_id"] == integration["id"] and handed["occurred_at"].endswith("Z")
    assert assigned["data"]["agent_id"] == desk.agent.me["id"]
    assert assigned["data"]["case"]["status"] == "assigned" and assigned["data"]["case"]["id"] == case["id"]

    reader = await desk.admin.post("/integrations", {"name": "Reader", "scopes": ["cases:read"]})
    for token, status in ((made.json()["token"], 403), (reader.json()["token"], 200)):
        read = await desk.agent.http.get(f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {token}"})
        assert read.status_code == status, read.text
    assert read.json() == assigned["data"]["case"]  # what the webhook carried is what the API reads
    missing = await desk.agent.http.get("/api/v1/cases/nosuchcase",
                                        headers={"Authorization": f"Bearer {reader.json()['token']}"})
    assert missing.status_code == 404

    desk.receiver.stop()  # the receiver is down: what happens now waits, in order
    promised = await desk.agent.post(f"/cases/{case['id']}/commitments", {
        "text": "Te llamo mañana", "due_at": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()})
    assert promised.status_code == 201, promised.text
    engine = create_engine(desk.database_url)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(Commitment).values(due_at=utcnow() - timedelta(minutes=1)))
    await engine.dispose()

    async def log(path: str) -> list[dict[str, Any]]:
        answer = await desk.admin.get(path)
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    async def retried() -> bool:
        rows = await log(f"/integrations/deliveries?integration_id={integration['id']}")
        return bool(rows) and rows[0]["event"] == "commitment.due" and rows[0]["attempts"] >= 2
    await until(retried, "retried the due commitment while the receiver was down")
    resolved = await desk.agent.post(f"/cases/{case['id']}/resolve", {"disposition": "information_given"})
    assert resolved.status_code == 200, resolved.text
    question = await visitor.next_event("bot_uttered")
    await visitor.client.emit("user_uttered", {"message": question["quick_replies"][0]["payload"],
                                               "title": question["quick_replies"][0]["title"],
                                               "session_id": visitor.session_id})
    await visitor.next_event("bot_uttered")  # thanks

    async def waiting() -> list[dict[str, Any]] | None:
        rows = await log(f"/integrations/deliveries?integration_id={integration['id']}")
        return rows if len(rows) == 5 else None
    rows = await until(waiting, "staged the resolution and the CSAT answer")
    head = rows[2]  # newest first: csat, resolved, then the due commitment being retried
    assert [row["event"] for row in rows] == ["csat.received", "case.resolved", "commitment.due", "case.assigned",
                                              "case.handed_off"]
    assert head["status"] in ("pending", "sending") and "could not be reached" in (head["last_error"] or "")
    assert [row["status"] for row in rows[:2]] == ["pending", "pending"] and rows[0]["attempts"] == 0
    assert len(desk.receiver.bodies()) == 2

    desk.receiver.start()  # up again on the same port
    everything = await until(received_at_least(desk.receiver, 5), "delivered what waited")
    await asyncio.sleep(1.0)  # longer than the longest backoff: nothing comes twice
    bodies = verified(desk.receiver.bodies(), secret)
    assert [body["event"] for body in bodies] == ["case.handed_off", "case.assigned", "commitment.due",
                                                 "case.resolved", "csat.received"]
    assert len(everything) == 5 and len({body["id"] for body in bodies}) == 5
    due, done, csat = bodies[2:]
    assert due["data"]["commitment_id"] == promised.json()["id"] and due["data"]["due_at"].endswith("Z")
    assert done["data"]["disposition"] == "information_given" and done["data"]["case"]["status"] == "resolved"
    assert csat["data"]["score"] == 5 and csat["data"]["case"]["csat"] == 5

    rows = await log(f"/integrations/deliveries?integration_id={integration['id']}")
    assert [row["status"] for row in rows] == ["sent"] * 5 and rows[2]["attempts"] >= 3
    assert all(row["response"] == "HTTP 200" for row in rows)
    other = await log(f"/integrations/deliveries?integration_id={quiet.json()['integration']['id']}")
    assert [row["event"] for row in other] == ["csat.received"]  # only what it asked for (to a 404: failed)
    assert other[0]["status"] == "failed" and "HTTP 404" in other[0]["last_error"]
    mine = await desk.agent.http.get("/api/v1/webhooks/deliveries",
                                     headers={"Authorization": f"Bearer {made.json()['token']}"})
    assert [row["id"] for row in mine.json()] == [row["id"] for row in rows]
    assert (await desk.agent.get("/integrations/deliveries")).status_code == 403
    await visitor.close()
