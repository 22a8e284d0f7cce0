"""Load-test your own deployment with Locust: webchat customers over websockets and signed WhatsApp webhooks.

Install apart from the service (Locust brings gevent): `python -m venv .venv-locust &&
.venv-locust/bin/pip install -c constraints/bench.txt locust websocket-client`, then
`.venv-locust/bin/locust -f bench/locustfile.py --host https://frontdoor.example.com` (web UI on :8089), or
headless: `... --headless -u 200 -r 20 -t 5m`.

- `WebchatCustomer` speaks the widget's protocol (Engine.IO 4 websocket, Socket.IO packets): a session on start,
  then every 2-6 s a message; "webchat turn" times sending to the assistant's typing-off after its answer.
- `WhatsAppCustomer` (only with FRONTDOOR_APP_SECRET, the deployment's WHATSAPP_APP_SECRET) posts signed text
  webhooks as Meta does; "whatsapp webhook" times the acknowledgement (the answer goes to Meta, not here).
  FRONTDOOR_PHONE_NUMBER_ID: the deployment's WHATSAPP_PHONE_NUMBER_ID. Point such a deployment's
  WHATSAPP_API_BASE at a stand-in, not at Meta: it would message the made-up numbers.
The deployment's webchat limits count per address (WEBCHAT_RATE_LIMIT_*): one load generator is one address.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import time
import uuid
from typing import Any

import websocket
from locust import HttpUser, User, between, events, task
from locust.exception import StopUser

MESSAGES = ["hola", "a que hora abren?", "donde esta mi pedido 100002", "gracias",
            "hi", "what time do you open?", "where is my order 100003", "thanks"]
APP_SECRET = os.environ.get("FRONTDOOR_APP_SECRET", "")
PHONE_NUMBER_ID = os.environ.get("FRONTDOOR_PHONE_NUMBER_ID", "106540352242922")
TURN_TIMEOUT = float(os.environ.get("FRONTDOOR_TURN_TIMEOUT", "60"))


def socket_url(host: str) -> str:
    return host.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + \
        "/socket.io/?EIO=4&transport=websocket"


class WebchatCustomer(User):
    """A visitor with the widget open: one websocket, a message every few seconds."""

    weight = 4
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.turn = random.randrange(len(MESSAGES))
        started = time.perf_counter()
        try:
            self.ws = websocket.create_connection(socket_url(self.host), timeout=TURN_TIMEOUT,
                                                  origin=self.host.rstrip("/"))
            if not self.ws.recv().startswith("0"):
                raise ConnectionError("no Engine.IO open packet")
            self.ws.send("40")
            self.session_id = self.until("session_confirm")["session_id"]
        except Exception as exc:  # noqa: BLE001 - any failure is Locust's to count
            self.report("webchat connect", started, exc)
            raise StopUser() from exc
        self.report("webchat connect", started)

    def on_stop(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()

    def emit(self, event: str, data: Any) -> None:
        self.ws.send("42" + json.dumps([event, data]))

    def events_until(self, deadline: float) -> Any:
        """Socket.IO events as (name, data); answers the server's pings on the way."""
        while time.perf_counter() < deadline:
            packet = self.ws.recv()
            if packet == "2":
                self.ws.send("3")
            elif packet.startswith("40"):
                self.emit("session_request", {"session_id": None})
            elif packet.startswith("42"):
                name, *rest = json.loads(packet[2:])
                yield name, rest[0] if rest else None
        raise TimeoutError("no answer in time")

    def until(self, wanted: str) -> Any:
        for name, data in self.events_until(time.perf_counter() + TURN_TIMEOUT):
            if name == wanted:
                return data
            if name == "error":
                raise ConnectionError(str(data))
        return None

    def report(self, name: str, started: float, exc: Exception | None = None) -> None:
        events.request.fire(request_type="WS", name=name, response_time=(time.perf_counter() - started) * 1000,
                            response_length=0, exception=exc, context={})

    @task
    def write(self) -> None:
        self.turn += 1
        started = time.perf_counter()
        self.emit("user_uttered", {"message": MESSAGES[self.turn % len(MESSAGES)], "session_id": self.session_id,
                                   "message_id": uuid.uuid4().hex})
        try:
            for name, data in self.events_until(started + TURN_TIMEOUT):
                if name == "typing" and data == {"actor": "bot", "on": False}:
                    break
                if name == "error":
                    raise ConnectionError(str(data))
        except Exception as exc:  # noqa: BLE001 - a refused or unanswered turn is a failure in the report
            self.report("webchat turn", started, exc)
            return
        self.report("webchat turn", started)


def signed_text(wa_id: str, text: str) -> tuple[bytes, str]:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Load Test"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": f"wamid.locust.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}]}}]}]}).encode()
    return body, "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppCustomer(HttpUser):
    """A WhatsApp customer as Meta delivers them: a signed webhook every few seconds."""

    weight = 1
    wait_time = between(2, 6)

    def on_start(self) -> None:
        if not APP_SECRET:
            raise StopUser()  # no secret, no WhatsApp: the webchat customers run alone
        self.wa_id = f"5215{random.randrange(10**9):09d}"
        self.turn = random.randrange(len(MESSAGES))

    @task
    def write(self) -> None:
        self.turn += 1
        body, signature = signed_text(self.wa_id, MESSAGES[self.turn % len(MESSAGES)])
        self.client.post("/webhooks/whatsapp", data=body, name="whatsapp webhook",
                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
