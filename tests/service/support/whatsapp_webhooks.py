"""Webhook bodies as Meta sends them, built from the documented fixtures, and signed posts of them."""
from __future__ import annotations

import json
import time

import httpx

from handoff.channels.whatsapp.signature import sign
from tests.service.support.graph_api import fixture

WA_ID = "16505551234"
BSUID = "MX.1502576394655843"  # the business-scoped user id of the username-only fixtures
APP_SECRET = "test-app-secret"


def text_webhook(body: str = "Hola, donde esta mi pedido?", wamid: str = "wamid.TEXT1", sender: str | None = None,
                 **extra: object) -> bytes:
    """The documented text-message webhook with another text and id, sent now (from `sender`, a wa_id, if given)."""
    data = fixture("webhook_text_message.json")
    value = data["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    if sender is not None:
        value["contacts"][0]["wa_id"] = sender
        message["from"] = sender
    message.update({"id": wamid, "text": {"body": body}, "timestamp": str(int(time.time())), **extra})
    return json.dumps(data).encode()


def button_reply_webhook(reply_id: str, title: str, context_id: str, wamid: str = "wamid.BUTTON1") -> bytes:
    """The documented interactive button-reply webhook answering our message `context_id`."""
    data = fixture("webhook_interactive_button_reply.json")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update({"id": wamid, "context": {"from": "15550783881", "id": context_id},
                    "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}})
    return json.dumps(data).encode()


def status_webhook(wamid: str, status: str, **extra: object) -> bytes:
    """The documented status webhook for another message and state."""
    data = fixture("webhook_status_sent_with_pricing.json")
    data["entry"][0]["changes"][0]["value"]["statuses"][0].update({"id": wamid, "status": status, **extra})
    return json.dumps(data).encode()


def username_webhook(body: str = "hola, quiero saber de mi pedido", wamid: str = "wamid.USER1",
                     timestamp: str | None = None, username: str | None = None) -> bytes:
    """The documented username-only text webhook (no `wa_id`/`from`, only the business-scoped id), sent now."""
    data = fixture("webhook_text_username_only.json")
    value = data["entry"][0]["changes"][0]["value"]
    value["messages"][0].update({"id": wamid, "text": {"body": body}, "timestamp": timestamp or str(int(time.time()))})
    if username is not None:
        value["contacts"][0]["profile"]["username"] = username
    return json.dumps(data).encode()


def both_ids_webhook(body: str = "hola", wamid: str = "wamid.BOTH1") -> bytes:
    """The documented text webhook from WA_ID whose contact also carries the business-scoped id, as Meta sends
    them since April 2026 to a customer who shows their number."""
    data = json.loads(text_webhook(body, wamid))
    data["entry"][0]["changes"][0]["value"]["contacts"][0]["user_id"] = BSUID
    return json.dumps(data).encode()


def username_status_webhook(wamid: str, status: str = "delivered", **extra: object) -> bytes:
    """The documented username-only status webhook (only `recipient_user_id`) for another message and state."""
    data = fixture("webhook_status_delivered_username_only.json")
    data["entry"][0]["changes"][0]["value"]["statuses"][0].update({"id": wamid, "status": status, **extra})
    return json.dumps(data).encode()


def messages_webhook(*messages: dict) -> bytes:
    """One webhook carrying several messages from the same customer."""
    data = fixture("webhook_text_message.json")
    data["entry"][0]["changes"][0]["value"]["messages"] = [
        {"from": WA_ID, "timestamp": "1749416383", **message} for message in messages]
    return json.dumps(data).encode()


def post_signed(base_url: str, body: bytes, secret: str = APP_SECRET) -> httpx.Response:
    """POST /webhooks/whatsapp as Meta does: raw JSON bytes with X-Hub-Signature-256."""
    return httpx.post(f"{base_url}/webhooks/whatsapp", content=body, timeout=30,
                      headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)})
