"""Occupancy: the time agents spent handling cases over the time they were online (README: Service KPIs), from the
presence history and the transitions people accepted. Pure; the reads are in service_queries.py."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from handoff.reports.measures import _aware, elapsed_us

MICROS = 1_000_000
ONLINE = "online"


class PresenceFact(NamedTuple):
    """An agent's presence from `changed_at` on (presence_history)."""

    agent_id: str
    presence: str
    changed_at: datetime


class Handled(NamedTuple):
    """A transition an agent accepted: from acceptance to its end (None: still open)."""

    agent_id: str
    accepted_at: datetime
    ended_at: datetime | None


def _overlap_us(begin: datetime, finish: datetime, start: datetime, end: datetime) -> int:
    """Whole microseconds of [begin, finish) inside [start, end)."""
    first, last = max(_aware(begin), _aware(start)), min(_aware(finish), _aware(end))
    return elapsed_us(first, last) if last > first else 0


def online_us(changes: Iterable[PresenceFact], start: datetime, end: datetime) -> dict[str, int]:
    """Per agent, the time online within [start, end); the change before `start` says how each began (no change
    before it: offline)."""
    by_agent: dict[str, list[PresenceFact]] = defaultdict(list)
    for change in changes:
        by_agent[change.agent_id].append(change)
    found: dict[str, int] = {}
    for agent, history in by_agent.items():
        history.sort(key=lambda change: _aware(change.changed_at))
        total = 0
        for change, following in zip(history, [*history[1:], None], strict=True):
            if change.presence == ONLINE:
                total += _overlap_us(change.changed_at, following.changed_at if following else end, start, end)
        found[agent] = total
    return found


def handle_us(handled: Iterable[Handled], start: datetime, end: datetime) -> dict[str, int]:
    """Per agent, the time within [start, end) of the transitions they held (open ones up to `end`); two chats at
    once count twice, so occupancy above 1 means agents handled cases in parallel."""
    found: dict[str, int] = defaultdict(int)
    for item in handled:
        found[item.agent_id] += _overlap_us(item.accepted_at, item.ended_at or end, start, end)
    return dict(found)


def occupancy(handle: Mapping[str, int], online: Mapping[str, int],
              names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Handle time / online time, in total and per agent (agents with either), None where nobody was online."""
    names = names or {}
    agents = []
    for agent in sorted(set(handle) | set(online), key=lambda agent: (names.get(agent, agent), agent)):
        handled, present = handle.get(agent, 0), online.get(agent, 0)
        agents.append({"agent_id": agent, "name": names.get(agent), "handle_seconds": round(handled / MICROS, 2),
                       "online_seconds": round(present / MICROS, 2), "occupancy": _ratio(handled, present)})
    handled, present = sum(handle.values()), sum(online.values())
    return {"handle_seconds": round(handled / MICROS, 2), "online_seconds": round(present / MICROS, 2),
            "occupancy": _ratio(handled, present), "agents": agents}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
