"""The routing policy, table-driven: one row per situation the operation names, the decision and its reason."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from handoff.core.routing import AgentLoad, QueuedCase, plan_assignments
from handoff.core.routing_policy import (
    AFTER_HOURS,
    ASSIGN,
    CLOSED,
    FOLLOW_UP_AGENT,
    FOLLOW_UP_AGENT_AWAY,
    FOLLOW_UP_AGENT_BUSY,
    FREE_AGENT,
    HOLD,
    NOBODY_ONLINE,
    OVERFLOW,
    QUEUE,
    WAIT_OVER_TARGET,
    WITHIN_TARGET,
    Decision,
    RoutingRules,
    Situation,
    decide,
)

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)
OPENS = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def agent(agent_id: str, open_cases: int = 0, *, teams: tuple[str, ...] = ("care",), presence: str = "online",
          capacity: int = 2, idle_minutes: int = 10) -> AgentLoad:
    return AgentLoad(agent_id, frozenset(teams), presence, capacity, open_cases, T0 - timedelta(minutes=idle_minutes))


BASE = Situation(team="care", channel="webchat", language="es", agents=(), position=1, answer_target_seconds=120,
                 average_handle_seconds=300, whatsapp_reachable=True, phone_known=True,
                 rules=RoutingRules(sticky_seconds=90, identity_intents=frozenset({"update_account"})))
FULL = (agent("ana", 2), agent("bea", 2))  # two care agents, no room: 4 slots, position 1 → 300 s wait
BUSY_MAX = (agent("ana", 1, capacity=2), agent("bea", 2))  # ana has room

CASES = [
    # (what the operation says, situation, action, reason, agent)
    ("someone free: a person", replace(BASE, agents=BUSY_MAX), ASSIGN, FREE_AGENT, "ana"),
    ("the least loaded of the free", replace(BASE, agents=(agent("ana", 1), agent("bea", 0))), ASSIGN, FREE_AGENT,
     "bea"),
    ("another team's free agent does not count", replace(BASE, agents=(agent("eva", 0, teams=("fraud",)),)),
     OVERFLOW, NOBODY_ONLINE, None),
    ("away agents do not count", replace(BASE, agents=(agent("ana", 0, presence="away"),)), OVERFLOW, NOBODY_ONLINE,
     None),
    ("wait within target: the queue", replace(BASE, agents=FULL, answer_target_seconds=900), QUEUE, WITHIN_TARGET,
     None),
    ("wait over target: overflow", replace(BASE, agents=FULL), OVERFLOW, WAIT_OVER_TARGET, None),
    ("no target: never overflow on wait", replace(BASE, agents=FULL, answer_target_seconds=None), QUEUE,
     WITHIN_TARGET, None),
    ("nobody online: overflow", BASE, OVERFLOW, NOBODY_ONLINE, None),
    ("closed, nobody free: kept for the opening", replace(BASE, open_now=False, opens_at=OPENS), AFTER_HOURS, CLOSED,
     None),
    ("closed but someone free after hours: a person", replace(BASE, open_now=False, opens_at=OPENS, agents=BUSY_MAX),
     ASSIGN, FREE_AGENT, "ana"),
    ("follow-up, its agent free while a less busy colleague is too", replace(
        BASE, agents=(agent("ana", 1), agent("bea", 0)), follow_up=True, previous_agent="ana"),
     ASSIGN, FOLLOW_UP_AGENT, "ana"),
    ("follow-up, its agent full: held for them", replace(
        BASE, agents=(agent("ana", 2), agent("bea", 0)), follow_up=True, previous_agent="ana"),
     HOLD, FOLLOW_UP_AGENT_BUSY, "ana"),
    ("follow-up, its agent offline: the team, never the offline agent", replace(
        BASE, agents=(agent("ana", 0, presence="offline"), agent("bea", 1)), follow_up=True, previous_agent="ana"),
     ASSIGN, FOLLOW_UP_AGENT_AWAY, "bea"),
    ("follow-up, its agent of another team with room: still them", replace(
        BASE, agents=(agent("eva", 0, teams=("returns",)),), follow_up=True, previous_agent="eva"),
     ASSIGN, FOLLOW_UP_AGENT, "eva"),
    ("follow-up, its agent away and nobody else: overflow", replace(
        BASE, agents=(agent("ana", 0, presence="away"),), follow_up=True, previous_agent="ana"),
     OVERFLOW, NOBODY_ONLINE, None),
    ("follow-up, no hold configured: the team's queue", replace(
        BASE, agents=(agent("ana", 2),), follow_up=True, previous_agent="ana", answer_target_seconds=900,
        rules=RoutingRules(sticky_seconds=0)),
     QUEUE, WITHIN_TARGET, None),
    ("follow-up when closed and its agent full: the opening, no hold", replace(
        BASE, agents=(agent("ana", 2),), follow_up=True, previous_agent="ana", open_now=False, opens_at=OPENS),
     AFTER_HOURS, CLOSED, None),
]


@pytest.mark.parametrize(("situation", "action", "reason", "agent_id"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_policy_decides_as_the_operation_says(situation: Situation, action: str, reason: str,
                                                  agent_id: str | None) -> None:
    decision = decide(situation)
    assert (decision.action, decision.reason, decision.agent_id) == (action, reason, agent_id)


def test_a_hold_lasts_sticky_seconds_and_keeps_the_queue_position() -> None:
    held = decide(replace(BASE, agents=(agent("ana", 2),), follow_up=True, previous_agent="ana", position=4))
    assert (held.hold_seconds, held.position) == (90, 4)


def test_queue_and_overflow_carry_the_position_and_estimated_wait() -> None:
    assert decide(replace(BASE, agents=FULL, position=5, answer_target_seconds=900)) == Decision(
        QUEUE, WITHIN_TARGET, position=5, wait_seconds=600)  # 4 slots: 2 rounds
    overflow = decide(replace(BASE, agents=FULL, position=5))
    assert (overflow.position, overflow.wait_seconds) == (5, 600)
    assert decide(BASE).wait_seconds is None  # nobody online: no time is promised


def test_after_hours_says_when_people_are_back() -> None:
    assert decide(replace(BASE, open_now=False, opens_at=OPENS)).opens_at == OPENS


@pytest.mark.parametrize(("channel", "whatsapp", "phone", "offers"), [
    ("webchat", True, True, ("wait", "whatsapp", "callback", "assistant")),
    ("webchat", False, True, ("wait", "callback", "assistant")),   # no verified WhatsApp number (or opted out)
    ("webchat", False, False, ("wait", "assistant")),              # no number to ring back either
    ("whatsapp", True, True, ("wait", "callback", "assistant")),   # already on WhatsApp
    ("voice", True, True, ("wait", "whatsapp", "callback", "assistant")),
])
def test_overflow_offers_only_the_ways_out_this_customer_can_take(channel: str, whatsapp: bool, phone: bool,
                                                                  offers: tuple[str, ...]) -> None:
    decision = decide(replace(BASE, channel=channel, whatsapp_reachable=whatsapp, phone_known=phone))
    assert decision.offers == offers


def test_overflow_with_nothing_but_waiting_to_offer_is_the_queue() -> None:
    decision = decide(replace(BASE, rules=RoutingRules(overflow_offers=("wait", "whatsapp")),
                              whatsapp_reachable=False))
    assert (decision.action, decision.reason, decision.offers) == (QUEUE, NOBODY_ONLINE, ())


@pytest.mark.parametrize(("intent", "verified", "flag"), [
    ("update_account", False, True), ("update_account", True, False), ("complaint", False, False)])
def test_an_intent_that_needs_identity_tells_agents_to_verify_an_unverified_customer(
        intent: str, verified: bool, flag: bool) -> None:
    decision = decide(replace(BASE, agents=BUSY_MAX, intent=intent, verified=verified))
    assert (decision.action, decision.verify_identity) == (ASSIGN, flag)


def test_the_decision_is_json_for_the_timeline() -> None:
    payload = decide(replace(BASE, open_now=False, opens_at=OPENS)).as_payload()
    assert payload["decision"] == AFTER_HOURS and payload["opens_at"] == "2026-12-02T15:00:00+00:00"


def test_a_held_case_goes_only_to_its_agent_until_the_hold_ends() -> None:
    held = QueuedCase("c1", "care", 0, T0 - timedelta(minutes=5), held_for="ana", held_until=T0 + timedelta(minutes=1))
    other = QueuedCase("c2", "care", 0, T0 - timedelta(minutes=1))
    agents = [agent("ana", 2), agent("bea", 0)]  # ana full, bea free
    assert plan_assignments([held, other], agents, T0) == [("c2", "bea")]
    assert plan_assignments([held, other], agents, T0 + timedelta(minutes=2)) == [("c1", "bea"), ("c2", "bea")]
    freed = [agent("ana", 1), agent("bea", 0)]
    assert plan_assignments([held, other], freed, T0) == [("c1", "ana"), ("c2", "bea")]
