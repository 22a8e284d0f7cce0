"""Commitments under /inbox/api: record a promise on a case, list promises by state, mark one kept or broken."""
from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, Field

from handoff.inbox.actions import InboxError
from handoff.inbox.commitments import Commitments
from handoff.inbox.deps import InboxUser, Worker
from handoff.inbox.schemas import CommitmentView
from handoff.store.models.commitments import MAX_COMMITMENT_CHARS
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import provided
from handoff.web.errors import errors, refusal
from handoff.web.params import KEY, CaseId, CommitmentId, in_years

router = APIRouter(prefix="/inbox/api")
CommitmentsDep = Annotated[Commitments, Depends(provided(Commitments))]
T = TypeVar("T")
# 403: not the case's holder (nor a supervisor), or a team not theirs; 404: no such case or commitment;
# 409: the case is closed, or the commitment was already kept or broken; 422: text or due_at refused.
SETTLE = errors(401, 403, 404, 409)
PROMISE = {**TOO_LARGE, **errors(400, 401, 403, 404, 409)}


class Promise(BaseModel):
    """What the agent promised (plain text, 1..500 characters) and when it is due (in the future, with a zone)."""

    text: str = Field(min_length=1, max_length=MAX_COMMITMENT_CHARS)
    due_at: Annotated[datetime, AfterValidator(in_years)]


async def run(call: Awaitable[T], field: str = "text") -> T:
    try:
        return await call
    except InboxError as exc:
        location = ("body", "due_at" if "due_at" in exc.message else field)
        raise refusal(exc.status, exc.message, location) from exc


@router.post("/cases/{case_id}/commitments", status_code=201, response_model=CommitmentView, responses=PROMISE)
async def record_commitment(case_id: CaseId, body: Promise, principal: Worker,
                            commitments: CommitmentsDep) -> dict[str, Any]:
    """The agent holding the case (or a supervisor) records a promise; it goes on the timeline and the audit log."""
    return await run(commitments.promise(principal, case_id, body.text, body.due_at))


@router.get("/commitments", response_model=list[CommitmentView], responses=errors(401, 403))
async def list_commitments(
    principal: InboxUser, commitments: CommitmentsDep,
    status: Annotated[Literal["open", "overdue", "kept", "broken"],
                      Query(description="open (overdue included), overdue (open past due), kept or broken")] = "open",
    customer_id: Annotated[str | None, Query(min_length=1, max_length=32, pattern=KEY,
                                             description="Only this customer's (all their cases)")] = None,
) -> list[dict[str, Any]]:
    """Promises on the cases this agent may read (supervisors: all), at most 200."""
    return await commitments.listed(principal, status, customer_id)


@router.post("/commitments/{commitment_id}/kept", response_model=CommitmentView, responses=SETTLE)
async def commitment_kept(commitment_id: CommitmentId, principal: Worker,
                          commitments: CommitmentsDep) -> dict[str, Any]:
    """The promise was kept (on time when marked no later than its due time)."""
    return await run(commitments.settle(principal, commitment_id, "kept"))


@router.post("/commitments/{commitment_id}/broken", response_model=CommitmentView, responses=SETTLE)
async def commitment_broken(commitment_id: CommitmentId, principal: Worker,
                            commitments: CommitmentsDep) -> dict[str, Any]:
    """The promise will not be kept: it leaves the open list and the assistant stops quoting it."""
    return await run(commitments.settle(principal, commitment_id, "broken"))
