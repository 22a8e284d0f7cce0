"""The channel-free services of one process, composed in one place: the app and the tests build them here."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.bot_client import RasaClient
from handoff.core.callback_requests import CallbackRequests
from handoff.core.claims import LEASE
from handoff.core.code_delivery import CodeCourier, CodeDispatch
from handoff.core.code_requests import CodeRequests
from handoff.core.commitment_alerts import CommitmentSnapshots
from handoff.core.conversation import Conversations, TurnTimings
from handoff.core.csat import CsatAnswers
from handoff.core.events import EventBus, Listener
from handoff.core.follow_up import Continuation
from handoff.core.messages import Deliverer
from handoff.core.operations import Operations
from handoff.core.overflow_answers import OverflowAnswers
from handoff.core.queues import Queues
from handoff.core.routing_notice import RoutingNotices
from handoff.core.typed_codes import TypedCodes
from handoff.core.verification import Verifications
from handoff.reports.nlu_samples import HandoffSamples


@dataclass(frozen=True)
class CoreServices:
    """What channels and the inbox call: the conversation service, the queues, and the bus they publish on."""

    events: EventBus
    conversations: Conversations
    queues: Queues


def build_services(sessions: async_sessionmaker[AsyncSession], operations: Operations, bot: RasaClient,
                   deliverers: Mapping[str, Deliverer], listeners: Iterable[Listener] = (),
                   verifications: Verifications | None = None, couriers: Sequence[CodeCourier] = (),
                   clock: Callable[[], datetime] | None = None,
                   follow_up: Continuation | None = None, timings: TurnTimings | None = None,
                   lease: timedelta = LEASE) -> CoreServices:
    """The designers' samples and the commitments' snapshot upkeep always listen; the app adds the inbox's
    live pushes (it needs Socket.IO).
    With `verifications`, the assistant's offer of a code is sent by the `couriers` (WhatsApp, a call) and the
    code typed while one is pending is checked by the service, never the assistant. `clock`: the instant handoffs
    read business hours at (default the wall clock). An overflowed customer who chooses WhatsApp continues on
    `follow_up`. `timings`: where turn latencies go (the app's metrics). `lease`: how long a worker holds a turn
    before another may replay it."""
    events = EventBus([HandoffSamples(sessions), CommitmentSnapshots(sessions), *listeners])
    notices = RoutingNotices(operations, deliverers, clock,
                             OverflowAnswers(operations, deliverers, follow_up=follow_up))
    codes = requests = None
    if verifications is not None:
        codes = TypedCodes(sessions, verifications, operations, deliverers, notices)
        requests = CodeRequests(sessions, CodeDispatch(sessions, verifications, couriers), operations, notices)
    conversations = Conversations(sessions, bot, operations, deliverers, notices=notices,
                                  csat=CsatAnswers(operations, deliverers), events=events, codes=codes,
                                  code_requests=requests,
                                  callback_requests=CallbackRequests(sessions, operations, notices, clock),
                                  timings=timings, lease=lease)
    return CoreServices(events, conversations, Queues(sessions, events))
