"""The channel-free services of one process, composed in one place: the app and the tests build them here."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.bot_client import RasaClient
from handoff.core.conversation import Conversations
from handoff.core.csat import CsatAnswers
from handoff.core.events import EventBus, Listener
from handoff.core.messages import Deliverer
from handoff.core.operations import Operations
from handoff.core.queues import Queues
from handoff.core.routing_notice import RoutingNotices
from handoff.reports.nlu_samples import HandoffSamples


@dataclass(frozen=True)
class CoreServices:
    """What channels and the inbox call: the conversation service, the queues, and the bus they publish on."""

    events: EventBus
    conversations: Conversations
    queues: Queues


def build_services(sessions: async_sessionmaker[AsyncSession], operations: Operations, bot: RasaClient,
                   deliverers: Mapping[str, Deliverer], listeners: Iterable[Listener] = ()) -> CoreServices:
    """The designers' samples always listen; the app adds the inbox's live pushes (it needs Socket.IO)."""
    events = EventBus([HandoffSamples(sessions), *listeners])
    conversations = Conversations(sessions, bot, operations, deliverers,
                                  notices=RoutingNotices(operations, deliverers),
                                  csat=CsatAnswers(operations, deliverers), events=events)
    return CoreServices(events, conversations, Queues(sessions, events))
