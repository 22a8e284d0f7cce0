"""The inbox's queue while the assistant is down and once it is back: the held customer's message is pushed to
people, then the case leaves the queue live when the assistant takes it back."""
from __future__ import annotations

import json
from typing import Any

import httpx

from handoff.core.bot_client import RasaClient
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.operations import load_operations
from handoff.inbox import views
from handoff.inbox.live_pushes import LivePushes
from handoff.services import build_services
from handoff.settings import REPO_ROOT


class Live:
    """The Socket.IO side of the inbox, as pushes it would send."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, dict[str, Any]]] = []

    async def case_updated(self, summary: dict[str, Any], *, previous_team: str | None = None) -> None:
        self.pushes.append(("case_updated", summary))

    async def case_event(self, case_id: str, team: str | None, assignee_id: str | None,
                         event: dict[str, Any]) -> None:
        self.pushes.append(("case_event", event))


class Silent:
    staged_status = None

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value

    async def stage(self, session: Any, event: Any, address: str, message: OutboundMessage) -> None:
        return None

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        return None

    async def typing(self, address: str, actor: str, on: bool) -> None:
        return None


async def test_a_case_the_assistant_takes_back_leaves_the_queue_live(sessions) -> None:
    down = {"now": False}

    def rasa(request: httpx.Request) -> httpx.Response:
        if down["now"]:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path.endswith("/tracker"):
            return httpx.Response(200, json={"slots": {"language": "es"}})
        return httpx.Response(200, json=[{"text": f"Recibido: {json.loads(request.content)['message']}"}])

    live = Live()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa)))
    conversations = build_services(sessions, load_operations(REPO_ROOT / "operations.yml"), bot,
                                   {"webchat": Silent()}, [LivePushes(sessions, live)]).conversations

    async def say(text: str) -> str:
        received = await conversations.receive(InboundMessage(
            channel="webchat", identity_kind="webchat", identity_value="v1", address="v1", text=text,
            bot_input=text, language="es"))
        if received.to_bot and received.event_id is not None:
            await conversations.process(received.event_id, received.turn)
        assert received.case_id is not None
        return received.case_id

    async def queued() -> list[str]:
        async with sessions() as session:
            return [row["id"] for row in await views.queue(session, None)]

    await say("hola")
    down["now"] = True
    case_id = await say("donde esta mi pedido?")
    assert await queued() == [case_id]
    down["now"] = False
    live.pushes.clear()

    assert await say("sigo aqui") == case_id
    assert await queued() == []
    assert [(kind, push.get("text"), push.get("status")) for kind, push in live.pushes] == [
        ("case_event", "sigo aqui", None), ("case_updated", None, "queued"),  # people saw it while it was theirs
        ("case_updated", None, "bot")]  # then the case left their queue
    await bot.aclose()
