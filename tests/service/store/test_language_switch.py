"""The language a customer writes in is followed mid-conversation, on SQLite and PostgreSQL.

Before: the service learnt a case's language once, so a customer who started with "hola" and went on in
Portuguese kept getting Spanish notices, and agents saw ES. The assistant switches its `language` slot on a long,
clear message in another language (actions/language.py); the service follows it, records it on the timeline and
tells the inbox.
"""
from __future__ import annotations

import httpx
from sqlalchemy import select

from handoff.core.bot_client import RasaClient
from handoff.core.events import CaseChanged, CaseEvent, Subscription
from handoff.core.learnt import changed_language, may_change_language
from handoff.core.operations import load_operations
from handoff.core.timeline import verify_case
from handoff.inbox import views
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Customer, TimelineEvent
from tests.service.store.test_conversation import RecordingDeliverer
from tests.service.store.test_learnt_facts import Supervisor, turn, webchat
from tests.service.support.rasa_standin import RasaStandIn


class Changed:
    """A listener keeping the cases the inbox is told to refresh."""

    def __init__(self) -> None:
        self.case_ids: list[str] = []

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(CaseChanged, self.hear)]

    async def hear(self, event: CaseEvent) -> None:
        self.case_ids.append(event.case_id)


def test_when_the_service_asks_the_assistant_for_a_new_language() -> None:
    assert may_change_language("oi, quero falar com um atendente") and may_change_language("where is my order")
    assert not may_change_language("ok") and not may_change_language("y mi pedido?")  # "y": one letter
    assert not may_change_language("sim 100002") and not may_change_language("👍 obrigado")
    languages = ["es", "en", "pt"]
    assert changed_language("es", "pt", languages) == "pt"
    assert changed_language("es", "es", languages) is None  # the same
    assert changed_language(None, "pt", languages) is None  # not a change: learnt the first time
    assert changed_language("es", "fr", languages) is None and changed_language("es", None, languages) is None


async def test_a_customer_who_switches_to_portuguese_is_followed_and_agents_see_it(sessions) -> None:
    rasa, changed = RasaStandIn(), Changed()
    bot = RasaClient("http://rasa.test", timeout=5, retries=0, backoff=0,
                     client=httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler)))
    conversations = build_services(sessions, load_operations(REPO_ROOT / "operations.yml"), bot,
                                   {"webchat": RecordingDeliverer()}, [changed]).conversations
    case_id = await turn(conversations, webchat("hola"))
    rasa.slots["language"] = "pt"  # as the assistant would after a clear Portuguese message
    asks = rasa.slot_asks
    await turn(conversations, webchat("sim"))
    assert rasa.slot_asks == asks  # a short message never switches it: not even asked
    async with sessions() as session:
        assert (await session.get_one(Case, case_id)).language == "es"
    await turn(conversations, webchat("oi, na verdade prefiro falar em português"))
    assert rasa.slot_asks == asks + 1 and rasa.tracker_reads == 0

    async with sessions() as session:
        case = await session.get_one(Case, case_id)
        customer = await session.get_one(Customer, case.customer_id)
        switches = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id,
                                                                          TimelineEvent.kind == "language")))
        assert (await verify_case(session, case_id)).ok
        view = await views.case_view(session, case, Supervisor())
    assert (case.language, customer.language) == ("pt", "pt")
    assert [(event.payload, event.direction, event.actor) for event in switches] == [
        ({"from_language": "es", "to_language": "pt"}, "internal", "bot")]
    assert view["case"]["language"] == "pt" and changed.case_ids == [case_id]
    assert [(event["kind"], event["payload"].get("to_language")) for event in view["events"]][-3:] == [
        ("message", None), ("language", "pt"), ("message", None)]  # the inbox is given what to show

    await turn(conversations, webchat("e meu pedido, ja saiu?"))  # still Portuguese: nothing new to record
    async with sessions() as session:
        count = len(list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id,
                                                                           TimelineEvent.kind == "language"))))
    assert count == 1
