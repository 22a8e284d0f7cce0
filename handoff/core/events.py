"""Domain events: the core says what happened after its commits; the inbox, reports and channels react.

Listeners are given to the bus once, when the process is wired. A listener that fails is logged and skipped:
a reaction never breaks the customer's turn or an agent's action.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CaseEvent:
    """Something that happened to one case, already committed."""

    case_id: str


@dataclass(frozen=True)
class MessageStored(CaseEvent):
    """A customer's message is on the timeline: the assistant answers it (`to_bot`), else people see it."""

    event_id: int
    channel: str
    to_bot: bool


@dataclass(frozen=True)
class HandedOff(CaseEvent):
    """The case went from the assistant (or nobody) to people's queue, with what the assistant predicted."""

    handoff_id: int
    reason: str
    intent: str | None = None
    confidence: float | None = None
    team: str | None = None


@dataclass(frozen=True)
class Assigned(CaseEvent):
    """The case is on an agent's plate."""

    agent_id: str


@dataclass(frozen=True)
class Resolved(CaseEvent):
    """An agent closed the case with a disposition."""

    disposition: str


@dataclass(frozen=True)
class CsatReceived(CaseEvent):
    """The customer answered "how did we do?" on a resolved case (1 to 5)."""

    score: int


@dataclass(frozen=True)
class CaseChanged(CaseEvent):
    """Status, team or assignee may have changed: whoever shows the case refreshes it."""

    previous_team: str | None = None


@dataclass(frozen=True)
class EventsAdded(CaseEvent):
    """Agent-side timeline events of the case (replies, notes, transitions)."""

    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class Merged(CaseEvent):
    """Two customers, or two open cases, became one (`case_id`: one of the cases involved; one event per case)."""

    merge_id: str
    kind: str  # customers, cases


@dataclass(frozen=True)
class MergeUndone(CaseEvent):
    """A merge was undone: the case is back as it was before it (one event per case involved)."""

    merge_id: str


@dataclass(frozen=True)
class CommitmentDue(CaseEvent):
    """A promise on the case reached its due time still open: claimed once by the due pass, alerted once."""

    commitment_id: int
    agent_id: str  # who promised
    team: str | None
    assignee_id: str | None


E = TypeVar("E", bound=CaseEvent)


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """One reaction: the event type it waits for and the coroutine that handles it."""

    event: type[E]
    handler: Callable[[E], Awaitable[None]]


class Listener(Protocol):
    """Anything that reacts to domain events says which ones at wiring time."""

    def subscriptions(self) -> Iterable[Subscription[Any]]: ...


class EventBus:
    """In-process and in order: each event's handlers run one after the other, in registration order."""

    def __init__(self, listeners: Iterable[Listener] = ()) -> None:
        self._handlers: dict[type[CaseEvent], list[Callable[[Any], Awaitable[None]]]] = {}
        for listener in listeners:
            for subscription in listener.subscriptions():
                self._handlers.setdefault(subscription.event, []).append(subscription.handler)

    async def publish(self, *events: CaseEvent) -> None:
        """Called after the commit that made the events true."""
        for event in events:
            for handler in self._handlers.get(type(event), ()):
                try:
                    await handler(event)
                except Exception:  # a reaction's failure is its own; the caller's work is already done
                    log.exception("listener_failed", domain_event=type(event).__name__, case_id=event.case_id,
                                  handler=getattr(handler, "__qualname__", repr(handler)))
