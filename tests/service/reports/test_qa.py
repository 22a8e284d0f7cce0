"""Quality review in the store (SQLite and PostgreSQL): the week's queue, scoring a whole case, audit, agreement,
agents' own scores and the trends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handoff.core import audit
from handoff.core.agents import NewAgent, create_agent
from handoff.core.qa import sample
from handoff.reports import qa_queue, qa_reviews, transitions
from handoff.reports.qa_queue import queue_items
from handoff.store.models import Agent
from tests.service.reports.qa_cases import OPERATIONS, three_channel_case

WEEK = "2026-W49"  # Monday 30 November to Sunday 6 December, Mexico City
IN_WEEK = datetime(2026, 12, 2, 17, 0, tzinfo=timezone.utc)
ALL_FOUR = {"greeting": 4, "resolution": 3, "identity": 4}


async def agent(session, email: str, role: str = "agent", teams: tuple[str, ...] = ("care",)) -> Agent:
    return await create_agent(session, NewAgent(email, email.split("@")[0].title(), role, teams, "a long password", 3),
                              OPERATIONS.teams)


async def score(session, case_id: str, reviewer: Agent, scores: dict, **kwargs) -> dict:
    return await qa_reviews.score_case(session, OPERATIONS, case_id, reviewer_id=reviewer.id,
                                       actor=f"agent:{reviewer.id}", scores=scores, comments=kwargs.pop("comments", {}),
                                       comment=kwargs.pop("comment", None), **kwargs)


def test_queue_samples_per_agent_and_adds_every_tagged_case() -> None:
    handled = [(f"a{n:02d}", "ana") for n in range(20)] + [(f"b{n:02d}", "beto") for n in range(5)]
    items = queue_items(handled, [("b01", "beto", "late handoff"), ("z99", None, "wrong team")], 0.1)
    by_agent = {agent: [i.case_id for i in items if i.agent_id == agent and "sample" in i.sources]
                for agent in ("ana", "beto")}
    assert by_agent == {"ana": sample([c for c, a in handled if a == "ana"], 0.1),
                        "beto": sample([c for c, a in handled if a == "beto"], 0.1)}
    assert len(by_agent["ana"]) == 2 and len(by_agent["beto"]) == 1
    tagged = {(i.case_id, i.agent_id): i.sources for i in items if any(s.startswith("transition") for s in i.sources)}
    assert tagged[("z99", None)] == ["transition: wrong team"]
    assert tagged[("b01", "beto")][-1] == "transition: late handoff"


async def test_the_queue_samples_each_agents_week_and_adds_tagged_transitions(sessions) -> None:
    async with sessions() as session, session.begin():
        ana, beto, sup = await agent(session, "ana@example.com"), await agent(session, "beto@example.com"), \
            await agent(session, "sup@example.com", "supervisor")
        anas = [(await three_channel_case(session, ana, IN_WEEK + timedelta(hours=n)))[0].id for n in range(4)]
        betos = [(await three_channel_case(session, beto, IN_WEEK))[0].id for _ in range(2)]
        late, _ = await three_channel_case(session, beto, IN_WEEK - timedelta(days=7))  # the week before
        tagged, tagged_handoff = await three_channel_case(session, beto, IN_WEEK + timedelta(days=1))
    async with sessions() as session, session.begin():
        await transitions.tag_transition(session, tagged_handoff.id, "late handoff", None, actor=f"agent:{sup.id}")
    async with sessions() as session:
        queued = await qa_queue.week_queue(session, OPERATIONS, WEEK, sup.id)
        before = await qa_queue.week_queue(session, OPERATIONS, "2026-W48", sup.id)
    sampled = {row["case_id"] for row in queued if "sample" in row["sources"]}
    assert sampled == set(sample(anas, 0.5)) | set(sample([*betos, tagged.id], 0.5))
    assert len(sample(anas, 0.5)) == 2 and late.id not in sampled
    [tag_row] = [row for row in queued if "transition: late handoff" in row["sources"]]
    assert (tag_row["case_id"], tag_row["agent_id"], tag_row["agent_name"]) == (tagged.id, beto.id, "Beto")
    assert tag_row["channels"] == ["voice", "webchat", "whatsapp"] and tag_row["customer_name"] == "Lucía Pérez"
    assert [row["case_id"] for row in before] == [late.id]  # share 0.5 of one case is that case
    async with sessions() as session:  # a rerun picks the same cases
        assert await qa_queue.week_queue(session, OPERATIONS, WEEK, sup.id) == queued


async def test_scoring_a_whole_case_stores_the_total_and_audits_the_scores(sessions) -> None:
    async with sessions() as session, session.begin():
        ana, sup = await agent(session, "ana@example.com"), await agent(session, "sup@example.com", "supervisor")
        case, _ = await three_channel_case(session, ana, IN_WEEK)
    async with sessions() as session:
        whole = await qa_reviews.case_for_review(session, OPERATIONS, case.id, "pt")
    assert whole is not None and whole["case"]["channels"] == ["voice", "webchat", "whatsapp"]
    assert [(e["channel"], e["actor"]) for e in whole["events"] if e["kind"] == "message"] == [
        ("webchat", "customer"), ("webchat", "bot"), ("whatsapp", "customer"), ("whatsapp", "bot"),
        ("voice", f"agent:{ana.id}")]  # the assistant's part included
    assert [c["label"] for c in whole["scorecard"]["criteria"]] == ["Saudação", "Resolveu o caso",
                                                                    "Verificou a identidade"]
    assert whole["case"]["agents"] == [{"id": ana.id, "name": "Ana"}] and whole["reviews"] == []

    async with sessions() as session, session.begin():
        stored = await score(session, case.id, sup, ALL_FOUR, comments={"resolution": "  prometió y cumplió ",
                                                                         "greeting": " "}, comment="Bien")
    # (1×4 + 3×3 + 1×4) / (4 × 5) = 17/20
    assert (stored["total"], stored["agent_id"], stored["week"], stored["team"]) == (85.0, ana.id, WEEK, "care")
    assert stored["comments"] == {"resolution": "prometió y cumplió"} and stored["comment"] == "Bien"
    async with sessions() as session, session.begin():
        again = await score(session, case.id, sup, {**ALL_FOUR, "identity": 0})
    assert (again["id"], again["total"], again["critical_failed"]) == (stored["id"], 0.0, True)
    async with sessions() as session:
        entries = [e for e in await audit.entries(session, case.id) if e.action == "qa_review"]
        chain = await audit.verify(session)
    assert [(e.detail["total"], e.detail["replaced"], e.detail["critical_failed"]) for e in entries] == [
        (85.0, False, []), (0.0, True, ["identity"])]
    assert entries[0].detail["scores"] == ALL_FOUR and entries[0].detail["commented"] == ["resolution"]
    assert "prometió" not in str([e.detail for e in entries]) and chain.ok


async def test_two_reviewers_show_their_agreement(sessions) -> None:
    async with sessions() as session, session.begin():
        ana = await agent(session, "ana@example.com")
        first, second = await agent(session, "s1@example.com", "supervisor"), await agent(session, "s2@example.com",
                                                                                           "supervisor")
        case, _ = await three_channel_case(session, ana, IN_WEEK)
        await score(session, case.id, first, ALL_FOUR)
        await score(session, case.id, second, {"greeting": None, "resolution": 3, "identity": 4})
    async with sessions() as session:
        whole = await qa_reviews.case_for_review(session, OPERATIONS, case.id, "es")
    assert whole is not None and [r["total"] for r in whole["reviews"]] == [85.0, 81.2]  # 13/16
    assert whole["agreement"] == [{"first_reviewer_id": first.id, "second_reviewer_id": second.id, "criteria": 3,
                                   "equal": 2, "equal_share": 0.667, "total_difference": 3.8}]


async def test_refusals_say_why_and_store_nothing(sessions) -> None:
    async with sessions() as session, session.begin():
        ana, beto = await agent(session, "ana@example.com"), await agent(session, "beto@example.com")
        sup = await agent(session, "sup@example.com", "supervisor")
        case, _ = await three_channel_case(session, ana, IN_WEEK)
    cases = [({"greeting": 4, "resolution": 3}, {}, "identity: missing"),
             ({**ALL_FOUR, "identity": None}, {}, "identity: a critical criterion is always scored"),
             (ALL_FOUR, {"agent_id": beto.id}, "that agent did not handle this case"),
             (ALL_FOUR, {"comments": {"speed": "?"}}, "comments on unknown criteria: speed")]
    for scores, extra, message in cases:
        async with sessions() as session, session.begin():
            with pytest.raises(qa_reviews.QaError) as refused:
                await score(session, case.id, sup, scores, **extra)
        assert (refused.value.status, refused.value.message) == (422, message)
    async with sessions() as session, session.begin():
        with pytest.raises(qa_reviews.QaError) as missing:
            await score(session, "0" * 32, sup, ALL_FOUR)
        assert missing.value.status == 404
        bare = OPERATIONS.model_copy(update={"qa": OPERATIONS.qa.model_copy(update={"scorecards": []})})
        with pytest.raises(qa_reviews.QaError) as unconfigured:
            await qa_reviews.score_case(session, bare, case.id, reviewer_id=sup.id, actor="agent:x", scores={},
                                        comments={}, comment=None)
        assert unconfigured.value.status == 409
    async with sessions() as session:
        whole = await qa_reviews.case_for_review(session, OPERATIONS, case.id, "es")
        assert whole is not None and whole["reviews"] == []
        assert not [e for e in await audit.entries(session, case.id) if e.action == "qa_review"]


async def test_agents_read_their_own_scores_and_trends_group_by_week(sessions) -> None:
    async with sessions() as session, session.begin():
        ana = await agent(session, "ana@example.com")
        beto = await agent(session, "beto@example.com", teams=("returns",))
        sup = await agent(session, "sup@example.com", "supervisor")
        this_week, _ = await three_channel_case(session, ana, IN_WEEK)
        last_week, _ = await three_channel_case(session, ana, IN_WEEK - timedelta(days=7))
        betos, _ = await three_channel_case(session, beto, IN_WEEK, team_intent="return_request")
        await score(session, this_week.id, sup, ALL_FOUR, comments={"greeting": "¡Muy bien!"})
        await score(session, last_week.id, sup, {"greeting": 2, "resolution": 2, "identity": 4})
        await score(session, betos.id, sup, {"greeting": 4, "resolution": 4, "identity": 4})
    async with sessions() as session:
        anas = await qa_reviews.own_reviews(session, OPERATIONS, ana.id, "en")
        nobodys = await qa_reviews.own_reviews(session, OPERATIONS, sup.id, "en")
        shown = await qa_reviews.trends(session, OPERATIONS, WEEK, 2)
    assert [(r["case_id"], r["total"]) for r in anas] == [(last_week.id, 60.0), (this_week.id, 85.0)]  # newest first
    assert nobodys == []  # a reviewer who was never scored sees nothing, not the scores they gave
    newest = next(r for r in anas if r["case_id"] == this_week.id)
    assert newest["criteria"][0] == {"key": "greeting", "label": "Greeting", "critical": False, "score": 4,
                                     "comment": "¡Muy bien!"}
    assert newest["reviewer_name"] == "Sup" and newest["scale"] == 4
    assert shown["weeks"] == ["2026-W48", WEEK]
    assert [(r["week"], r["agent_name"], r["reviews"], r["average"]) for r in shown["agents"]] == [
        ("2026-W48", "Ana", 1, 60.0), (WEEK, "Ana", 1, 85.0), (WEEK, "Beto", 1, 100.0)]
    assert [(r["week"], r["team"], r["average"]) for r in shown["teams"]] == [
        ("2026-W48", "care", 60.0), (WEEK, "care", 85.0), (WEEK, "returns", 100.0)]
