"""Placing a callback with Twilio and applying what Twilio reports about it.

Twilio's REST API first calls the agent (their phone or SIP address); when they answer, Twilio asks the bridge
URL, whose TwiML <Dial>s the customer from our number. The customer's leg reports how it ended (answered, no
answer, busy, failed): that is the callback's outcome, a call on the case's timeline, and for a missed callback
one WhatsApp message. The agent's leg reports too: an agent who did not answer leaves the callback queued.
"""
from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.voice import twiml
from handoff.channels.voice.calls import call_event, change_status, find_call, placed_call
from handoff.channels.voice.decisions import DEFAULT_LOCALES, TERMINAL
from handoff.channels.voice.rest import TwilioRest
from handoff.channels.voice.twilio import PROVIDER, StatusUpdate, TwilioCall, public_url
from handoff.core.callback_messages import CallbackMessages
from handoff.core.callbacks import callback_event, claim, finish, outcome_of, readable_callback, unplaced
from handoff.core.events import CaseChanged, EventBus
from handoff.core.permissions import Reader
from handoff.core.refusals import Refused
from handoff.core.sending import Staged
from handoff.core.texts import text
from handoff.core.timeline import DuplicateProviderMessage, provider_id_seen
from handoff.store.models import Agent, Callback, Case, utcnow

log = structlog.get_logger(__name__)
PATH = f"{twiml.BASE_PATH}/callbacks"


class PlaceRefused(Refused):
    """A callback that cannot be placed now: an HTTP status and why."""


@dataclass(frozen=True)
class CallbackUrls:
    """The URLs Twilio is given for one callback, under PUBLIC_BASE_URL (what signatures are checked against)."""

    bridge: str
    agent: str
    customer: str

    @classmethod
    def of(cls, public_base_url: str, callback_id: int) -> CallbackUrls:
        def url(leg: str) -> str:
            return public_url(public_base_url, f"{PATH}/{callback_id}/{leg}")
        return cls(url("bridge"), url("agent"), url("customer"))


class CallbackCalls:
    """One per process: the inbox's "Call now" and Twilio's callbacks about those calls."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus, rest: TwilioRest,
                 messages: CallbackMessages, public_base_url: str, *, language: str = "es", tone: str = "tuteo",
                 dial_timeout: int = 25) -> None:
        self.sessions = sessions
        self.events = events
        self.rest = rest
        self.messages = messages
        self.public_base_url = public_base_url
        self.language = language
        self.tone = tone
        self.dial_timeout = dial_timeout

    async def place(self, reader: Reader, callback_id: int) -> Callback:
        """Claims the callback for the agent and asks Twilio to call them; raises PlaceRefused."""
        if not self.rest.configured:
            raise PlaceRefused(503, "callbacks need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_CALLER_ID")
        async with self.sessions() as session, session.begin():
            found = await readable_callback(session, reader, callback_id)
            if found is None:
                raise PlaceRefused(404, "no such callback")
            agent = await session.get_one(Agent, reader.id)
            if not agent.phone:
                raise PlaceRefused(409, "set your phone or SIP address first (PUT /inbox/api/me/phone)")
            if not await claim(session, callback_id, agent.id):
                raise PlaceRefused(409, f"this callback is {found[0].status}, not waiting to be placed")
            phone = agent.phone
        urls = CallbackUrls.of(self.public_base_url, callback_id)
        placed = await self.rest.create_call(phone, Url=urls.bridge, Method="POST", StatusCallback=urls.agent,
                                             StatusCallbackMethod="POST", Timeout=str(self.dial_timeout))
        async with self.sessions() as session, session.begin():
            callback = await session.get_one(Callback, callback_id)
            case = await session.get_one(Case, callback.case_id)
            agent = await session.get_one(Agent, reader.id)
            if placed.sid is None:
                await unplaced(session, callback, case, placed.error or "Twilio refused the call")
            else:
                if callback.provider_call_id is None:  # the bridge request may have come first
                    callback.provider_call_id = placed.sid
                await placed_call(session, case, provider=PROVIDER, provider_call_id=placed.sid,
                                  from_number=self.rest.caller_id, to_number=callback.phone, agent=agent)
                await callback_event(session, callback, case, "placed", f"Callback placed by {agent.display_name}",
                                     actor=f"agent:{agent.id}", call_id=placed.sid, attempts=callback.attempts)
        await self.events.publish(CaseChanged(case.id))
        if placed.sid is None:
            log.warning("callback_not_placed", callback_id=callback_id, error=placed.error)
            raise PlaceRefused(502, f"the call was not placed: {placed.error}")
        return callback

    async def bridge(self, callback_id: int, call: TwilioCall) -> str:
        """The agent answered: TwiML that dials the customer; a hang-up for anything but the placing call."""
        async with self.sessions() as session, session.begin():
            callback = await session.get(Callback, callback_id)
            if callback is None or callback.status != "placing" or \
                    callback.provider_call_id not in (None, call.call_sid):
                return twiml.hang_up()
            callback.provider_call_id = call.call_sid
            callback.bridged_at = utcnow()
            phone = callback.phone
            found = await find_call(session, PROVIDER, call.call_sid)
            if found is not None:
                case = await session.get_one(Case, callback.case_id)
                await change_status(session, found, case, "in-progress", provider_id=f"{call.call_sid}:bridge")
        status_url = CallbackUrls.of(self.public_base_url, callback_id).customer
        said = text("callback_bridge", self.language, self.tone)
        return twiml.bridge(said, DEFAULT_LOCALES.get(self.language, "es-MX"),
                            phone, self.rest.caller_id or "", status_url, timeout=self.dial_timeout)

    async def customer_leg(self, callback_id: int, call: TwilioCall, update: StatusUpdate) -> bool:
        """How the customer's leg ended: the call's status and the callback's outcome (a missed one: one WhatsApp
        message); False for a repeat or a status that is not final."""
        if update.status not in TERMINAL:
            return False
        key = f"{call.call_sid}:status:{update.status}"
        staged: list[Staged] = []
        try:
            async with self.sessions() as session, session.begin():
                if await provider_id_seen(session, "voice", key):
                    return False
                callback = await session.get(Callback, callback_id)
                if callback is None or callback.provider_call_id is None:
                    return False
                case = await session.get_one(Case, callback.case_id)
                placed = await find_call(session, PROVIDER, callback.provider_call_id)
                if placed is not None:
                    await change_status(session, placed, case, update.status, duration=update.duration,
                                        provider_id=key)
                outcome = outcome_of(update.status)
                if not await finish(session, callback, case, outcome, call_id=call.call_sid,
                                    duration=update.duration):
                    return False
                staged = await self.messages.stage(session, callback, case)
                case_id = case.id
        except DuplicateProviderMessage:
            return False
        await self.messages.deliver(staged)
        await self.events.publish(CaseChanged(case_id))
        log.info("callback_outcome", callback_id=callback_id, outcome=outcome)
        return True

    async def agent_leg(self, callback_id: int, call: TwilioCall, update: StatusUpdate) -> bool:
        """How the call to the agent ended: before the customer was dialed, the callback is queued again."""
        if update.status not in TERMINAL:
            return False
        try:
            async with self.sessions() as session, session.begin():
                callback = await session.get(Callback, callback_id)
                if callback is None or callback.status != "placing" or callback.bridged_at is not None or \
                        callback.provider_call_id not in (None, call.call_sid):
                    return False
                case = await session.get_one(Case, callback.case_id)
                placed = await find_call(session, PROVIDER, call.call_sid)
                if placed is not None:
                    await change_status(session, placed, case, update.status, duration=update.duration,
                                        provider_id=f"{call.call_sid}:status:{update.status}")
                    await call_event(session, placed, case, "agent_missed", "The agent's phone did not take the call")
                await unplaced(session, callback, case, f"the agent's phone: {update.status}")
                case_id = case.id
        except DuplicateProviderMessage:
            return False
        await self.events.publish(CaseChanged(case_id))
        return True
