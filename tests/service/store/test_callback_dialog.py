"""A call the customer asks the assistant for, through the conversation service on SQLite and PostgreSQL: the
assistant's `{"callback": …}` payload becomes a callback of the team in the window the choice stands for at that
moment (business hours read), the customer is told the day, times and the number's last digits, the case stays with
the assistant; a number that cannot be called, or none, hands the case to people (`callback_failed`)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from handoff.core.bot_client import RasaClient
from handoff.core.conversation import Received
from handoff.core.messages import InboundMessage
from handoff.services import build_services
from handoff.store.models import Callback, Case, Handoff, TimelineEvent
from tests.service.store.test_conversation import OPERATIONS, RecordingDeliverer
from tests.service.support.merging import Sessions, ana_phone, chains_ok, whatsapp_ana
from tests.service.support.rasa_standin import RasaStandIn

WEDNESDAY_1130 = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)  # 11:30 in Mexico City, open
FRIDAY_1900 = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)  # Friday 27th, 19:00 in Mexico City, closed


class Dialog:
    """The conversation service at a fixed instant, with an assistant that books a call on /callback."""

    def __init__(self, sessions: Sessions, now: datetime) -> None:
        self.sessions = sessions
        self.request: dict[str, str] = {"window": "afternoon", "phone": "55 1234 5678"}
        self.rasa = RasaStandIn(reply=self.answer)
        self.bot = RasaClient("http://rasa", timeout=5, retries=0, backoff=0,
                              client=httpx.AsyncClient(transport=httpx.MockTransport(self.rasa.handler)))
        self.deliverer = RecordingDeliverer()
        self.core = build_services(sessions, OPERATIONS, self.bot,
                                   {"webchat": self.deliverer, "whatsapp": self.deliverer}, clock=lambda: now)
        self.sent = 0

    def answer(self, message: str) -> list[dict[str, Any]]:
        if message == "/callback":
            return [{"custom": {"callback": dict(self.request)}}]
        return [{"text": f"Recibido: {message}"}]

    async def say(self, text: str, *, channel: str = "webchat", kind: str = "webchat",
                  who: str = "visitor-1") -> Received:
        self.sent += 1
        inbound = InboundMessage(channel=channel, identity_kind=kind, identity_value=who, address=who.lstrip("+"),
                                 text=text, bot_input=text, provider_id=f"{who}:{self.sent}")
        received = await self.core.conversations.receive(inbound)
        if received.to_bot and received.event_id is not None:
            await self.core.conversations.process(received.event_id, received.turn)
        return received

    def replies(self) -> list[str]:
        return [message.text or "" for _address, message in self.deliverer.delivered]


@pytest.fixture
async def dialog(sessions: Sessions) -> Any:
    opened = Dialog(sessions, WEDNESDAY_1130)
    yield opened
    await opened.bot.aclose()


async def callbacks(sessions: Sessions) -> list[Callback]:
    async with sessions() as session:
        return list(await session.scalars(select(Callback).order_by(Callback.id)))


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def test_a_visitor_books_this_afternoon_at_the_number_they_told(sessions: Sessions, dialog: Dialog) -> None:
    await dialog.say("hola")
    booked = await dialog.say("/callback")
    assert dialog.replies()[-1] == ("Listo ✅ Te llamaremos al número que termina en 5678 hoy entre las 14:00 y las "
                                    "18:00. Si prefieres, puedes seguir escribiéndome aquí.")
    [callback] = await callbacks(sessions)
    assert (callback.phone, callback.team, callback.status, callback.requested_by) == (
        "+525512345678", "care", "requested", "customer")
    assert (utc(callback.window_start), utc(callback.window_end)) == (
        datetime(2026, 11, 25, 20, tzinfo=timezone.utc), datetime(2026, 11, 26, 0, tzinfo=timezone.utc))
    again = await dialog.say("/callback")  # asked twice: one callback, confirmed again
    assert len(await callbacks(sessions)) == 1 and dialog.replies()[-1] == dialog.replies()[-2]
    async with sessions() as session:
        case = await session.get_one(Case, booked.case_id)
        assert case.status == "bot" and again.case_id == case.id  # the assistant goes on with the customer
        kinds = list(await session.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == case.id)
                                           .order_by(TimelineEvent.id)))
        assert kinds.count("callback") == 1
        assert await session.scalar(select(Handoff.id)) is None
    await chains_ok(sessions)


async def test_after_hours_tomorrow_morning_is_the_next_working_morning(sessions: Sessions) -> None:
    dialog = Dialog(sessions, FRIDAY_1900)
    dialog.request = {"window": "tomorrow_morning", "phone": "+1 415 555 0123"}
    try:
        await dialog.say("/callback")
    finally:
        await dialog.bot.aclose()
    [callback] = await callbacks(sessions)
    assert callback.phone == "+14155550123"
    assert (utc(callback.window_start), utc(callback.window_end)) == (  # Saturday 10:00–12:00 in Mexico City
        datetime(2026, 11, 28, 16, tzinfo=timezone.utc), datetime(2026, 11, 28, 18, tzinfo=timezone.utc))
    assert dialog.replies()[-1].startswith("Listo ✅ Te llamaremos al número que termina en 0123 mañana entre las "
                                           "10:00 y las 12:00.")


async def test_a_whatsapp_customer_is_called_at_their_own_verified_number(sessions: Sessions,
                                                                         dialog: Dialog) -> None:
    ids = await whatsapp_ana(sessions)
    dialog.request = {"window": "asap"}
    received = await dialog.say("/callback", channel="whatsapp", kind="phone", who=ana_phone())
    assert received.case_id == ids["case"]
    [callback] = await callbacks(sessions)
    assert callback.phone == ana_phone() and callback.case_id == ids["case"]
    assert dialog.replies()[-1].startswith(f"Listo ✅ Te llamaremos al número que termina en {ana_phone()[-4:]} "
                                           "hoy entre las 11:30 y las 12:30.")


@pytest.mark.parametrize("request_", [{"window": "asap", "phone": "12"}, {"window": "afternoon"}])
async def test_no_number_to_call_goes_to_people(sessions: Sessions, dialog: Dialog,
                                                request_: dict[str, str]) -> None:
    dialog.request = request_
    received = await dialog.say("/callback")
    assert await callbacks(sessions) == []
    assert dialog.replies()[0] == "No pude agendar la llamada 😕 Te paso con una persona del equipo para que lo " \
                                  "resolvamos."
    async with sessions() as session:
        case = await session.get_one(Case, received.case_id)
        handoff = await session.scalar(select(Handoff).where(Handoff.case_id == case.id))
        assert case.status in ("queued", "assigned") and handoff is not None
        assert (handoff.reason, handoff.intent, case.team) == ("callback_failed", "request_callback", "care")
