"""Quality reviews in the store: the whole case for the reviewer, scoring it (audited), agents' own scores, trends."""
from __future__ import annotations

from itertools import combinations
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core import audit
from handoff.core.operations import Operations
from handoff.core.qa import Scorecard, Scored, agreement, score_problems, total, trend, week_of, weeks_back
from handoff.inbox.views import agent_names, event_view, handoff_view, iso
from handoff.store.db import read_only
from handoff.store.models import Agent, Case, Customer, Handoff, QaReview, TimelineEvent, utcnow

MAX_EVENTS = 2000  # a whole case, every channel, the assistant's part included
MAX_COMMENT = 4000


class QaError(Exception):
    """A review the service refuses, with the HTTP status and the field that says why."""

    def __init__(self, status: int, message: str, field: str = "scores") -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def card_view(card: Scorecard, language: str) -> dict[str, Any]:
    """The scorecard as a reviewer or an agent reads it, labels in their language."""
    return {"key": card.key, "scale": card.scale,
            "criteria": [{"key": c.key, "label": c.text(language), "weight": c.weight, "critical": c.critical}
                         for c in card.criteria]}


def review_view(review: QaReview, names: dict[str, str]) -> dict[str, Any]:
    return {"id": review.id, "case_id": review.case_id, "agent_id": review.agent_id,
            "agent_name": names.get(review.agent_id or ""), "team": review.team, "week": review.week,
            "reviewer_id": review.reviewer_id, "reviewer_name": names.get(review.reviewer_id),
            "scorecard": review.scorecard, "scores": review.scores, "comments": review.comments or {},
            "comment": review.comment, "total": review.total, "critical_failed": review.critical_failed,
            "updated_at": iso(review.updated_at)}


async def names_of(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict((await session.execute(select(Agent.id, Agent.display_name).where(Agent.id.in_(ids)))).tuples().all())


def agreements(card: Scorecard | None, reviews: list[QaReview]) -> list[dict[str, Any]]:
    """Every pair of reviewers of the case who used the same scorecard."""
    if card is None:
        return []
    same = [review for review in reviews if review.scorecard == card.key]
    pairs = []
    for first, second in combinations(same, 2):
        agreed = agreement(card, first.scores, second.scores, first.total, second.total)
        pairs.append({"first_reviewer_id": first.reviewer_id, "second_reviewer_id": second.reviewer_id,
                      "criteria": agreed.criteria, "equal": agreed.equal, "equal_share": agreed.equal_share,
                      "total_difference": agreed.total_difference})
    return pairs


async def handled_by(session: AsyncSession, case: Case) -> list[Handoff]:
    """The case's accepted handoffs to people, latest first: whose work a review scores and when."""
    return list(await session.scalars(select(Handoff).where(
        Handoff.case_id == case.id, Handoff.direction == "to_human", Handoff.agent_id.is_not(None),
        Handoff.accepted_at.is_not(None)).order_by(Handoff.accepted_at.desc(), Handoff.id.desc())))


async def case_for_review(session: AsyncSession, operations: Operations, case_id: str,
                          language: str) -> dict[str, Any] | None:
    """The whole case across its channels, the assistant's turns included, with its scorecard and reviews."""
    await read_only(session)
    case = await session.get(Case, case_id)
    if case is None:
        return None
    customer = await session.get(Customer, case.customer_id)
    events = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case.id)
                                        .order_by(TimelineEvent.seq).limit(MAX_EVENTS)))
    handoffs = list(await session.scalars(select(Handoff).where(Handoff.case_id == case.id).order_by(Handoff.id)))
    reviews = list(await session.scalars(select(QaReview).where(QaReview.case_id == case.id).order_by(QaReview.id)))
    handled = await handled_by(session, case)
    agents = [h.agent_id for h in handled if h.agent_id] + ([case.assignee_id] if case.assignee_id else [])
    names = await names_of(session, {*agents, *(r.reviewer_id for r in reviews), *(r.agent_id or "" for r in reviews)})
    card = operations.qa.scorecard_for(case.team)
    writers = await agent_names(session, events)
    return {
        "case": {"id": case.id, "status": case.status, "team": case.team, "channel": case.channel,
                 "customer_name": customer.display_name if customer else None, "disposition": case.disposition,
                 "csat": case.csat, "created_at": iso(case.created_at), "resolved_at": iso(case.resolved_at),
                 "channels": sorted({event.channel for event in events}),
                 "agents": [{"id": agent_id, "name": names.get(agent_id)} for agent_id in dict.fromkeys(agents)]},
        "scorecard": card_view(card, language) if card else None,
        "events": [event_view(event, writers) for event in events],
        "transitions": [handoff_view(h) for h in handoffs],
        "reviews": [review_view(review, names) for review in reviews],
        "agreement": agreements(card, reviews),
    }


def clean_comments(card: Scorecard, comments: dict[str, str]) -> dict[str, str]:
    """Comments on the scorecard's criteria only, blank ones dropped."""
    unknown = [key for key in comments if card.criterion(key) is None]
    if unknown:
        raise QaError(422, f"comments on unknown criteria: {', '.join(sorted(unknown))}", "comments")
    return {key: text.strip() for key, text in comments.items() if text.strip()}


async def score_case(session: AsyncSession, operations: Operations, case_id: str, *, reviewer_id: str, actor: str,
                     scores: dict[str, int | None], comments: dict[str, str], comment: str | None,
                     agent_id: str | None = None) -> dict[str, Any]:
    """Stores one reviewer's scores of a case (again: replaced), its total and an audit entry, in one transaction."""
    case = await session.get(Case, case_id)
    if case is None:
        raise QaError(404, "no such case", "case_id")
    card = operations.qa.scorecard_for(case.team)
    if card is None:
        raise QaError(409, "no scorecard in operations.yml (qa.scorecards) applies to this case", "case_id")
    problems = score_problems(card, scores)
    if problems:
        raise QaError(422, "; ".join(problems))
    kept_comments = clean_comments(card, comments)
    handled = await handled_by(session, case)
    worked = [h.agent_id for h in handled] + ([case.assignee_id] if case.assignee_id else [])
    if agent_id is not None and agent_id not in worked:
        raise QaError(422, "that agent did not handle this case", "agent_id")
    agent_id = agent_id or next(iter(worked), None)
    handled_at = next((h.accepted_at for h in handled if h.agent_id == agent_id and h.accepted_at), case.created_at)
    result = total(card, scores)
    review = await session.scalar(select(QaReview).where(QaReview.case_id == case.id,
                                                         QaReview.reviewer_id == reviewer_id))
    replaced = review is not None
    if review is None:
        review = QaReview(case_id=case.id, reviewer_id=reviewer_id, created_at=utcnow())
        session.add(review)
    review.agent_id, review.team, review.week = agent_id, case.team, week_of(handled_at, operations.timezone)
    review.scorecard, review.scores, review.comments = card.key, dict(scores), kept_comments
    review.comment = (comment or "").strip() or None
    review.total, review.critical_failed, review.updated_at = result.score, bool(result.critical_failed), utcnow()
    await session.flush()
    # Scores and who is scored are the record; the comments' words stay in the review, not the audit chain.
    await audit.record(session, actor, "qa_review", case_id=case.id, review_id=review.id, agent_id=agent_id,
                       scorecard=card.key, scores=dict(scores), total=result.score,
                       critical_failed=list(result.critical_failed), commented=sorted(kept_comments),
                       replaced=replaced)
    return review_view(review, await names_of(session, {reviewer_id, agent_id or ""}))


async def own_reviews(session: AsyncSession, operations: Operations, agent_id: str,
                      language: str) -> list[dict[str, Any]]:
    """An agent's scores and comments (theirs only), newest first, with each criterion's label."""
    await read_only(session)
    reviews = list(await session.scalars(select(QaReview).where(QaReview.agent_id == agent_id)
                                         .order_by(QaReview.updated_at.desc()).limit(200)))
    names = await names_of(session, {agent_id, *(r.reviewer_id for r in reviews)})
    shown = []
    for review in reviews:
        card = operations.qa.scorecard(review.scorecard)
        labels = {c.key: (c.text(language), c.critical) for c in card.criteria} if card else {}
        shown.append({**review_view(review, names), "scale": card.scale if card else None,
                      "criteria": [{"key": key, "label": labels.get(key, (key, False))[0],
                                    "critical": labels.get(key, (key, False))[1], "score": score,
                                    "comment": (review.comments or {}).get(key)}
                                   for key, score in review.scores.items()]})
    return shown


async def trends(session: AsyncSession, operations: Operations, week: str, weeks: int) -> dict[str, Any]:
    """Per week, each agent's and each team's reviews and mean total, for `weeks` weeks ending with `week`."""
    await read_only(session)
    shown = weeks_back(week, weeks)
    rows = [Scored(*row) for row in await session.execute(
        select(QaReview.week, QaReview.agent_id, QaReview.team, QaReview.total).where(QaReview.week.in_(shown)))]
    names = await names_of(session, {row.agent_id for row in rows if row.agent_id})
    agents = [{**row, "agent_name": names.get(str(row["agent_id"]))} for row in trend(rows, "agent_id")]
    agents.sort(key=lambda row: (str(row["week"]), row["agent_name"] or ""))
    return {"weeks": shown, "agents": agents, "teams": trend(rows, "team")}


def current_week(operations: Operations) -> str:
    return week_of(utcnow(), operations.timezone)
