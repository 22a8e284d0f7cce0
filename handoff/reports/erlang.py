"""Erlang C, pure: how many agents an interval's traffic needs to answer a share of contacts within a target.

Traffic A = arrivals × average handle time / interval length (erlangs). Erlang B by its recursion
B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)) stays within (0, 1] for any A (no factorials, no powers that
overflow); Erlang C, the chance a contact waits, follows from it: C(n) = n·B(n) / (n − A·(1 − B(n))) for n > A.
The share answered within t seconds is 1 − C(n)·e^(−(n−A)·t/AHT)."""
from __future__ import annotations

import math

MAX_AGENTS = 100_000  # a guard against a loop on absurd input; 100,000 agents in one interval is never asked


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of `agents` servers offered `traffic` erlangs (the recursion, exact and stable)."""
    blocking = 1.0
    for servers in range(1, agents + 1):
        blocking = traffic * blocking / (servers + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact waits (1 when the agents cannot keep up: agents ≤ traffic)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(agents: int, traffic: float, aht_seconds: float, answer_seconds: float) -> float:
    """Share of contacts answered within `answer_seconds` with `agents` agents (0 when they cannot keep up)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waits = erlang_c(agents, traffic)
    return 1.0 - waits * math.exp(-(agents - traffic) * answer_seconds / aht_seconds)


def traffic(offered: float, aht_seconds: float, interval_seconds: float) -> float:
    """Erlangs: the agents' hours of work an interval's arrivals bring, per hour of the interval."""
    return offered * aht_seconds / interval_seconds


def required_agents(offered: float, aht_seconds: float, interval_seconds: float, *, target: float,
                    answer_seconds: float, max_occupancy: float) -> int:
    """The fewest agents that answer `target` of the contacts within `answer_seconds` while no agent is busier
    than `max_occupancy` on average (occupancy = traffic / agents). Nothing offered needs nobody.

    Steps up from the occupancy floor carrying Erlang B along (one recursion step per agent added), so the
    search costs O(agents), not O(agents²)."""
    load = traffic(offered, aht_seconds, interval_seconds)
    if load <= 0 or aht_seconds <= 0:
        return 0
    # occupancy ≤ max (a hair of slack so 8.5 / 0.85 is 10, not 11) and agents > A
    agents = max(1, math.ceil(load / max_occupancy - 1e-9), math.floor(load) + 1)
    blocking = erlang_b(agents, load)
    while agents < MAX_AGENTS:
        waits = agents * blocking / (agents - load * (1 - blocking))
        if 1.0 - waits * math.exp(-(agents - load) * answer_seconds / aht_seconds) >= target:
            return agents
        agents += 1
        blocking = load * blocking / (agents + load * blocking)
    return agents
