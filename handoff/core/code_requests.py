"""The assistant asked for a verification code (`{"verification": {"phone" | "email": …}}`): which phone it goes
to, whether the customer has proved it already, the send (core.code_delivery), and what the customer is told.

The customer is told how the code travels and the phone's last two digits, never the code, and where to enter it (a
caller on their keypad); when no code can go out (limits, a phone that cannot be one, no phone for that email, no
provider took it) they are told so and the case goes to people with reason `verification_required`. A code is never
read in a call to a phone that is on a call with us, nor to a caller during their call (they would have to hang up
on the conversation the code is for): on the phone door it goes by WhatsApp or not at all. The typed code is
answered by core.typed_codes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.bot_client import CodeRequest
from handoff.core.cases import case_language
from handoff.core.code_delivery import CodeDispatch, CodeNotSent, CodeSent
from handoff.core.customers import find_by_identity, follow_merges
from handoff.core.events import CaseEvent
from handoff.core.handoffs import HandoffRequest
from handoff.core.identity import InvalidIdentity, normalize_email, normalize_told_phone
from handoff.core.messages import OutboundMessage
from handoff.core.operations import Operations
from handoff.core.routing_notice import RoutingNotices
from handoff.core.texts import text as service_text
from handoff.core.typed_codes import session_key
from handoff.store.models import Call, Case, Customer, Identity, utcnow

log = structlog.get_logger(__name__)

REQUIRED_REASON = "verification_required"
SHOWN_DIGITS = 2
LIMITS = frozenset({"too_many_for_phone", "too_many_for_session"})
PHONE_DOOR = "voice"  # the door where the customer is on a call, and the courier that calls
LIVE_CALL = timedelta(hours=4)  # a call not ended after this lost its last status callback: not on a call any more


def told_phone(raw: str, region: str) -> str | None:
    """A phone as the customer told it, in E.164 (without a country code: the operation's country), else None."""
    try:
        return normalize_told_phone(raw, region)
    except InvalidIdentity:
        return None


def last_digits(phone: str) -> str:
    """What the customer is shown of the phone: its last two digits."""
    return "".join(ch for ch in phone if ch.isdigit())[-SHOWN_DIGITS:]


def spared_couriers(door: str, phone_on_a_call: bool) -> frozenset[str]:
    """The couriers a code may not go by: no call to a caller during their call, nor to a phone on a call with us."""
    return frozenset({PHONE_DOOR}) if door == PHONE_DOOR or phone_on_a_call else frozenset()


def told_text(outcome: CodeSent | CodeNotSent | None, door: str = "") -> str:
    """The service text for an outcome (None: the customer has proved the phone already); a caller keys the code
    in (`door` voice), everyone else types it."""
    if outcome is None:
        return "verification_already_verified"
    if isinstance(outcome, CodeSent):
        if door == PHONE_DOOR:
            return "verification_code_sent_whatsapp_keypad"
        return "verification_code_sent_voice" if outcome.channel == "voice" else "verification_code_sent_whatsapp"
    if outcome.reason in LIMITS:
        return "verification_code_limit"
    if outcome.reason == "not_a_phone":
        return "verification_code_bad_phone"
    return "verification_code_not_sent"  # no phone for that email, no courier, undelivered


@dataclass(frozen=True)
class CodeAnswer:
    """What the customer was told (delivered after the commit) and the events to publish then."""

    outgoing: list[OutboundMessage] = field(default_factory=list)
    happened: list[CaseEvent] = field(default_factory=list)


class CodeRequests:
    """Sends the code the assistant offered and tells the customer; a code that cannot go out means people."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dispatch: CodeDispatch, operations: Operations,
                 notices: RoutingNotices) -> None:
        self.sessions = sessions
        self.dispatch = dispatch
        self.operations = operations
        self.notices = notices  # what the customer is told is staged on the case's door by the notices

    async def answer(self, *, case_id: str, channel: str, address: str, request: CodeRequest) -> CodeAnswer:
        """Sends a code for the conversation at (`channel`, `address`) to the requested phone, unless the writing
        customer proved that phone already; stages what the customer is told on the case."""
        async with self.sessions() as session:
            case = await session.get_one(Case, case_id)
            customer = await follow_merges(session, await session.get_one(Customer, case.customer_id))
            language = case_language(self.operations, case, customer)
            phone = await self._phone(session, request)
            proved = phone is not None and await self._proved_by(session, customer.id, phone)
            spared = spared_couriers(channel, phone is not None and await self._on_a_call(session, phone))
        outcome: CodeSent | CodeNotSent | None = None
        if phone is None:
            outcome = CodeNotSent("not_a_phone" if request.phone is not None else "no_phone")
        elif not proved:
            outcome = await self.dispatch.send(session_key=session_key(channel, address), customer_id=customer.id,
                                               phone=phone, language=language, spared=spared)
        log.info("verification_code_requested", case_id=case_id, by=("phone" if request.phone else "email"),
                 outcome=type(outcome).__name__ if outcome else "already_verified",
                 reason=outcome.reason if isinstance(outcome, CodeNotSent) else None)
        shown = last_digits(outcome.phone if isinstance(outcome, CodeSent) else phone or "")
        text = service_text(told_text(outcome, channel), language, self.operations.tone, last=shown)
        handoff = (HandoffRequest(reason=REQUIRED_REASON,
                                  summary=f"No verification code could be sent ({outcome.reason})")
                   if isinstance(outcome, CodeNotSent) else None)
        async with self.sessions() as session, session.begin():
            case = await session.get_one(Case, case_id, with_for_update=True)
            outgoing, happened = await self.notices.answer(session, case, channel, address, text, handoff)
        return CodeAnswer(outgoing, happened)

    async def _phone(self, session: AsyncSession, request: CodeRequest) -> str | None:
        """The phone to send to: the one told, or the verified phone of the customer owning the email told."""
        if request.phone is not None:
            return told_phone(request.phone, self.operations.default_region)
        try:
            email = normalize_email(request.email or "")
        except InvalidIdentity:
            return None
        owner = await find_by_identity(session, "email", email)
        if owner is None:
            return None
        phone: str | None = await session.scalar(
            select(Identity.value).where(Identity.customer_id == owner.id, Identity.kind == "phone",
                                         Identity.verified.is_(True)).order_by(Identity.id.desc()).limit(1))
        return phone

    async def _on_a_call(self, session: AsyncSession, phone: str) -> bool:
        """Whether `phone` is on a call with us now (a call from or to it, started lately and not ended)."""
        found = await session.scalar(select(Call.id).where(
            Call.ended_at.is_(None), Call.started_at >= utcnow() - LIVE_CALL,
            or_(Call.from_number == phone, Call.to_number == phone)).limit(1))
        return found is not None

    async def _proved_by(self, session: AsyncSession, customer_id: str, phone: str) -> bool:
        """Whether the writing customer owns `phone` verified already (no code needed)."""
        owner = await find_by_identity(session, "phone", phone, verified_only=True)
        return owner is not None and owner.id == customer_id
