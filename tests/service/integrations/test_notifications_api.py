"""`POST /api/v1/notifications` and `GET /api/v1/notifications/{id}` over a served app and the Graph API stand-in:
202 with an id, the same idempotency key answered with the same id and sent once, an unknown template 422, an
opted-out customer 409, free text alone outside the customer's window 422, a token without
`notifications:send` 403, none or a revoked one 401.

Before: other systems had no way to write to a customer first.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from handoff.core.customers import resolve_contact
from handoff.core.signing import load_secret_key
from handoff.integrations.registry import Integrations
from handoff.settings import REPO_ROOT
from handoff.store.db import create_engine, session_factory
from handoff.store.models import utcnow
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import app_settings, served_app, served_standin

OPTED_OUT = "+525512340000"
SHIPPED = {"customer_name": "Ana", "order_number": "A-7", "tracking_url": "https://t.example/A-7"}


@pytest.fixture
async def served(workdir: Path, graph: GraphStandIn) -> AsyncIterator[tuple[str, dict[str, str]]]:
    operations = yaml.safe_load((REPO_ROOT / "operations.yml").read_text(encoding="utf-8"))
    operations["notifications"]["quiet_hours"] = None  # whatever the hour (the core's tests hold in quiet hours)
    operations_file = workdir / "notifications-operations.yml"
    operations_file.write_text(yaml.safe_dump(operations, allow_unicode=True), encoding="utf-8")
    async with served_standin(RasaStandIn()) as rasa_url:
        settings = app_settings(workdir, rasa_url, whatsapp_api_base=graph.base_url, whatsapp_access_token=TOKEN,
                                whatsapp_phone_number_id=PHONE_NUMBER_ID, operations_file=operations_file)
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            contact = await resolve_contact(session, "phone", OPTED_OUT, display_name="Beto")
            contact.customer.whatsapp_opted_out_at = utcnow()
        registry = Integrations(sessions, load_secret_key(settings.secret_key, workdir / "unused"))
        tokens = {scope: (await registry.create("cli", f"shop {scope}", [scope])).token
                  for scope in ("notifications:send", "cases:read")}
        revoked = await registry.create("cli", "old shop", ["notifications:send"])
        await registry.revoke("cli", revoked.integration["id"])
        tokens["revoked"] = revoked.token
        await engine.dispose()
        async with served_app(settings) as base_url:
            yield base_url, tokens


def shipped(key: str, phone: str = "+52 55 1234 5678", **more: object) -> dict[str, object]:
    return {"to": {"phone": phone}, "template": "order_shipped", "language": "es", "values": SHIPPED,
            "channel": "whatsapp", "idempotency_key": key, **more}


async def test_sent_once_per_key_refusals_and_scopes(served, graph: GraphStandIn) -> None:
    base_url, tokens = served
    sender = {"Authorization": f"Bearer {tokens['notifications:send']}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        first = await http.post("/api/v1/notifications", headers=sender,
                                json=shipped("A-7", send_after="2020-01-01T00:00:00Z"))
        assert first.status_code == 202, first.text
        again = await http.post("/api/v1/notifications", headers=sender, json=shipped("A-7"))
        assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
        notification = first.json()["id"]
        state = (await http.get(f"/api/v1/notifications/{notification}", headers=sender)).json()
        assert state["state"] in ("queued", "sent") and state["template"] == "order_shipped"
        await graph.arrived(lambda: len(graph.sends()) == 1, timeout=60, what="the notification's template")
        assert graph.sends()[0]["template"]["name"] == "order_shipped"
        assert graph.sends()[0]["to"] == "525512345678"
        refused = await http.post("/api/v1/notifications", headers=sender, json=shipped("B-1", phone=OPTED_OUT))
        assert refused.status_code == 409
        assert refused.json()["detail"].endswith("refused: the customer opted out of WhatsApp messages")
        unknown = await http.post("/api/v1/notifications", headers=sender, json={**shipped("C"), "template": "nope"})
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "template"]
        missing = await http.post("/api/v1/notifications", headers=sender, json={**shipped("D"), "values": {}})
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "values"]
        free = {**shipped("T"), "template": None, "text": "Tu pedido A-7 salió.", "allow_free_text": True}
        closed = await http.post("/api/v1/notifications", headers=sender, json=free)  # never wrote: no window
        assert closed.status_code == 422 and closed.json()["detail"][0]["loc"] == ["body", "template"]
        assert "24-hour WhatsApp window" in closed.json()["detail"][0]["msg"]
        unallowed = await http.post("/api/v1/notifications", headers=sender, json={**free, "allow_free_text": False})
        assert unallowed.status_code == 422 and unallowed.json()["detail"][0]["loc"] == ["body", "allow_free_text"]
        nobody = await http.post("/api/v1/notifications", headers=sender,
                                 json={**shipped("E"), "to": {"email": "nobody@example.com"}})
        assert nobody.status_code == 422 and nobody.json()["detail"][0]["loc"] == ["body", "to"]
        wrong = {"Authorization": f"Bearer {tokens['cases:read']}"}
        denied = await http.post("/api/v1/notifications", headers=wrong, json=shipped("F"))
        assert denied.status_code == 403 and denied.json()["detail"] == "this token lacks the scope notifications:send"
        assert (await http.get(f"/api/v1/notifications/{notification}", headers=wrong)).status_code == 403
        assert (await http.post("/api/v1/notifications", json=shipped("G"))).status_code == 401
        gone = {"Authorization": f"Bearer {tokens['revoked']}"}
        assert (await http.post("/api/v1/notifications", headers=gone, json=shipped("H"))).status_code == 401
        assert (await http.get("/api/v1/notifications/nothere", headers=sender)).status_code == 404
    assert len(graph.sends()) == 1  # the same key twice, the refused and invalid ones: one message
