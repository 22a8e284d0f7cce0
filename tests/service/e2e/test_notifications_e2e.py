"""Issue 18's Show, end to end: the service process with the real trained assistant and the Graph API stand-in.
A shop's integration (token from the CLI) sends an order-shipped notification to a phone the service has never
seen; the customer's "y cuando llega?" is answered with that order's status, no number asked; the same
idempotency key twice goes out once; a customer who wrote "baja" is refused with the reason; a notification
inside the customer's quiet hours is held until they end (quiet hours set around the test's minute, in the
customer's zone, so the wait is under two minutes) and then sent by the service's release round.

Before: nothing outside the inbox could write first, and a reply to such a message reached an assistant that
knew nothing of what had been sent.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import InboundWebhook, Outbox, PendingTurn, TimelineEvent
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.polling import until
from tests.service.support.processes import REPO
from tests.service.support.stack import VENV, always_open_operations
from tests.service.support.whatsapp_webhooks import APP_SECRET, WA_ID, post_signed, text_webhook

pytestmark = pytest.mark.e2e

SECRET = "notifications-e2e-secret-key-0123456789"
SHOPPER = WA_ID  # +1 650: America/Los_Angeles, never seen by the service before the notification
OPTED_OUT = "16505550199"  # writes "baja" first
NIGHT_OWL = "525512340077"  # +52 55: America/Mexico_City, where the quiet hours are now
MEXICO = ZoneInfo("America/Mexico_City")
SHIPPED = {"customer_name": "Sheena", "order_number": "100002",
           "tracking_url": "https://tracking.example.com/track/100002"}


def operations_with_quiet_hours_now(workdir: Path, tmp_path: Path) -> tuple[Path, datetime]:
    """Always open, with quiet hours in Mexico City (two hours ahead of Los Angeles, whose customers are outside them)
    from a minute ago to the next whole minute at least 40 s away (the service starts and the first notification
    is posted inside them); returns the file and when the quiet hours end (UTC)."""
    now = datetime.now(MEXICO)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    end = start + timedelta(minutes=2 if now.second < 20 else 3)
    operations = yaml.safe_load(always_open_operations(workdir).read_text(encoding="utf-8"))
    operations["notifications"]["quiet_hours"] = [f"{start:%H:%M}", f"{end:%H:%M}"]
    path = tmp_path / "operations-quiet-now.yml"
    path.write_text(yaml.safe_dump(operations, allow_unicode=True), encoding="utf-8")
    return path, end.astimezone(timezone.utc)


def from_customer(wa_id: str, body: str, wamid: str) -> bytes:
    """The documented text webhook, written by `wa_id`."""
    data = json.loads(text_webhook(body, wamid=wamid))
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0]["from"] = wa_id
    return json.dumps(data).encode()


def integration_token(database_url: str) -> str:
    """`python -m handoff integrations create`, as an operator makes the shop's token."""
    made = subprocess.run([str(VENV / "bin" / "python"), "-m", "handoff", "integrations", "create", "--name", "Shop",
                           "--scopes", "notifications:send"], cwd=REPO, text=True, capture_output=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET})
    assert made.returncode == 0, made.stderr
    found = re.search(r"token \(shown only now, keep it secret\): (fdi_\S+)", made.stdout)
    assert found, made.stdout
    return found.group(1)


def moment(value: str) -> datetime:
    """The API's UTC times ("…Z"; Python 3.10's fromisoformat wants an offset)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def shipped(key: str, phone: str, **more: object) -> dict[str, object]:
    return {"to": {"phone": phone}, "template": "order_shipped", "language": "es", "values": SHIPPED,
            "idempotency_key": key, **more}


async def test_the_business_writes_first_and_the_reply_continues_with_the_assistant(
        service_factory, graph: GraphStandIn, workdir: Path, tmp_path: Path) -> None:
    operations, quiet_ends = operations_with_quiet_hours_now(workdir, tmp_path)
    service = service_factory(
        WHATSAPP_APP_SECRET=APP_SECRET, WHATSAPP_VERIFY_TOKEN="verify-me", WHATSAPP_ACCESS_TOKEN=TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_BASE=graph.base_url, MEDIA_DIR=str(tmp_path / "media"),
        OUTBOX_BACKOFF_SECONDS="0.05", OPERATIONS_FILE=str(operations), SECRET_KEY=SECRET,
        NOTIFICATION_RELEASE_SECONDS="1")
    engine = create_engine(service.database_url)
    sessions = session_factory(engine)

    async def settled() -> bool:
        async with sessions() as session:
            return not any([
                await session.scalar(select(func.count()).select_from(InboundWebhook)
                                     .where(InboundWebhook.processed_at.is_(None))),
                await session.scalar(select(func.count()).select_from(PendingTurn)),
                await session.scalar(select(func.count()).select_from(Outbox)
                                     .where(Outbox.status.in_(("pending", "sending"))))])

    shop = {"Authorization": f"Bearer {integration_token(service.database_url)}"}
    try:
        async with httpx.AsyncClient(base_url=service.base_url, headers=shop, timeout=60) as api:
            # Inside the customer's quiet hours: held until they end (first, so the wait overlaps the rest).
            night = await api.post("/api/v1/notifications", json=shipped("night-100002", f"+{NIGHT_OWL}"))
            assert night.status_code == 202, night.text
            assert night.json()["state"] == "held"
            held = (await api.get(f"/api/v1/notifications/{night.json()['id']}")).json()
            assert held["reason"] == "held until the customer's quiet hours end"
            assert moment(held["due_at"]) == quiet_ends

            # A phone never seen: the order-shipped template, once for the same idempotency key.
            first = await api.post("/api/v1/notifications", json=shipped("shipped-100002", f"+{SHOPPER}"))
            again = await api.post("/api/v1/notifications", json=shipped("shipped-100002", f"+{SHOPPER}"))
            assert first.status_code == again.status_code == 202, (first.text, again.text)
            assert again.json()["id"] == first.json()["id"]
            graph.wait_for(lambda: [s for s in graph.sends() if s["to"] == SHOPPER], timeout=60,
                           what="the order-shipped template")
            await until(settled, "the notification sent", timeout=60)

            # The customer answers without a number: the assistant knows which order the message spoke of.
            assert post_signed(service.base_url, from_customer(SHOPPER, "y cuando llega?", "wamid.N1")).status_code \
                == 200
            graph.wait_for(lambda: graph.texts_to(SHOPPER), timeout=120, what="the assistant's answer")
            await until(settled, "the reply answered", timeout=120)
            answer = " ".join(graph.texts_to(SHOPPER))
            assert "100002" in answer and "enviado" in answer, answer
            assert "número de pedido" not in answer, answer  # never asked for the number it had just sent
            state = (await api.get(f"/api/v1/notifications/{first.json()['id']}")).json()
            assert state["state"] == "answered" and state["sent_as"] == "template"
            async with sessions() as session:
                on_case = list(await session.scalars(
                    select(TimelineEvent).where(TimelineEvent.case_id == state["case_id"])
                    .order_by(TimelineEvent.id)))
            kinds = [(e.kind, e.direction, e.actor) for e in on_case if e.kind in ("notification", "message")]
            assert kinds[:4] == [("notification", "internal", "system"), ("message", "out", "system"),
                                 ("message", "in", "customer"), ("message", "out", "bot")]  # one case, the assistant's
            assert [s["template"]["name"] for s in graph.sends() if s["to"] == SHOPPER and s["type"] == "template"] \
                == ["order_shipped"]

            # A customer who wrote "baja": refused, with the reason.
            assert post_signed(service.base_url, from_customer(OPTED_OUT, "baja", "wamid.N2")).status_code == 200
            await until(settled, "the opt-out recorded", timeout=120)
            refused = await api.post("/api/v1/notifications", json=shipped("optout-100002", f"+{OPTED_OUT}"))
            assert refused.status_code == 409, refused.text
            assert refused.json()["detail"].endswith("refused: the customer opted out of WhatsApp messages")

            # The quiet hours end: the service's release round sends the held one.
            wait = max((quiet_ends - datetime.now(timezone.utc)).total_seconds(), 0) + 30
            graph.wait_for(lambda: [s for s in graph.sends() if s["to"] == NIGHT_OWL], timeout=wait,
                           what="the held notification after the quiet hours")
            released = (await api.get(f"/api/v1/notifications/{night.json()['id']}")).json()
            assert released["state"] in ("queued", "sent", "delivered")
            assert moment(released["sent_at"]) >= quiet_ends
        assert [s["to"] for s in graph.sends() if s["type"] == "template"] == [SHOPPER, NIGHT_OWL]
    finally:
        await engine.dispose()
        service.stop()
