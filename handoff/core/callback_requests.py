"""The customer asked the assistant for a call (`{"callback": {"window": …, "phone": …?}}`): the choice read against
business hours (core.callback_windows), the callback queued for the team (core.callbacks), and the customer told the
day and times and the number's last digits, on the door they wrote from.

A number they told is normalized in the operation's region; none told: their verified phone or WhatsApp number, else
any of theirs. When no call can be booked (no number, one that cannot be dialled, no working time ahead) they are
told so and the case goes to people with reason `callback_failed`, so the request is never dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import after_hours
from handoff.core.bot_client import CallbackAsk
from handoff.core.callback_windows import NoWindow, preferred_window, window_phrase
from handoff.core.callbacks import CallbackError, request_callback
from handoff.core.cases import case_language
from handoff.core.customers import follow_merges
from handoff.core.events import CaseChanged, CaseEvent
from handoff.core.handoffs import HandoffRequest
from handoff.core.messages import OutboundMessage
from handoff.core.operations import Operations
from handoff.core.overflow_answers import callback_phone, last_digits
from handoff.core.routing_notice import RoutingNotices
from handoff.core.texts import text as service_text
from handoff.store.models import Case, Customer

log = structlog.get_logger(__name__)

FAILED_REASON = "callback_failed"
INTENT = "request_callback"  # the team that takes a callback of a case nobody holds: operations' intent_teams


@dataclass
class CallbackAnswer:
    """What the customer was told (delivered after the commit) and the events to publish then."""

    outgoing: list[OutboundMessage] = field(default_factory=list)
    happened: list[CaseEvent] = field(default_factory=list)


class CallbackRequests:
    """Books the call the assistant collected and tells the customer when; a call that cannot be booked means
    people."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], operations: Operations, notices: RoutingNotices,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.sessions = sessions
        self.operations = operations
        self.notices = notices  # what the customer is told is staged on the case's door by the notices
        self.clock = clock  # the instant business hours are read at; None: the business clock

    async def answer(self, *, case_id: str, channel: str, address: str, request: CallbackAsk) -> CallbackAnswer:
        """Queues the callback in the window the customer chose and stages the confirmation, in one transaction."""
        now = self.clock() if self.clock is not None else after_hours.business_clock()
        async with self.sessions() as session, session.begin():
            case = await session.get_one(Case, case_id, with_for_update=True)
            customer = await follow_merges(session, await session.get_one(Customer, case.customer_id))
            language = case_language(self.operations, case, customer)
            handoff: HandoffRequest | None = None
            try:
                start, end = preferred_window(request.window, now, self.operations.hours(),
                                              self.operations.callbacks.day_parts(
                                                  self.operations.routing.callback_window()))
                phone = request.phone or await callback_phone(session, customer)
                callback = await request_callback(
                    session, case, phone=phone, window_start=start, window_end=end, actor="customer",
                    region=self.operations.default_region, now=now, team=self.operations.team_for(INTENT))
                text = service_text("callback_booked", language, self.operations.tone, last=last_digits(callback.phone),
                                    when=window_phrase(self._local(callback.window_start),
                                                       self._local(callback.window_end), now, language))
                log.info("callback_booked", case_id=case.id, callback_id=callback.id, window=request.window)
            except (CallbackError, NoWindow) as exc:
                log.warning("callback_not_booked", case_id=case.id, window=request.window, error=type(exc).__name__)
                text = service_text("callback_not_booked", language, self.operations.tone)
                handoff = HandoffRequest(reason=FAILED_REASON, intent=INTENT,
                                         summary=f"The customer asked for a call that could not be booked: {exc}")
            outgoing, happened = await self.notices.answer(session, case, channel, address, text, handoff)
        return CallbackAnswer(outgoing, [*happened, CaseChanged(case_id)])

    def _local(self, moment: datetime) -> datetime:
        """A stored instant (naive UTC on SQLite) in the operation's time zone, as the customer reads it."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return aware.astimezone(ZoneInfo(self.operations.timezone))
