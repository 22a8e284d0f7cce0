"""Routing decisions, pure: which agent takes a case, the queue order and estimated wait.

A case's queue position is counted by the store (`assignment.queue_position`), in this same order.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
JUST_ASSIGNED = datetime.max.replace(tzinfo=timezone.utc)  # idle the least, whatever the clocks say


@dataclass(frozen=True)
class AgentLoad:
    """An agent as routing sees them: teams, presence, capacity and open cases."""

    id: str
    teams: frozenset[str]
    presence: str
    capacity: int
    open_cases: int
    idle_since: datetime | None  # last assignment; None = never assigned, the longest idle of all

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.open_cases)


@dataclass(frozen=True)
class QueuedCase:
    id: str
    team: str | None
    priority: int
    queued_at: datetime
    held_for: str | None = None  # a follow-up reserved for its previous agent …
    held_until: datetime | None = None  # … until then

    def held(self, now: datetime) -> str | None:
        """The only agent who may take the case now, while its hold lasts."""
        if self.held_for is None or self.held_until is None or _aware(self.held_until) <= _aware(now):
            return None
        return self.held_for


def _aware(moment: datetime | None) -> datetime:
    """SQLite hands back naive datetimes; compare everything as UTC."""
    if moment is None:
        return EPOCH
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def pick_agent(team: str | None, agents: Iterable[AgentLoad]) -> AgentLoad | None:
    """An online agent of the team with free capacity: fewest open cases, then idle the longest."""
    best: AgentLoad | None = None
    best_key: tuple[int, datetime, str] | None = None
    for agent in agents:
        if agent.presence != "online" or agent.free <= 0 or (team is not None and team not in agent.teams):
            continue
        key = (agent.open_cases, _aware(agent.idle_since), agent.id)
        if best_key is None or key < best_key:
            best, best_key = agent, key
    return best


def queue_key(case: QueuedCase) -> tuple[int, datetime, str]:
    """Higher priority first, then whoever has waited the longest."""
    return (-case.priority, _aware(case.queued_at), case.id)


def queue_order(cases: Iterable[QueuedCase]) -> list[QueuedCase]:
    """The queue as agents take it."""
    return sorted(cases, key=queue_key)


def estimated_wait_seconds(position: int, agents: Sequence[AgentLoad], team: str | None,
                           average_handle_seconds: int) -> int | None:
    """Roughly when a person answers: each online slot of the team frees about once per handle time.

    None when nobody of the team is online, so the customer is not promised a time nobody will keep.
    """
    slots = sum(agent.capacity for agent in agents
                if agent.presence == "online" and (team is None or team in agent.teams))
    if slots <= 0:
        return None
    return int(math.ceil(position / slots) * average_handle_seconds)


def plan_assignments(queue: Iterable[QueuedCase], agents: Iterable[AgentLoad],
                     now: datetime = EPOCH) -> list[tuple[str, str]]:
    """Drains the queue in order onto agents with free capacity, a held case only onto its agent until its hold
    ends; returns (case id, agent id) pairs."""
    loads = {agent.id: agent for agent in agents}
    plan: list[tuple[str, str]] = []
    for case in queue_order(queue):
        held_for = case.held(now)
        candidates = [loads[held_for]] if held_for in loads else [] if held_for else loads.values()
        agent = pick_agent(None if held_for else case.team, candidates)
        if agent is None:
            continue
        plan.append((case.id, agent.id))
        loads[agent.id] = AgentLoad(agent.id, agent.teams, agent.presence, agent.capacity, agent.open_cases + 1,
                                    JUST_ASSIGNED)
    return plan
