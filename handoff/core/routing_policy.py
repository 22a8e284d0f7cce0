"""The operation's routing policy, pure: from the situation of a handed-off case to the next step and why.

The store gathers the situation (`core.assignment.situation_of`) and applies the decision; nothing here reads a
clock or a database, so every rule is tested table-driven (tests/service/core/test_routing_policy.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from handoff.core.routing import AgentLoad, estimated_wait_seconds, pick_agent

# What happens to the case.
ASSIGN = "assign"            # to `agent_id` now
HOLD = "hold"                # queued, reserved for `agent_id` (the follow-up's agent, busy) for `hold_seconds`
QUEUE = "queue"              # queued for the team, the wait within the channel's target
OVERFLOW = "overflow"        # queued, and the customer is offered `offers` (wait, WhatsApp, callback, the assistant)
AFTER_HOURS = "after_hours"  # kept for the opening at `opens_at`, routed then
ACTIONS = (ASSIGN, HOLD, QUEUE, OVERFLOW, AFTER_HOURS)

# Why: the reason recorded with the decision on the handoff and the timeline.
FREE_AGENT = "free_agent"                    # an online agent of the team had room
FOLLOW_UP_AGENT = "follow_up_agent"          # the previous case's agent is online with room
FOLLOW_UP_AGENT_BUSY = "follow_up_agent_busy"  # … online but full: held for them a while
FOLLOW_UP_AGENT_AWAY = "follow_up_agent_away"  # … not online: the team takes it (never an offline agent)
WITHIN_TARGET = "within_target"              # the estimated wait meets the channel's answer target
WAIT_OVER_TARGET = "wait_over_target"        # the estimated wait passes the channel's answer target
NOBODY_ONLINE = "nobody_online"              # no agent of the team is online
CLOSED = "closed"                            # outside business hours (holidays and closures included)
REASONS = (FREE_AGENT, FOLLOW_UP_AGENT, FOLLOW_UP_AGENT_BUSY, FOLLOW_UP_AGENT_AWAY, WITHIN_TARGET,
           WAIT_OVER_TARGET, NOBODY_ONLINE, CLOSED)

Offer = Literal["wait", "whatsapp", "callback", "assistant"]
OFFERS: tuple[Offer, ...] = ("wait", "whatsapp", "callback", "assistant")  # an overflowed customer's choices


@dataclass(frozen=True)
class RoutingRules:
    """operations.yml `routing:` as the policy reads it."""

    sticky_seconds: int = 120
    overflow_offers: tuple[str, ...] = OFFERS
    identity_intents: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Situation:
    """Everything the decision depends on, gathered by the store at the moment of the handoff."""

    team: str | None
    channel: str
    language: str
    agents: Sequence[AgentLoad]        # the team's online agents and their loads
    position: int                      # the case's place in its team's queue, 1 = next
    answer_target_seconds: int | None  # the channel's `sla.answer`; None: no target, never overflow on wait
    average_handle_seconds: int
    open_now: bool = True
    opens_at: datetime | None = None   # the next opening when closed
    follow_up: bool = False            # a recontact within the window, or a reply to an agent's message
    previous_agent: str | None = None  # who handled the previous case (or the agent replied to)
    intent: str | None = None
    verified: bool = False             # the customer holds a verified identity
    whatsapp_reachable: bool = False   # a verified WhatsApp number the customer has not opted out of
    phone_known: bool = False          # a number a callback could ring
    rules: RoutingRules = field(default_factory=RoutingRules)


@dataclass(frozen=True)
class Decision:
    """The next step for a case and the reason for it, as recorded on the handoff and the timeline."""

    action: str
    reason: str
    agent_id: str | None = None
    hold_seconds: int | None = None
    position: int | None = None
    wait_seconds: int | None = None
    opens_at: datetime | None = None
    offers: tuple[str, ...] = ()
    verify_identity: bool = False  # the intent needs an identity the customer has not proved: agents check first

    def as_payload(self) -> dict[str, object]:
        """The decision as JSON for the timeline."""
        return {"decision": self.action, "reason": self.reason, "agent_id": self.agent_id,
                "hold_seconds": self.hold_seconds, "position": self.position, "wait_seconds": self.wait_seconds,
                "opens_at": self.opens_at.isoformat() if self.opens_at else None, "offers": list(self.offers),
                "verify_identity": self.verify_identity}


def overflow_offers(situation: Situation) -> tuple[str, ...]:
    """The ways out the customer can actually take on this door: WhatsApp needs a verified number (and no opt-out)
    and is pointless on WhatsApp itself; a callback needs a number to ring."""
    offers = []
    for offer in situation.rules.overflow_offers:
        if offer == "whatsapp" and (situation.channel == "whatsapp" or not situation.whatsapp_reachable):
            continue
        if offer == "callback" and not situation.phone_known:
            continue
        offers.append(offer)
    return tuple(offers)


def decide(situation: Situation) -> Decision:
    """Someone free → a person; a follow-up → its agent first; closed → the opening; saturated or nobody online →
    the customer chooses; else the queue."""
    verify = bool(situation.intent in situation.rules.identity_intents and not situation.verified)
    team_agents = [agent for agent in situation.agents
                   if agent.presence == "online" and (situation.team is None or situation.team in agent.teams)]
    free = pick_agent(situation.team, team_agents)
    follow_up_reason: str | None = None
    if situation.follow_up and situation.previous_agent is not None:
        previous = next((agent for agent in situation.agents
                         if agent.id == situation.previous_agent and agent.presence == "online"), None)
        if previous is None:
            follow_up_reason = FOLLOW_UP_AGENT_AWAY
        elif previous.free > 0:
            return Decision(ASSIGN, FOLLOW_UP_AGENT, agent_id=previous.id, verify_identity=verify)
        elif situation.rules.sticky_seconds > 0 and situation.open_now:
            return Decision(HOLD, FOLLOW_UP_AGENT_BUSY, agent_id=previous.id,
                            hold_seconds=situation.rules.sticky_seconds, position=situation.position,
                            verify_identity=verify)
    if free is not None:
        return Decision(ASSIGN, follow_up_reason or FREE_AGENT, agent_id=free.id, verify_identity=verify)
    if not situation.open_now:
        return Decision(AFTER_HOURS, CLOSED, position=situation.position, opens_at=situation.opens_at,
                        verify_identity=verify)
    wait = estimated_wait_seconds(situation.position, team_agents, situation.team, situation.average_handle_seconds)
    if wait is None:
        reason = NOBODY_ONLINE
    elif situation.answer_target_seconds is not None and wait > situation.answer_target_seconds:
        reason = WAIT_OVER_TARGET
    else:
        return Decision(QUEUE, follow_up_reason or WITHIN_TARGET, position=situation.position, wait_seconds=wait,
                        verify_identity=verify)
    offers = overflow_offers(situation)
    if offers and offers != ("wait",):
        return Decision(OVERFLOW, reason, position=situation.position, wait_seconds=wait, offers=offers,
                        verify_identity=verify)
    return Decision(QUEUE, reason, position=situation.position, wait_seconds=wait, verify_identity=verify)
