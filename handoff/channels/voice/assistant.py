"""The voice assistant on Twilio: a call is greeted, listened to, answered by the same Rasa assistant as chat,
and handed to people with <Enqueue> or <Dial> through the same handoff rows and timeline as chat.

Each Twilio request is answered with TwiML built from what the service says during that request, so the
voice Deliverer collects messages instead of pushing them.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.voice import CHANNEL, twiml
from handoff.channels.voice.calls import (
    caller_identity,
    change_status,
    find_call,
    known_customer,
    set_agent,
    start_call,
)
from handoff.channels.voice.decisions import (
    VoiceLocale,
    VoiceReply,
    after_silence,
    awaited_code,
    choose_option,
    locale_from_tag,
    numbered_options,
    speech_for_assistant,
    voice_locale,
)
from handoff.channels.voice.missed_calls import MissedCalls
from handoff.channels.voice.twilio import DIAL_MISSED, PROVIDER, QUEUE_MISSED, GatherResult, TwilioCall
from handoff.core.conversation import Conversations
from handoff.core.events import CaseChanged, CaseEvent, HandedOff
from handoff.core.handoffs import HandoffRequest, current_handoff, hand_to_people
from handoff.core.locks import KeyedLock
from handoff.core.messages import InboundMessage, OutboundMessage, QuickReply
from handoff.core.operations import Operations
from handoff.core.overflow import STILL_QUEUED, accompanied, offer_open, offered_in, voice_menu
from handoff.core.sending import stage_to_customer
from handoff.core.texts import text as service_text
from handoff.core.timeline import provider_id_seen
from handoff.store.models import Call, Case, Customer, TimelineEvent

PEOPLE = ("queued", "assigned")


class VoiceDeliverer:
    """Reaches a caller only while Twilio waits for our TwiML: messages said then are collected for it."""

    staged_status: str | None = None  # pushed live after the commit

    def __init__(self) -> None:
        self._collecting: dict[str, list[OutboundMessage]] = {}

    def address_for(self, identity_kind: str, value: str) -> str | None:
        """None for every identity: a caller is reached only during their call, at its call id."""
        return None

    @contextlib.contextmanager
    def collecting(self, address: str) -> Iterator[list[OutboundMessage]]:
        said: list[OutboundMessage] = []
        self._collecting[address] = said
        try:
            yield said
        finally:
            self._collecting.pop(address, None)

    async def stage(self, session: AsyncSession, event: TimelineEvent, address: str,
                    message: OutboundMessage) -> None:
        """A message with no call request listening for it (an agent typing into a call) is kept, never spoken."""
        if address not in self._collecting:
            event.delivery_status = "not_spoken"

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        said = self._collecting.get(address)
        if said is not None:
            said.append(message)

    async def typing(self, address: str, actor: str, on: bool) -> None:
        """Callers hear no typing."""


class VoiceAssistant:
    """Answers Twilio's voice webhooks; one instance per process.

    One call's requests run one at a time (`calls`, keyed by CallSid). A turn spans several transactions and
    the assistant's answer over HTTP, so no transaction lock can cover it: the lock is per process, plus Redis
    when REDIS_URL is set (the cluster), which is what holds when Twilio's requests reach different workers.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], conversations: Conversations,
                 operations: Operations, deliverer: VoiceDeliverer, missed: MissedCalls, urls: twiml.VoiceUrls,
                 calls: KeyedLock | None = None) -> None:
        self.sessions = sessions
        self.conversations = conversations
        self.operations = operations
        self.deliverer = deliverer
        self.missed = missed
        self.urls = urls
        self.calls = calls or KeyedLock("voice-call", None)

    def render(self, reply: VoiceReply) -> str:
        voice = self.operations.voice
        return twiml.render(reply, self.urls, gather_timeout=voice.gather_timeout_seconds,
                            dial_timeout=voice.dial_timeout_seconds)

    def _text(self, key: str, locale: VoiceLocale) -> str:
        return service_text(key, locale.language, self.operations.tone)

    async def _say(self, session: AsyncSession, case: Case, call_sid: str, text: str) -> str:
        """Everything said to a caller is on the timeline, like any outbound message."""
        await stage_to_customer(session, case, self.conversations.deliverers, channel=CHANNEL, address=call_sid,
                                message=OutboundMessage(actor="system", text=text), actor="system")
        return text

    async def _connect(self, session: AsyncSession, call: Call, case: Case, texts: list[str],
                       locale: VoiceLocale) -> VoiceReply:
        """The call waits for a person of the case's team: in its queue, or dialing its number or SIP address; after
        hours (the case kept for the opening) nobody would answer, so the caller hears when people are back and the
        call ends: the case is routed at the opening like any other."""
        if case.status == "queued" and case.kept_until is not None and case.opened_at is None:
            return VoiceReply(tuple(texts), locale, "hangup")
        team = case.team or self.operations.team_for(None)
        config = self.operations.voice.teams.get(team)
        if call.status != "queued":
            await change_status(session, call, case, "queued")
        if config is not None and config.dial:
            return VoiceReply(tuple(texts), locale, "dial", config.dial)
        return VoiceReply(tuple(texts), locale, "queue", ((config.queue if config else None) or team)[:64])

    async def _after_commit(self, case_id: str | None, staged: list[Any] | None = None,
                            happened: list[CaseEvent] | None = None) -> None:
        """The inbox sees the change at once; a missed-call template leaves through the outbox."""
        if staged:
            await self.missed.deliver(staged)
        if case_id is not None:
            await self.conversations.events.publish(*(happened or []), CaseChanged(case_id))

    # ---- the call's own requests (their answer is TwiML) ---------------------------------------------------
    async def incoming(self, info: TwilioCall) -> str:
        """A new call: the caller's customer and open case, then the greeting inside <Gather> (or the queue)."""
        with self.deliverer.collecting(info.call_sid):  # the greeting is spoken in this very answer
            async with self.calls.hold(info.call_sid), self.sessions() as session, session.begin():
                existing = await find_call(session, PROVIDER, info.call_sid)
                if existing is not None:  # Twilio asked again for the same call: listen again, store nothing new
                    locale = locale_from_tag(existing.language, self.operations.default_language)
                    return self.render(VoiceReply((self._text("voice_reprompt", locale),), locale, "listen"))
                before = await known_customer(session, info.customer_number, info.call_sid)
                kind, value, _ = caller_identity(info.customer_number, info.call_sid)
                locale = voice_locale(before.language if before else None, value if kind == "phone" else None,
                                      self.operations.default_language)
                call, case, _customer = await start_call(
                    session, provider=PROVIDER, provider_call_id=info.call_sid, direction=info.direction,
                    from_number=info.from_number, to_number=info.to_number, status="in-progress",
                    language=locale.speech, follow_up_window_hours=self.operations.follow_up_window_hours,
                    provider_id=f"{info.call_sid}:started")
                record = self.operations.voice.record_calls
                if case.status in PEOPLE:  # people already hold this customer's case: straight to them
                    said = await self._say(session, case, info.call_sid, self._text("voice_connecting", locale))
                    reply = await self._connect(session, call, case, [said], locale)
                else:
                    said = await self._say(session, case, info.call_sid, self._text("voice_greeting", locale))
                    reply = VoiceReply((said,), locale, "listen")
                case_id = case.id
        await self._after_commit(case_id)
        return self.render(VoiceReply(reply.texts, reply.locale, reply.then, reply.target, reply.num_digits, record))

    async def gather(self, info: TwilioCall, result: GatherResult) -> str:
        """What the caller said or pressed goes to the assistant (a verification code awaited on this call, to the
        service that checks it); the answer is spoken and the call listens again."""
        async with self.calls.hold(info.call_sid):
            with self.deliverer.collecting(info.call_sid) as said:
                decided = await self._read_input(info, result)
                if isinstance(decided, VoiceReply):
                    return self.render(decided)
                received = await self.conversations.receive(decided)
                if received.to_bot and received.event_id is not None:
                    await self.conversations.process(received.event_id)
                return self.render(await self._after_turn(info.call_sid, list(said)))

    async def _read_input(self, info: TwilioCall, result: GatherResult) -> InboundMessage | VoiceReply:
        """The caller's turn as an inbound message, or the answer to silence, a wrong key or a held case. While a
        code is awaited, six digits keyed or said are the code (the service checks it, never the assistant)."""
        happened: list[CaseEvent] = []
        async with self.sessions() as session, session.begin():
            call = await find_call(session, PROVIDER, info.call_sid)
            locale = locale_from_tag(call.language if call else None, self.operations.default_language)
            if call is None:
                return VoiceReply((self._text("voice_sorry", locale),), locale, "hangup")
            case = await session.get(Case, call.case_id)
            assert case is not None
            if case.status in PEOPLE and not await self._still_talking(session, case):
                return await self._connect(session, call, case, [], locale)
            awaiting = await self.conversations.awaits_code(session, CHANNEL, info.call_sid)
            code, fumbled = awaited_code(result.digits, result.speech, call.options) if awaiting else (None, False)
            choice = None if code else choose_option(call.options, result.digits)
            if fumbled:  # keys or digits said, but not the code's six: never the assistant's
                text = await self._say(session, case, call.provider_call_id, self._text("voice_code_prompt", locale))
                return VoiceReply((text,), locale, "listen", code=True)
            if code is None and choice is None and not result.speech:  # silence, or a key that names no option
                reply = await self._silence(session, call, case, locale, happened, awaiting)
                case_id = case.id if reply.then != "listen" else None
            else:
                call.silences, call.options = 0, []
                kind, value, verified = caller_identity(
                    call.from_number if call.direction == "inbound" else call.to_number, call.provider_call_id)
                spoken = result.speech or ""
                text = code or (choice["title"] if choice else spoken)
                return InboundMessage(
                    channel=CHANNEL, identity_kind=kind, identity_value=value, address=info.call_sid, text=text,
                    bot_input=code or (choice["payload"] if choice else speech_for_assistant(spoken)),
                    verified=verified, verified_by="caller_id" if verified else None,
                    payload={"call_id": info.call_sid, "input": "dtmf" if choice or result.digits else "speech",
                             **({"confidence": result.confidence} if result.confidence is not None else {})})
        await self._after_commit(case_id, happened=happened)
        return reply

    async def _still_talking(self, session: AsyncSession, case: Case) -> bool:
        """People's queue holds the case, but the caller answers the overflow menu, or chose to go on with the
        assistant and nobody took the case yet."""
        held = await current_handoff(session, case.id)
        return offer_open(case, held) or accompanied(case, held)

    async def _silence(self, session: AsyncSession, call: Call, case: Case, locale: VoiceLocale,
                       happened: list[CaseEvent], awaiting: bool = False) -> VoiceReply:
        """Reprompted (with the options again, or for the code awaited) until the second chances run out, then
        handed to a person."""
        call.silences += 1
        if after_silence(call.silences, self.operations.voice.silence_reprompts) == "reprompt":
            if awaiting:
                text = await self._say(session, case, call.provider_call_id, self._text("voice_code_prompt", locale))
                return VoiceReply((text,), locale, "listen", code=True)
            line, options = numbered_options([QuickReply(o["title"], o["payload"]) for o in call.options or []],
                                             locale.language, self.operations.tone)
            text = await self._say(session, case, call.provider_call_id,
                                   " ".join(part for part in (self._text("voice_reprompt", locale), line) if part))
            return VoiceReply((text,), locale, "listen", num_digits=1 if options else None)
        request = HandoffRequest(reason="no_input", summary="The caller did not answer the voice assistant")
        handoff = await hand_to_people(session, case, request, self.operations, actor="system")
        happened.append(HandedOff(case.id, handoff.id, handoff.reason, team=handoff.team))
        texts: list[str] = []
        customer = await session.get(Customer, case.customer_id)
        if customer is not None:  # routed, and the caller told who answers and when
            routed = await self.conversations.notices.route(session, case, customer, CHANNEL, call.provider_call_id)
            texts = [routed.notice.text] if routed.notice.text else []
        if not texts:
            texts = [await self._say(session, case, call.provider_call_id, self._text("voice_connecting", locale))]
        return await self._connect(session, call, case, texts, locale)

    async def _after_turn(self, call_sid: str, said: list[OutboundMessage]) -> VoiceReply:
        """The assistant's answer, its buttons as numbered options (listening for six keys while a code is
        awaited); or the wait for a person after a handoff."""
        async with self.sessions() as session, session.begin():
            call = await find_call(session, PROVIDER, call_sid)
            locale = locale_from_tag(call.language if call else None, self.operations.default_language)
            if call is None:
                return VoiceReply((self._text("voice_sorry", locale),), locale, "hangup")
            case = await session.get(Case, call.case_id)
            assert case is not None
            texts = [message.text for message in said if message.text]
            if case.status in PEOPLE:
                overflow = await self._overflow_reply(session, call, case, said, texts, locale)
                if overflow is not None:
                    return overflow
            if case.status in PEOPLE and not await self._still_talking(session, case):
                return await self._connect(session, call, case, texts or [self._text("voice_connecting", locale)],
                                           locale)
            replies = next((message.quick_replies for message in reversed(said) if message.quick_replies), ())
            line, options = numbered_options(replies, locale.language, self.operations.tone)
            call.options = options
            if line:
                texts.append(line)
            if not texts:
                texts.append(await self._say(session, case, call_sid, self._text("voice_anything_else", locale)))
            code = await self.conversations.awaits_code(session, CHANNEL, call_sid)  # the turn may have sent one
            return VoiceReply(tuple(texts), locale, "listen", num_digits=1 if options else None, code=code)

    async def _overflow_reply(self, session: AsyncSession, call: Call, case: Case, said: list[OutboundMessage],
                              texts: list[str], locale: VoiceLocale) -> VoiceReply | None:
        """The overflow on the phone: its menu (one digit per choice), or what the caller's choice does to the call
        (wait: the queue; WhatsApp or a callback: goodbye; the assistant: it listens on); None otherwise."""
        offered = next((offered_in(message.quick_replies) for message in reversed(said)
                        if offered_in(message.quick_replies)), [])
        if offered:
            line, call.options = voice_menu(offered, locale.language, self.operations.tone)
            return VoiceReply((*texts, line), locale, "listen", num_digits=1)
        outcome = next((message.custom for message in reversed(said) if message.custom.get("overflow")), None)
        if outcome is None:
            return None
        if outcome.get("overflow") == STILL_QUEUED or outcome.get("then") == "queue":
            return await self._connect(session, call, case, texts, locale)
        if outcome.get("then") == "hangup":
            return VoiceReply(tuple(texts), locale, "hangup")
        return VoiceReply(tuple(texts), locale, "listen")

    async def queue_result(self, info: TwilioCall, result: str, queue_time: int | None) -> str:
        """<Enqueue action>: bridged to a person, or the caller hung up / the queue failed (a missed call)."""
        return await self._left_person(info, f"{info.call_sid}:queue:{result}", bridged=result == "bridged",
                                       missed_status=("abandoned" if result == "hangup" else "no-answer")
                                       if result in QUEUE_MISSED else None, agent=None)

    async def dial_result(self, info: TwilioCall, status: str, duration: int | None) -> str:
        """<Dial action>: the configured number answered, or it was busy / did not answer (a missed call)."""
        async with self.sessions() as session:
            call = await find_call(session, PROVIDER, info.call_sid)
            case = await session.get(Case, call.case_id) if call else None
        config = self.operations.voice.teams.get(case.team or "") if case else None
        return await self._left_person(info, f"{info.call_sid}:dial:{status}",
                                       bridged=status in ("completed", "answered"),
                                       missed_status=DIAL_MISSED.get(status), agent=config.dial if config else None)

    async def _left_person(self, info: TwilioCall, provider_id: str, *, bridged: bool, missed_status: str | None,
                           agent: str | None) -> str:
        """The call is done waiting: who took it, or a missed call followed up on WhatsApp once."""
        staged: list[Any] = []
        still_there = missed_status not in (None, "abandoned")  # after a hang-up the goodbye is stored, not spoken
        listening: contextlib.AbstractContextManager[list[OutboundMessage]] = (
            self.deliverer.collecting(info.call_sid) if still_there else contextlib.nullcontext([]))
        with listening:
            async with self.calls.hold(info.call_sid), self.sessions() as session, session.begin():
                call = await find_call(session, PROVIDER, info.call_sid)
                if call is None or await provider_id_seen(session, CHANNEL, provider_id):
                    return twiml.empty()
                case = await session.get(Case, call.case_id)
                assert case is not None
                locale = locale_from_tag(call.language, self.operations.default_language)
                reply = VoiceReply((), locale, "hangup")
                if bridged:
                    await set_agent(session, call, case, agent, provider_id=provider_id)
                elif missed_status is not None:
                    await change_status(session, call, case, missed_status, provider_id=provider_id)
                    staged = await self.missed.recover(session, call, case)
                    text = self._text("voice_missed" if staged else "voice_sorry", locale)
                    reply = VoiceReply((await self._say(session, case, call.provider_call_id, text),), locale,
                                       "hangup")
                case_id = case.id
        await self._after_commit(case_id, staged)
        return self.render(reply)
