"""Voice notifications over Twilio: the outbox's sender places the call (REST `Calls` with our answer URL), the
answer URL reads the notification and gathers one digit, and Twilio's status callback says how the call ended.

The decisions (what a digit means, the handoff) are core.notification_calls'; this module knows Twilio's side only:
its URLs (under PUBLIC_BASE_URL, what signatures are checked against), its TwiML and its call statuses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.twiml.voice_response import VoiceResponse

from handoff.channels.voice import twiml
from handoff.channels.voice.decisions import DEFAULT_LOCALES, TERMINAL, speakable
from handoff.channels.voice.rest import TwilioRest
from handoff.channels.voice.twilio import GatherResult, StatusUpdate, TwilioCall, public_url
from handoff.core.delivery import record_delivery
from handoff.core.events import CaseChanged, CaseEvent, EventBus, EventsAdded, HandedOff
from handoff.core.notification_calls import CALL_CHANNEL, call_language, meaning, record_answer
from handoff.core.operations import Operations
from handoff.core.outbox import SendError, SendResult
from handoff.core.texts import text
from handoff.core.timeline import DuplicateProviderMessage
from handoff.store.models import Case, Notification, Outbox, TimelineEvent

log = structlog.get_logger(__name__)
PATH = f"{twiml.BASE_PATH}/notifications"
GATHER_SECONDS = 8
TRIES = 2  # the question is asked twice before goodbye
# Twilio's CallStatus of a call that never reached the customer, as the notification's reason reads it.
NOT_REACHED = {"busy": "the line was busy (Twilio: busy)", "no-answer": "nobody answered (Twilio: no-answer)",
               "failed": "the call could not be connected (Twilio: failed)",
               "canceled": "the call was canceled (Twilio: canceled)"}


@dataclass(frozen=True)
class NotificationCallUrls:
    """The URLs Twilio is given for one notification's call."""

    answer: str
    gather: str
    status: str

    @classmethod
    def of(cls, public_base_url: str, notification_id: str) -> NotificationCallUrls:
        def url(leg: str) -> str:
            return public_url(public_base_url, f"{PATH}/{notification_id}/{leg}")
        return cls(url("answer"), url("gather"), url("status"))


def say_locale(template_language: str) -> str:
    """The locale <Say> reads the notification in: the template's own (es_MX → es-MX, pt_BR → pt-BR) when Twilio
    speaks it, else its language's default."""
    tag = template_language.replace("_", "-")
    if tag in twiml.SAY_LOCALES:
        return tag
    return DEFAULT_LOCALES.get(call_language(template_language), DEFAULT_LOCALES["es"])


def ask(words: list[str], locale: str, action: str) -> str:
    """<Gather> one key while the words and the question are read; silence posts an empty answer to `action`."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=GATHER_SECONDS, action=action, method="POST",
                             action_on_empty_result=True)
    for said in words:
        if speakable(said):
            gather.say(speakable(said), language=locale)
    return str(response)


def closing(words: str, locale: str) -> str:
    response = VoiceResponse()
    response.say(speakable(words), language=locale)
    response.hangup()
    return str(response)


class NotificationCallSender:
    """The outbox's sender for `voice_call`: one Twilio REST call per staged notification. Retried only when
    Twilio could not be reached (the call was certainly not created)."""

    def __init__(self, rest: TwilioRest, public_base_url: str, *, ring_seconds: int = 25) -> None:
        self.rest = rest
        self.public_base_url = public_base_url
        self.ring_seconds = ring_seconds

    async def send(self, body: dict[str, Any]) -> SendResult:
        urls = NotificationCallUrls.of(self.public_base_url, str(body.get("notification_id", "")))
        placed = await self.rest.create_call(str(body.get("to", "")), Url=urls.answer, Method="POST",
                                             StatusCallback=urls.status, StatusCallbackMethod="POST",
                                             Timeout=str(self.ring_seconds))
        if placed.sid is not None:
            return SendResult(message_id=placed.sid)
        error = placed.error or "Twilio refused the call"
        unreachable = error.startswith("Twilio unreachable: Connect")
        return SendResult(error=SendError(error), retry=unreachable)


class NotificationCalls:
    """Twilio's requests about notification calls: what is read, the digit, how the call ended."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus, operations: Operations,
                 public_base_url: str) -> None:
        self.sessions = sessions
        self.events = events
        self.operations = operations
        self.public_base_url = public_base_url

    async def _call_of(self, session: AsyncSession, notification_id: str,
                       call: TwilioCall) -> tuple[Notification, TimelineEvent] | None:
        """The notification and its spoken message, when this call is the one placed for it."""
        row = await session.get(Notification, notification_id)
        if row is None or row.channel != "voice" or row.event_id is None:
            return None
        sid = await session.scalar(select(Outbox.provider_message_id).where(
            Outbox.event_id == row.event_id, Outbox.channel == CALL_CHANNEL))
        if sid is not None and sid != call.call_sid:  # None: Twilio asked before the placing answer was stored
            return None
        event = await session.get(TimelineEvent, row.event_id)
        return (row, event) if event is not None else None

    async def answer(self, notification_id: str, call: TwilioCall) -> str:
        """The customer picked up: the notification's words and the question, listening for one key."""
        async with self.sessions() as session:
            found = await self._call_of(session, notification_id, call)
        if found is None:
            return twiml.hang_up()
        row, event = found
        language = call_language(row.language)
        action = NotificationCallUrls.of(self.public_base_url, notification_id).gather + "?try=1"
        prompt = text("notification_call_prompt", language, self.operations.tone)
        return ask([event.text or "", prompt], say_locale(row.language), action)

    async def gather(self, notification_id: str, call: TwilioCall, result: GatherResult, attempt: int) -> str:
        """One key: 1 confirms, 2 hands the case to people; anything else asks again once, then goodbye."""
        state = meaning(result.digits)
        happened: list[CaseEvent] = []
        async with self.sessions() as session, session.begin():
            found = await self._call_of(session, notification_id, call)
            if found is None:
                return twiml.hang_up()
            row, event = found
            language, locale = call_language(row.language), say_locale(row.language)
            if state is None:
                if attempt < TRIES:
                    action = NotificationCallUrls.of(self.public_base_url, notification_id).gather + \
                        f"?try={attempt + 1}"
                    return ask([text("notification_call_prompt", language, self.operations.tone)], locale, action)
                return closing(text("notification_call_goodbye", language, self.operations.tone), locale)
            case = await session.get_one(Case, event.case_id)
            answered = await record_answer(session, row, case, state, call_id=call.call_sid,
                                           operations=self.operations)
            if answered is not None:
                happened.append(EventsAdded(case.id, (answered.event_id,)))
                if answered.handoff is not None:
                    handoff = answered.handoff
                    happened += [HandedOff(case.id, handoff.id, handoff.reason, team=handoff.team),
                                 CaseChanged(case.id)]
                state = answered.state
            else:
                state = row.status
        await self.events.publish(*happened)
        key = "notification_call_person" if state == "answered" else "notification_call_confirmed"
        return closing(text(key, language, self.operations.tone), locale)

    async def status(self, notification_id: str, call: TwilioCall, update: StatusUpdate) -> bool:
        """How the call ended: completed is the message delivered; busy, no answer, failed or canceled fail the
        notification with Twilio's reason. False for a repeat or a status that is not final."""
        if update.status not in TERMINAL:
            return False
        try:
            async with self.sessions() as session, session.begin():
                found = await self._call_of(session, notification_id, call)
                if found is None:
                    return False
                _, event = found
                key = f"{call.call_sid}:status:{update.status}"
                if update.status == "completed":
                    changed = await record_delivery(session, event, "delivered", provider_id=key,
                                                    detail={"duration": update.duration})
                else:
                    reason = NOT_REACHED.get(update.status, f"Twilio: {update.status}")
                    changed = await record_delivery(session, event, "failed", provider_id=key, error=reason)
                case_id = event.case_id
        except DuplicateProviderMessage:
            return False
        if changed:
            await self.events.publish(CaseChanged(case_id))
            log.info("notification_call_ended", notification_id=notification_id, status=update.status)
        return changed
