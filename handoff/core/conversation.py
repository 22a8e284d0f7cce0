"""The customer-message service: store first, then let the assistant answer, else hand to people.

One object per process, shared by every channel (Chatwoot-style: one service call per channel event).
A pending turn is leased to the worker that stored it (core.claims); if that worker dies, another replays the
turn once the lease lapses. The customer is answered once (the pending row's delete is the claim to record an
answer); Rasa may then see the message twice, as its REST channel takes no idempotency key.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import bindparam, delete, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.bot_client import BotTurn, BotUnavailable, RasaClient, build_metadata
from handoff.core.callback_requests import CallbackRequests
from handoff.core.cases import case_language, open_case
from handoff.core.claims import LEASE, claim
from handoff.core.code_requests import CodeRequests
from handoff.core.csat import CsatAnswers
from handoff.core.customers import identities_of, resolve_sender
from handoff.core.events import CaseChanged, CaseEvent, CsatReceived, EventBus, MessageStored
from handoff.core.handoffs import (
    HandoffRequest,
    current_handoff,
    remember_facts,
    resumes_with_assistant,
    withdraw_handoff,
)
from handoff.core.learnt import TAUGHT_SLOTS, changed_language, learnt_facts, may_change_language, may_teach, reasked
from handoff.core.merge_evidence import weigh_proved, weigh_told
from handoff.core.messages import Deliverer, InboundMessage, OutboundMessage
from handoff.core.operations import Operations
from handoff.core.overflow import accompanied
from handoff.core.rounds import repeat
from handoff.core.routing_notice import RoutingNotices
from handoff.core.sending import Staged, deliver_staged, stage_to_customer
from handoff.core.texts import text as service_text
from handoff.core.timeline import (
    CaseRef,
    DuplicateProviderMessage,
    append_event,
    locking_case,
    returning_head,
    write_reading_head,
)
from handoff.core.typed_codes import TypedCodes
from handoff.store.models import Case, Customer, Identity, PendingTurn, TimelineEvent, utcnow

log = structlog.get_logger(__name__)

# Every turn runs these two: built once.
_PENDING = PendingTurn.__table__
_ADD_PENDING = insert(_PENDING)
_CLAIM_PENDING = delete(_PENDING).where(_PENDING.c.event_id == bindparam("event_id"))
_CLAIM_PENDING_READ_HEAD = returning_head(_CLAIM_PENDING)  # SQLite: the claim reads the case's head
_CLAIM_PENDING_LOCK_CASE = locking_case(_CLAIM_PENDING)  # PostgreSQL: the claim locks the case for the answer


@dataclass(frozen=True)
class Received:
    """What `receive` stored: the event to process, or nothing for a repeated provider id."""

    event_id: int | None
    case_id: str | None
    duplicate: bool = False
    to_bot: bool = False
    turn: Turn | None = None  # gathered while storing, so answering needs no second read


@dataclass(frozen=True)
class Turn:
    """What the assistant's turn for one stored message needs."""

    event_id: int
    case_id: str
    customer_id: str
    channel: str
    address: str
    bot_input: str
    metadata: dict[str, Any]
    language_known: bool
    resuming: bool = False  # people's queue holds the case only because the assistant was down: try it again
    received: float = field(default_factory=time.monotonic)  # when the customer's message arrived (or was replayed)


class TurnTimings(Protocol):
    """Where turn latencies go (the metrics endpoint): seconds, by channel."""

    def assistant_answered(self, channel: str, seconds: float) -> None: ...

    def turn_ended(self, channel: str, seconds: float) -> None: ...


class NoTimings:
    """Latencies measured nowhere: tests and tools that build the services without metrics."""

    def assistant_answered(self, channel: str, seconds: float) -> None:
        """Dropped."""

    def turn_ended(self, channel: str, seconds: float) -> None:
        """Dropped."""


class Conversations:
    """Receives customer messages from any channel and runs the assistant's turn for them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bot: RasaClient, operations: Operations,
                 deliverers: Mapping[str, Deliverer], *, notices: RoutingNotices, csat: CsatAnswers,
                 events: EventBus, codes: TypedCodes | None = None,
                 code_requests: CodeRequests | None = None,
                 callback_requests: CallbackRequests | None = None, timings: TurnTimings | None = None,
                 lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.lease = lease  # how long the receiving worker holds a turn before another may replay it
        self.timings = timings or NoTimings()  # Rasa's latency and the customer-visible turn, by channel
        self.bot = bot
        self.operations = operations
        self.deliverers = deliverers
        self.notices = notices  # a handed-off case is routed and the customer told, in the same transaction
        self.csat = csat
        self.events = events  # after each commit: the inbox, reports and channels react
        self.codes = codes  # a verification code typed while one is pending: checked here, never the assistant's
        self.code_requests = code_requests  # the assistant's `verification` payload: the service sends the code
        self.callback_requests = callback_requests  # the assistant's `callback` payload: the service books the call

    async def awaits_code(self, session: AsyncSession, channel: str, address: str) -> bool:
        """Whether six digits from this conversation would now be taken as its pending verification code."""
        return self.codes is not None and await self.codes.awaiting(session, channel, address)

    async def receive(self, inbound: InboundMessage) -> Received:
        """Stores the message durably, with a pending bot turn when the bot owns the case or may take it back."""
        arrived = time.monotonic()
        if self.codes is not None:
            try:
                entered = await self.codes.receive(inbound)
            except DuplicateProviderMessage:
                return Received(None, None, duplicate=True)
            if entered is not None:
                await self.events.publish(*entered.happened)
                return Received(entered.event_id, entered.case_id)
        thanks: list[Staged] = []
        happened: list[CaseEvent] = []
        async with self.sessions() as session:
            try:
                async with session.begin():
                    contact = await resolve_sender(session, inbound)
                    customer = contact.customer
                    # proved here, owned there: one person (merged, undoable) when both are verified, else agents decide
                    await weigh_proved(session, customer, contact.kept_elsewhere,
                                       inbound.verified_by if inbound.verified else None)
                    csat = await self.csat.answer_to(session, customer, inbound)
                    case = csat[0] if csat else await open_case(
                        session, customer, inbound.channel,
                        follow_up_window_hours=self.operations.follow_up_window_hours)
                    event = await append_event(
                        session, case, channel=inbound.channel, direction="in", actor="customer",
                        kind="message", text=inbound.text, provider_id=inbound.provider_id,
                        case_updates={"last_customer_message_at": utcnow()},
                        payload={"bot_input": inbound.bot_input, "address": inbound.address, **inbound.payload},
                    )
                    # The case was read before append_event locked its row: a turn of another worker may have taken
                    # it back (or handed it off) meanwhile. append_event's write brought its status and assignee up
                    # to date under the lock: the decisions below are on the case as it is.
                    if csat:  # the answer to "how did we do?", not a new conversation
                        thanks = await self.csat.record(session, case, csat[1], inbound.channel, inbound.address)
                        happened.append(CsatReceived(case.id, csat[1]))
                    held = await current_handoff(session, case.id) if case.status == "queued" else None
                    choice = self.notices.overflow.answer_to(case, held, inbound)
                    if choice is not None and held is not None:  # the answer to the overflow offer: one, kept
                        chosen = await self.notices.overflow.record(session, case, customer, held, choice,
                                                                    inbound.channel, inbound.address)
                        thanks = chosen.staged
                        happened.append(CaseChanged(case.id))
                    resuming = (choice is None and inbound.for_bot and case.status == "queued"
                                and (resumes_with_assistant(case, held) or accompanied(case, held)))
                    to_bot = (case.status == "bot" and inbound.for_bot) or resuming
                    turn = None
                    if to_bot:
                        await session.execute(_ADD_PENDING, {"event_id": event.id, "case_id": case.id,
                                                             "channel": inbound.channel, "address": inbound.address,
                                                             "claimed_until": utcnow() + self.lease})
                        turn = Turn(event.id, case.id, case.customer_id, inbound.channel, inbound.address,
                                    inbound.bot_input,
                                    turn_metadata(inbound.channel, case, customer, contact.identities),
                                    bool(case.language), resuming, arrived)
            except DuplicateProviderMessage:
                log.info("duplicate_provider_message", channel=inbound.channel, provider_id=inbound.provider_id)
                return Received(None, None, duplicate=True)
        await deliver_staged(self.deliverers, thanks)
        # While the case is in people's queue they see the message, even if the assistant then takes it back.
        await self.events.publish(MessageStored(case.id, event.id, inbound.channel, to_bot and not resuming),
                                  *happened)
        return Received(event.id, case.id, to_bot=to_bot, turn=turn)

    async def process(self, event_id: int, turn: Turn | None = None) -> None:
        """Runs the assistant's turn for a stored message; safe to call again after a crash."""
        turn = turn or await self._load_turn(event_id)
        if turn is None:
            return
        deliverer = self.deliverers.get(turn.channel)
        # No "assistant typing" while people hold the case: the assistant may still be down.
        typing = (asyncio.create_task(deliverer.typing(turn.address, "bot", True))
                  if deliverer and not turn.resuming else None)
        # Only a turn that may teach something asks for the slots after it: the language (learnt, or switched on
        # a long enough message), an order number, email or phone (kept on the customer for every door).
        teaches = (not turn.language_known or may_teach(turn.bot_input) or may_change_language(turn.bot_input))
        asked = time.monotonic()
        try:
            answer: BotTurn | None = await self.bot.turn(turn.case_id, turn.bot_input, turn.metadata,
                                                         TAUGHT_SLOTS if teaches else ())
        except BotUnavailable as exc:
            log.warning("bot_unavailable", case_id=turn.case_id, error=str(exc))
            answer = None
        self.timings.assistant_answered(turn.channel, time.monotonic() - asked)
        language, learnt = None, {}
        if answer is not None and teaches:
            # Reported in the answer; a tracker read only for an assistant whose channel does not report them.
            slots = answer.slots if answer.slots is not None else await self.bot.slots(turn.case_id)
            told = slots.get("language")
            language = (changed_language(turn.metadata.get("language"), told, self.operations.languages)
                        if turn.language_known else told)
            learnt = learnt_facts(slots, turn.metadata.get("known") or {}, self.operations.default_region)
        recorded = await self._record_turn(turn, answer, language, learnt)
        outgoing = recorded or []
        if recorded is not None and answer is not None and answer.verification is not None \
                and answer.handoff is None and self.code_requests is not None:
            code = await self.code_requests.answer(case_id=turn.case_id, channel=turn.channel, address=turn.address,
                                                   request=answer.verification)
            outgoing = [*outgoing, *code.outgoing]
            await self.events.publish(*code.happened)
        if recorded is not None and answer is not None and answer.callback is not None \
                and answer.handoff is None and self.callback_requests is not None:
            booked = await self.callback_requests.answer(case_id=turn.case_id, channel=turn.channel,
                                                         address=turn.address, request=answer.callback)
            outgoing = [*outgoing, *booked.outgoing]
            await self.events.publish(*booked.happened)
        if typing is not None:
            await typing  # shown while the assistant thinks, without making the customer wait for it
        if deliverer:
            for message in outgoing:
                await deliverer.deliver(turn.address, message)
            await deliverer.typing(turn.address, "bot", False)
        if recorded is not None:  # this worker ended the turn: the customer has the answer (or the handoff notice)
            self.timings.turn_ended(turn.channel, time.monotonic() - turn.received)

    async def _load_turn(self, event_id: int) -> Turn | None:
        """Rebuilds a pending turn from the store (replay after a restart); drops turns people now own, except
        those of a case queued only because the assistant was down (it may still take the case back)."""
        async with self.sessions() as session, session.begin():
            pending = await session.get(PendingTurn, event_id)
            if pending is None:
                return None
            event = await session.get(TimelineEvent, event_id)
            case = await session.get(Case, pending.case_id)
            customer = await session.get(Customer, case.customer_id) if case else None
            held = await current_handoff(session, case.id) if case is not None and case.status != "bot" else None
            if event is None or case is None or customer is None or not (
                    case.status == "bot" or resumes_with_assistant(case, held) or accompanied(case, held)):
                await session.execute(_CLAIM_PENDING, {"event_id": event_id})
                return None
            return Turn(event_id, case.id, case.customer_id, pending.channel, pending.address,
                        (event.payload or {}).get("bot_input") or event.text or "",
                        turn_metadata(event.channel, case, customer, await identities_of(session, customer.id)),
                        bool(case.language), case.status != "bot")

    async def _record_turn(self, pending: Turn, turn: BotTurn | None, language: str | None = None,
                           learnt: Mapping[str, str] | None = None) -> list[OutboundMessage] | None:
        """Stores the assistant's answer (or the holding message and handoff) and clears the pending turn.

        A case people hold gets no second holding message or handoff; one queued only because the assistant was
        down goes back to it when it answers (the handoff withdrawn), else stays with people.
        Facts the turn taught are kept on the customer; a question for a fact known when the turn began is a
        re-ask: flagged on the turn's last bot message (`reask` in its payload) and counted on the case.
        None when nothing was recorded: another worker finished the turn, or it is left to people."""
        reask = reasked(turn.asked, pending.metadata.get("known") or {}) if turn is not None else []
        # The usual turn: only answers, on a case the assistant holds. Its claim also takes the case's lock for
        # the answers (PostgreSQL); past it, the case is locked for update below, as before.
        usual = (turn is not None and turn.handoff is None and language is None and not pending.resuming
                 and not learnt and not reask)
        async with self.sessions() as session, session.begin():
            claimed = await write_reading_head(session, _CLAIM_PENDING, _CLAIM_PENDING_READ_HEAD,
                                               {"event_id": pending.event_id}, pending.case_id,
                                               _CLAIM_PENDING_LOCK_CASE if usual else None)
            if claimed == 0:  # another worker finished this turn first
                return None
            answers = {"answers": pending.event_id}  # on each answer: the customer message it answers
            if usual and turn is not None:
                case_ref = CaseRef(pending.case_id, pending.customer_id)  # no need to load the case row
                for message in turn.messages:
                    await stage_to_customer(session, case_ref, self.deliverers, channel=pending.channel,
                                            address=pending.address, message=message, actor="bot", note=answers)
                return list(turn.messages)
            # Past the usual turn (a handoff, no answer, a language to keep, or a case in people's queue): the
            # case and its customer change.
            case = await session.get_one(Case, pending.case_id, with_for_update=True)
            customer = await session.get_one(Customer, case.customer_id)
            withdrawn = keeping_company = False
            if case.status != "bot":  # people's queue holds the case
                held = await current_handoff(session, case.id)
                if turn is not None and held is not None and resumes_with_assistant(case, held):
                    await withdraw_handoff(session, case, held)  # the assistant is back and takes the case
                    withdrawn = True
                elif turn is not None and accompanied(case, held):  # the customer chose it while keeping their place
                    keeping_company = True
                elif turn is None or pending.resuming:
                    log.info("turn_left_to_people", case_id=case.id, event_id=pending.event_id,
                             assistant_answered=turn is not None)
                    return None
            outgoing: list[OutboundMessage] = []
            switched = False
            if language in self.operations.languages and not case.language:
                case.language = language
                customer.language = customer.language or language
            elif language in self.operations.languages and language != case.language:  # the customer changed it
                await append_event(session, case, channel=pending.channel, direction="internal", actor="bot",
                                   kind="language", text=f"{case.language} → {language}",
                                   payload={"from_language": case.language, "to_language": language})
                case.language = customer.language = language
                switched = True
            if learnt:
                customer.facts = {**(customer.facts or {}), **learnt}
                await weigh_told(session, customer, dict(learnt))  # a free phone becomes theirs; others: suggestions
            if reask:
                case.reask_turns += 1
            handoff: HandoffRequest | None = None
            actor = "bot"
            if turn is not None:
                for index, message in enumerate(turn.messages, start=1):
                    note = {**answers, "reask": reask} if reask and index == len(turn.messages) else answers
                    await stage_to_customer(session, case, self.deliverers, channel=pending.channel,
                                            address=pending.address, message=message, actor="bot", note=note)
                    outgoing.append(message)
                if turn.handoff is not None:
                    language = turn.handoff.slots.get("language")
                    if language in self.operations.languages:
                        case.language = customer.language = language
                    customer.facts = remember_facts(customer.facts or {}, turn.handoff.slots)
                    await weigh_told(session, customer, customer.facts)  # suggestions, never merges
                    handoff = turn.handoff
            else:
                language = case_language(self.operations, case, customer)
                said = service_text("bot_unavailable", language, self.operations.tone)
                holding = OutboundMessage(actor="system", text=said)
                await stage_to_customer(session, case, self.deliverers, channel=pending.channel,
                                        address=pending.address, message=holding, actor="system", note=answers)
                outgoing.append(holding)
                handoff, actor = HandoffRequest(reason="bot_unavailable"), "system"
            happened: list[CaseEvent] = []
            if handoff is not None and keeping_company:  # already in people's queue: not a second handoff
                notice = await self.notices.overflow.still_queued(session, case, customer)
                await stage_to_customer(session, case, self.deliverers, channel=pending.channel,
                                        address=pending.address, message=notice, actor="system", note=answers)
                outgoing.append(notice)
            elif handoff is not None:  # to people, routed, the customer told who answers and when
                notice, happened = await self.notices.hand_off(session, case, customer, handoff, pending.channel,
                                                               pending.address, actor=actor)
                outgoing.append(notice)
            elif withdrawn or switched:  # the inbox's queues and case views refresh
                happened.append(CaseChanged(case.id))
        await self.events.publish(*happened)
        return outgoing

    async def replay_pending(self, now: datetime | None = None) -> int:
        """Answers every stored message nobody holds (stored before a restart, or by a worker that died), claiming
        one turn at a time so several workers share the backlog; returns how many this worker replayed."""
        replayed = 0
        while True:
            async with self.sessions() as session, session.begin():
                claimed = await claim(session, PendingTurn.event_id, (), now=now or utcnow(), lease=self.lease,
                                      order_by=(PendingTurn.event_id,))
            if not claimed:
                break
            await self.process(claimed[0])
            replayed += 1
        if replayed:
            log.info("pending_turns_replayed", count=replayed)
        return replayed

    async def run_replays(self, every_seconds: float = 30.0) -> None:
        """Replays forever: at start what the last stop left, then what dead workers' lapsed leases free."""
        await repeat(self.replay_pending, every_seconds, "pending_turn_replay_failed")


def turn_metadata(channel: str, case: Case, customer: Customer, identities: list[Identity]) -> dict[str, Any]:
    """The assistant's metadata for a turn: who writes, on which door, what we already know of them, the open
    promises of all their cases and the case's last notification (the customer's and case's snapshots: no read of
    its own)."""
    known = dict(customer.facts or {})
    for identity in identities:
        if identity.kind in ("phone", "whatsapp") and identity.verified:
            known.setdefault("phone", identity.value)
        if identity.kind == "email":
            known.setdefault("email", identity.value)
    return build_metadata(
        channel=channel,
        language=case.language or customer.language,
        customer={
            "id": customer.id,
            "name": customer.display_name,
            "language": customer.language,
            "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified}
                           for i in identities if i.kind != "webchat"],
        },
        case={"id": case.id, "status": case.status},
        known=known,
        commitments=customer.open_commitments,
        notification=case.notified,  # "¿cuándo llega?" after "tu pedido salió": the order it spoke of
    )
