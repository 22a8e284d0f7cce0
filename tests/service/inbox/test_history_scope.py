"""Each way into a case shows an agent only the earlier cases they may read: REST, Socket.IO, media, export.

The finding: an agent of team fraud, refused a care case (403), read that case's messages and its private
note by opening the customer's next case while the assistant held it (no team yet).
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, TimelineEvent
from tests.service.inbox.support import AgentClient, InboxSocket, create_agent
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.polling import until
from tests.service.support.rasa_loopback import RasaLoopback
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.stack import Service, start_service
from tests.service.support.webchat_client import Visitor
from tests.service.support.whatsapp_webhooks import APP_SECRET, messages_webhook, post_signed

HANDOFF = {"handoff": {"reason": "customer_request", "intent": "human", "confidence": 0.99, "team": "care"}}
PHOTO = b"\xff\xd8\xff\xe0 a photo of the cloned card"


def assistant(message: str) -> list[dict[str, Any]]:
    """Hands off to care when asked for a person; answers anything else itself (the case stays its own)."""
    if "persona" in message:
        return [{"text": "Te paso con una persona"}, {"custom": HANDOFF}]
    return [{"text": "Te ayudo yo"}]


@pytest.fixture(scope="module")
def service(graph: GraphStandIn, workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    rasa = RasaLoopback(RasaStandIn(reply=assistant)).start()
    started = start_service({"RASA_URL": rasa.url, "BOT_TIMEOUT_SECONDS": "30", "BOT_RETRIES": "0",
                             "INBOX_LOGIN_ATTEMPTS": "1000", "WEBCHAT_RATE_LIMIT_MESSAGES": "1000",
                             "WHATSAPP_APP_SECRET": APP_SECRET,
                             "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_ACCESS_TOKEN": TOKEN,
                             "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_BASE": graph.base_url,
                             "MEDIA_DIR": str(tmp_path_factory.mktemp("media"))}, workdir)
    yield started
    started.stop()
    rasa.stop()


@dataclass
class Team:
    care: AgentClient
    fraud: AgentClient
    supervisor: AgentClient
    admin: AgentClient


@pytest.fixture
async def team(service: Service) -> AsyncIterator[Team]:
    clients = []
    for role, teams in (("agent", "care"), ("agent", "fraud"), ("supervisor", ""), ("admin", "")):
        email = f"{role}-{teams or 'all'}-{uuid.uuid4().hex[:8]}@example.com"
        create_agent(service.database_url, email, role=role, teams=teams)
        client = AgentClient(service.base_url)
        assert (await client.login(email)).status_code == 200
        clients.append(client)
    yield Team(*clients)
    for client in clients:
        await client.post("/logout")
        await client.close()


async def cases_with(service: Service, token: str) -> list[str]:
    """Ids of the cases of the customer who wrote `token`, oldest first."""
    engine = create_engine(service.database_url)
    try:
        async with session_factory(engine)() as session:
            customer = await session.scalar(select(TimelineEvent.customer_id)
                                            .where(TimelineEvent.text.contains(token)).limit(1))
            if customer is None:
                return []
            return list(await session.scalars(select(Case.id).where(Case.customer_id == customer)
                                               .order_by(Case.created_at)))
    finally:
        await engine.dispose()


async def care_handles(team: Team, case_id: str, token: str) -> None:
    """Care takes the case, answers, leaves a private note and resolves it; fraud is refused it."""
    assert (await team.care.post(f"/cases/{case_id}/accept")).status_code == 200
    assert (await team.care.post(f"/cases/{case_id}/reply", {"text": f"CARE-REPLY {token}"})).status_code == 200
    assert (await team.care.post(f"/cases/{case_id}/note", {"text": f"PRIVATE-NOTE {token}"})).status_code == 200
    resolved = await team.care.post(f"/cases/{case_id}/resolve", {"disposition": "information_given"})
    assert resolved.status_code == 200, resolved.text
    assert (await team.fraud.get(f"/cases/{case_id}")).status_code == 403


async def webchat_story(service: Service, team: Team) -> tuple[str, str, str]:
    """A care case, then the customer's next case, which the assistant holds: (care id, next id, token)."""
    token = uuid.uuid4().hex[:10]
    visitor = Visitor(service.base_url)
    await visitor.connect()
    try:
        told = await visitor.say(f"mi tarjeta fue clonada, quiero una persona {token}", metadata={"language": "es"})
        assert any("persona" in (reply.get("text") or "") for reply in told), told
        [care_case] = await until(lambda: cases_with(service, token), "the care case is stored")
        await care_handles(team, care_case, token)
        told = await visitor.say(f"hola de nuevo {token}")
        assert any(reply.get("text") == "Te ayudo yo" for reply in told), told
    finally:
        await visitor.close()
    _care, following = await cases_with(service, token)
    opened = (await team.fraud.get(f"/cases/{following}")).json()
    assert (opened["case"]["status"], opened["case"]["team"]) == ("bot", None)  # the assistant's: fraud may open it
    return care_case, following, token


def leaked(view: dict[str, Any], care_case: str, token: str) -> list[Any]:
    """Whatever of the care case a case view shows."""
    return ([e for e in view["events"] if e["case_id"] == care_case or "CARE-REPLY" in (e["text"] or "")
             or "PRIVATE-NOTE" in (e["text"] or "") or "persona" in (e["text"] or "")]
            + [c for c in view["customer"]["earlier_cases"] if c["id"] == care_case]
            + [c for c in view["calls"] if c["case_id"] == care_case])


async def test_a_fraud_agent_opening_the_next_case_sees_neither_the_care_messages_nor_the_note(
        service: Service, team: Team) -> None:
    care_case, following, token = await webchat_story(service, team)
    view = (await team.fraud.get(f"/cases/{following}")).json()
    assert leaked(view, care_case, token) == []
    assert [e["text"] for e in view["events"]] == [f"hola de nuevo {token}", "Te ayudo yo"]
    assert view["more_before"] is None


async def test_history_pages_do_not_reach_the_earlier_case_either(service: Service, team: Team) -> None:
    care_case, following, token = await webchat_story(service, team)
    first = (await team.fraud.get(f"/cases/{following}")).json()["events"][0]["id"]
    for before in (first, first + 1_000_000):
        page = await team.fraud.get(f"/cases/{following}", params={"before": before})
        assert page.status_code == 200 and leaked(page.json(), care_case, token) == [], before
    assert (await team.fraud.get(f"/cases/{following}", params={"before": first})).json()["events"] == []


async def test_supervisors_admins_and_care_still_see_the_whole_history(service: Service, team: Team) -> None:
    care_case, following, token = await webchat_story(service, team)
    for reader in (team.supervisor, team.admin, team.care):
        view = (await reader.get(f"/cases/{following}")).json()
        texts = [e["text"] for e in view["events"]]
        assert f"CARE-REPLY {token}" in texts and f"PRIVATE-NOTE {token}" in texts, reader.me["role"]
        assert [c["id"] for c in view["customer"]["earlier_cases"]] == [care_case]
        first = next(e["id"] for e in view["events"] if e["case_id"] == following)
        paged = (await reader.get(f"/cases/{following}", params={"before": first})).json()
        assert f"PRIVATE-NOTE {token}" in [e["text"] for e in paged["events"]]


async def test_the_export_is_for_supervisors_and_admins_and_holds_the_whole_case(service: Service,
                                                                                 team: Team) -> None:
    care_case, following, token = await webchat_story(service, team)
    for boss in (team.supervisor, team.admin):
        document = (await boss.get(f"/cases/{care_case}/export.json")).json()
        assert f"PRIVATE-NOTE {token}" in [e["text"] for e in document["events"]]
        following_export = (await boss.get(f"/cases/{following}/export.json")).json()
        assert {e["case_id"] for e in following_export["events"]} == {following}
    for agent in (team.fraud, team.care):
        for case_id in (care_case, following):
            assert (await agent.get(f"/cases/{case_id}/export.json")).status_code == 403


async def test_a_viewer_of_the_assistants_case_hears_nothing_once_it_belongs_to_another_team(
        service: Service, team: Team) -> None:
    """Joined while the assistant held it; the case then goes to care: care's note is not pushed to fraud."""
    token = uuid.uuid4().hex[:10]
    visitor = Visitor(service.base_url)
    await visitor.connect()
    fraud = InboxSocket(service.base_url, team.fraud.cookie_header())
    boss = InboxSocket(service.base_url, team.supervisor.cookie_header())
    await fraud.connect()
    await boss.connect()
    try:
        assert any(r.get("text") == "Te ayudo yo" for r in await visitor.say(f"hola {token}"))
        [case_id] = await cases_with(service, token)
        assert await fraud.call("join_case", {"case_id": case_id}) == {"ok": True}
        assert await boss.call("join_case", {"case_id": case_id}) == {"ok": True}
        await visitor.say(f"quiero una persona {token}")  # the assistant hands the case to care
        while (moved := await boss.next_event("case_updated"))["team"] != "care":
            assert moved["id"] == case_id
        assert await boss.call("join_case", {"case_id": case_id}) == {"ok": True}  # as the inbox page does
        assert (await team.care.post(f"/cases/{case_id}/accept")).status_code == 200
        while not (await boss.next_event("case_updated"))["assignee_id"]:
            pass
        assert await boss.call("join_case", {"case_id": case_id}) == {"ok": True}
        assert (await team.care.post(f"/cases/{case_id}/note", {"text": f"PRIVATE-NOTE {token}"})).status_code == 200
        noted = await until(lambda: _pushed_note(boss, token), "the supervisor hears care's note")
        assert noted["case_id"] == case_id
        assert await fraud.call("join_case", {"case_id": case_id}) == {"error": 403}

        # A push fraud may hear, sent after the note: whatever fraud heard of the case came before it.
        other = Visitor(service.base_url)
        await other.connect()
        await other.say(f"quiero una persona {token}-other")
        [other_case] = await until(lambda: cases_with(service, f"{token}-other"), "the other case is stored")
        await other.close()
        assert (await team.supervisor.post(f"/cases/{other_case}/transfer", {"team": "fraud"})).status_code == 200
        heard = []
        while True:
            name, data = await asyncio.wait_for(fraud.events.get(), 30)
            heard.append((name, data))
            if name == "case_updated" and data["id"] == other_case and data["team"] == "fraud":
                break
        about = [(name, data) for name, data in heard
                 if (data or {}).get("case_id") == case_id or (data or {}).get("id") == case_id]
        assert about == [], about
    finally:
        for socket in (fraud, boss):
            await socket.close()
        await visitor.close()


async def _pushed_note(socket: InboxSocket, token: str) -> dict[str, Any] | None:
    while not socket.events.empty():
        name, data = socket.events.get_nowait()
        if name == "case_event" and data["event"]["text"] == f"PRIVATE-NOTE {token}":
            return data
    return None


async def test_media_of_the_earlier_case_is_neither_listed_nor_served_to_another_team(
        service: Service, graph: GraphStandIn, team: Team) -> None:
    token = uuid.uuid4().hex[:10]
    customer = f"52155{int(token[:8], 16) % 10**8:08d}"
    sha = graph.add_media(f"photo-{token}", PHOTO, "image/jpeg")
    now = str(int(time.time()))
    photo = {"from": customer, "timestamp": now, "id": f"wamid.{token}", "type": "image",
             "image": {"id": f"photo-{token}", "mime_type": "image/jpeg", "sha256": sha,
                       "caption": f"la tarjeta clonada, quiero una persona {token}"}}
    assert post_signed(service.base_url, messages_webhook(photo)).status_code == 200
    [care_case] = await until(lambda: cases_with(service, token), "the photo's case is stored", timeout=60)

    async def photo_event() -> dict[str, Any] | None:
        view = (await team.care.get(f"/cases/{care_case}")).json()
        return next((e for e in view["events"] if (e.get("media") or {}).get("url")), None)
    event = await until(photo_event, "the photo reached the inbox", timeout=60)
    await care_handles(team, care_case, token)
    hello = {"from": customer, "timestamp": now, "id": f"wamid.{token}-2", "type": "text",
             "text": {"body": f"hola otra vez {token}"}}
    assert post_signed(service.base_url, messages_webhook(hello)).status_code == 200
    _care, following = await until(lambda: _two(service, token), "the next case is stored", timeout=60)

    view = (await team.fraud.get(f"/cases/{following}")).json()
    assert (view["case"]["status"], view["case"]["team"]) == ("bot", None)  # the assistant's
    assert [e for e in view["events"] if e.get("media")] == [] and leaked(view, care_case, token) == []
    assert (await team.fraud.http.get(event["media"]["url"])).status_code == 403
    for boss in (team.supervisor, team.admin):
        listed = [e for e in (await boss.get(f"/cases/{following}")).json()["events"] if e.get("media")]
        assert [e["id"] for e in listed] == [event["id"]]
        served = await boss.http.get(event["media"]["url"])
        assert served.status_code == 200 and served.content == PHOTO


async def _two(service: Service, token: str) -> list[str] | None:
    found = await cases_with(service, token)
    return found if len(found) == 2 else None
