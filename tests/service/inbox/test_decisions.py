"""Pure inbox decisions: routing, queue order, estimated wait, permissions, canned responses, CSAT answers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from handoff.core.csat import parse_answer, question
from handoff.core.operations import CannedResponse
from handoff.core.permissions import INBOX_ROLES, ROLES, can, can_read_case, can_work_case
from handoff.core.routing import (
    AgentLoad,
    QueuedCase,
    estimated_wait_seconds,
    pick_agent,
    plan_assignments,
    queue_order,
)
from handoff.core.routing_notice import routing_notice
from handoff.core.routing_policy import (
    ASSIGN,
    FOLLOW_UP_AGENT_BUSY,
    FREE_AGENT,
    HOLD,
    NOBODY_ONLINE,
    QUEUE,
    WITHIN_TARGET,
    Decision,
)
from handoff.inbox.canned import fill, for_case

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def agent(agent_id: str, open_cases: int = 0, *, teams=("care",), presence="online", capacity=3,
          idle_minutes: int | None = 10) -> AgentLoad:
    idle_since = None if idle_minutes is None else T0 - timedelta(minutes=idle_minutes)
    return AgentLoad(agent_id, frozenset(teams), presence, capacity, open_cases, idle_since)


def case(case_id: str, minutes_ago: int, priority: int = 0, team: str = "care") -> QueuedCase:
    return QueuedCase(case_id, team, priority, T0 - timedelta(minutes=minutes_ago))


def test_the_online_agent_of_the_team_with_fewest_open_cases_wins() -> None:
    agents = [agent("busy", 2), agent("free", 0), agent("other-team", 0, teams=("returns",)),
              agent("away", 0, presence="away"), agent("full", 3, capacity=3)]
    assert pick_agent("care", agents).id == "free"
    assert pick_agent("fraud", agents) is None


def test_ties_go_to_the_agent_idle_the_longest_and_never_assigned_first() -> None:
    assert pick_agent("care", [agent("recent", 1, idle_minutes=1), agent("idle", 1, idle_minutes=30)]).id == "idle"
    assert pick_agent("care", [agent("idle", 1, idle_minutes=30), agent("new", 1, idle_minutes=None)]).id == "new"


def test_the_queue_is_ordered_by_priority_then_waiting_time() -> None:
    queue = [case("late", 1), case("early", 9), case("vip", 0, priority=5)]
    assert [c.id for c in queue_order(queue)] == ["vip", "early", "late"]


def test_estimated_wait_counts_online_slots_of_the_team() -> None:
    agents = [agent("a", 3, capacity=3), agent("b", 2, capacity=2), agent("c", presence="away")]
    assert estimated_wait_seconds(1, agents, "care", 300) == 300
    assert estimated_wait_seconds(6, agents, "care", 300) == 600
    assert estimated_wait_seconds(1, agents, "fraud", 300) is None


def test_draining_fills_free_capacity_in_queue_order() -> None:
    queue = [case("c1", 5), case("c2", 4), case("c3", 3), case("r1", 9, team="returns")]
    plan = plan_assignments(queue, [agent("a", 2), agent("b", 1)])
    assert plan == [("c1", "b"), ("c2", "a"), ("c3", "b")]


def test_roles_and_team_fences() -> None:
    assert set(ROLES) == {"agent", "supervisor", "designer", "reviewer", "admin"}
    assert can("agent", "work") and not can("agent", "supervise") and not can("designer", "inbox")
    assert can("admin", "manage_agents") and not can("supervisor", "manage_agents") and not can("x", "inbox")
    assert can_read_case("agent", "a1", ["care"], "care", None)
    assert not can_read_case("agent", "a1", ["care"], "returns", None)
    assert can_read_case("agent", "a1", ["care"], "returns", "a1")  # assigned to them
    assert can_read_case("supervisor", "s1", [], "returns", None)
    assert can_read_case("agent", "a1", ["care"], None, None)  # the assistant's, no team yet: takeover
    assert not can_read_case("agent", "a1", ["care"], None, "a2")
    assert not can_read_case("designer", "d1", ["care"], "care", None)
    assert not can_work_case("designer", "d1", ["care"], "care", "d1")
    # quality reviewers read whole cases through the quality review only: no inbox, no live panel
    assert [role for role in ROLES if can(role, "review_quality")] == ["supervisor", "reviewer", "admin"]
    assert not can_read_case("reviewer", "r1", [], "care", None) and not can("reviewer", "supervise")
    assert INBOX_ROLES == ("agent", "supervisor", "admin")


def test_canned_responses_fill_variables_and_show_what_is_missing() -> None:
    assert fill("Hola {customer_name}, pedido {order_number}", {"customer_name": "Ana"}) == \
        "Hola Ana, pedido [order_number]"
    assert fill("{x}<b>{y}</b>", {"x": "<i>", "y": 1}) == "<i><b>1</b>"  # text only: the page never parses it
    responses = [CannedResponse(key="a", title="A", text={"es": "Hola {customer_name}", "en": "Hi"}),
                 CannedResponse(key="b", title="B", text={"es": "Devolucion"}, teams=["returns"])]
    assert for_case(responses, "care", "es", {"customer_name": "Ana"}) == [{"key": "a", "title": "A",
                                                                          "text": "Hola Ana"}]
    assert [r["key"] for r in for_case(responses, "returns", "en", {})] == ["a", "b"]


def test_csat_answers_from_buttons_digits_or_titles() -> None:
    asked = question("es")
    assert [reply.payload for reply in asked.quick_replies] == ['/csat{"score":5}', '/csat{"score":3}',
                                                                '/csat{"score":1}']
    assert parse_answer('/csat{"score":3}') == 3 and parse_answer("4") == 4
    assert parse_answer("Buena") == 5 and parse_answer("bad") == 1 and parse_answer("ruim") == 1
    assert parse_answer('/csat{"score":9}') is None and parse_answer("quiero otra cosa") is None


def test_the_customer_is_told_who_answers_and_roughly_when() -> None:
    assert "ya tiene tu caso" in routing_notice(Decision(ASSIGN, FREE_AGENT, agent_id="a1"), "es")
    assert "number 3" in routing_notice(Decision(QUEUE, WITHIN_TARGET, position=3, wait_seconds=600), "en")
    assert "10 min" in routing_notice(Decision(QUEUE, WITHIN_TARGET, position=3, wait_seconds=600), "en")
    assert "as soon as one is available" in routing_notice(Decision(QUEUE, NOBODY_ONLINE, position=2), "en")
    assert "last time" in routing_notice(Decision(HOLD, FOLLOW_UP_AGENT_BUSY, agent_id="a1", hold_seconds=60), "en")
