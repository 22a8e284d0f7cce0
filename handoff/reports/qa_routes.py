"""Quality review under /inbox: the reviewers' queue, a whole case to score, trends; agents' own scores."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from handoff.core import audit
from handoff.core.qa import week_bounds
from handoff.inbox.auth import Principal
from handoff.inbox.deps import Anyone, principal_for
from handoff.inbox.routes import ASSETS, PAGE_HEADERS
from handoff.reports import qa_queue, qa_reviews
from handoff.reports.qa_schemas import OwnReview, QaCase, QaQueue, QaTrends, ReviewBody, ReviewView
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors, invalid, refusal
from handoff.web.params import CaseId

router = APIRouter(prefix="/inbox")
Reviewer = Annotated[Principal, Depends(principal_for("review_quality"))]
Week = Annotated[str | None, Query(pattern=r"^\d{4}-W\d{2}$", description="ISO week, e.g. 2026-W49; default: this one")]
Language = Annotated[str | None, Query(pattern=r"^(es|en|pt)$", description="labels' language")]


def checked_week(week: str | None, zone: str, current: str) -> str:
    """The week asked for (a real ISO week), or this one."""
    if week is None:
        return current
    try:
        week_bounds(week, zone)
    except ValueError as exc:
        raise invalid(("query", "week"), "not an ISO week", week) from exc
    return week


@router.api_route("/qa", methods=["GET", "HEAD"], include_in_schema=False)
async def qa_page(request: Request) -> Response:
    """Reviewers score whole cases; agents read their own scores."""
    return ASSETS.serve(request, "qa.html", PAGE_HEADERS)


@router.get("/api/qa/queue", response_model=QaQueue, responses=errors(401, 403))
async def queue(principal: Reviewer, operations: OperationsDep, sessions: SessionsDep,
                week: Week = None) -> dict[str, Any]:
    """The week's sampled cases of each agent and the cases tagged in transition review."""
    chosen = checked_week(week, operations.timezone, qa_reviews.current_week(operations))
    async with sessions() as session:
        items = await qa_queue.week_queue(session, operations, chosen, principal.agent.id)
    return {"week": chosen, "sample_share": operations.qa.sample_share, "items": items}


@router.get("/api/qa/cases/{case_id}", response_model=QaCase, responses=errors(401, 403, 404))
async def review_case(case_id: CaseId, principal: Reviewer, operations: OperationsDep, sessions: SessionsDep,
                      lang: Language = None) -> dict[str, Any]:
    """The whole case (every channel, the assistant's turns), its scorecard, its reviews and their agreement."""
    async with sessions() as session:
        found = await qa_reviews.case_for_review(session, operations, case_id, lang or operations.default_language)
    if found is None:
        raise HTTPException(404, "no such case")
    async with sessions() as session, session.begin():  # who read whose conversation is part of the record
        await audit.record(session, principal.actor, "view", case_id=case_id, purpose="qa")
    return found


@router.post("/api/qa/cases/{case_id}/reviews", response_model=ReviewView,
             responses={**TOO_LARGE, **errors(400, 401, 403, 404, 409)})
async def score(case_id: CaseId, body: ReviewBody, principal: Reviewer, operations: OperationsDep,
                sessions: SessionsDep) -> dict[str, Any]:
    """Scores the case for its agent (again: replaces this reviewer's scores); audited."""
    try:
        async with sessions() as session, session.begin():
            return await qa_reviews.score_case(
                session, operations, case_id, reviewer_id=principal.agent.id, actor=principal.actor,
                scores=body.scores, comments=body.comments, comment=body.comment, agent_id=body.agent_id)
    except qa_reviews.QaError as exc:
        raise refusal(exc.status, exc.message, ("body", exc.field), None) from exc


@router.get("/api/qa/trends", response_model=QaTrends, responses=errors(401, 403))
async def trends(principal: Reviewer, operations: OperationsDep, sessions: SessionsDep, week: Week = None,
                 weeks: Annotated[int, Query(ge=1, le=53)] = 8) -> dict[str, Any]:
    """Reviews and mean total per week, per agent and per team."""
    chosen = checked_week(week, operations.timezone, qa_reviews.current_week(operations))
    async with sessions() as session:
        return await qa_reviews.trends(session, operations, chosen, weeks)


@router.get("/api/qa/mine", response_model=list[OwnReview], responses=errors(401, 403))
async def mine(principal: Anyone, operations: OperationsDep, sessions: SessionsDep,
               lang: Language = None) -> list[dict[str, Any]]:
    """The signed-in person's own scores and comments, and nobody else's (none for who never handled a case)."""
    async with sessions() as session:
        return await qa_reviews.own_reviews(session, operations, principal.agent.id,
                                            lang or operations.default_language)
