"""Merging customers and open cases, undoing a merge and dismissing a suggestion: thin routes over inbox.merging."""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from handoff.core.merges import MergeResult
from handoff.inbox.actions import InboxError
from handoff.inbox.deps import Worker
from handoff.inbox.merging import Merging
from handoff.inbox.schemas import MergeDone, Ok
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import provided
from handoff.web.errors import errors, refusal
from handoff.web.params import KEY, CaseId, CustomerId, MergeId, SuggestionId

router = APIRouter(prefix="/inbox/api")
MergingDep = Annotated[Merging, Depends(provided(Merging))]
# 404: no such customer, case or merge; 409: not in a state to merge (already merged, a case not open, customers
# differ) or to undo exactly (already undone, a later merge of the same customers not undone, the case changed).
REFUSALS = errors(401, 403, 404, 409)
WITH_BODY = {**TOO_LARGE, **errors(400, 401, 403, 404, 409)}  # 400: a body that is not JSON
T = TypeVar("T")


class MergeWith(BaseModel):
    """The other customer or case: it becomes part of the one in the path."""

    other_id: str = Field(min_length=1, max_length=32, pattern=KEY)


async def run(call: Awaitable[T], field: str = "other_id") -> T:
    """The service's refusals as HTTP answers; merging a thing with itself is a 422 on the body."""
    try:
        return await call
    except InboxError as exc:
        raise refusal(exc.status, exc.message, ("body", field)) from exc


def done(result: MergeResult) -> dict[str, Any]:
    return {"merge_id": result.merge.id, "case_ids": result.case_ids, "undone": result.merge.undone_at is not None}


@router.post("/customers/{customer_id}/merge", response_model=MergeDone, responses=WITH_BODY)
async def merge_customers(customer_id: CustomerId, body: MergeWith, principal: Worker,
                          merging: MergingDep) -> dict[str, Any]:
    """`other_id` becomes part of this customer (identities, facts, cases; two open cases become one)."""
    return done(await run(merging.merge_customers(principal, customer_id, body.other_id)))


@router.post("/cases/{case_id}/merge", response_model=MergeDone, responses=WITH_BODY)
async def merge_cases(case_id: CaseId, body: MergeWith, principal: Worker, merging: MergingDep) -> dict[str, Any]:
    """Two open cases of one customer become one: this one stays open, `other_id` closes into it."""
    return done(await run(merging.merge_cases(principal, case_id, body.other_id)))


@router.post("/merges/{merge_id}/undo", response_model=MergeDone, responses=REFUSALS)
async def undo_merge(merge_id: MergeId, principal: Worker, merging: MergingDep) -> dict[str, Any]:
    """Restores exactly the state before the merge; 409 says why when that is no longer possible."""
    return done(await run(merging.undo(principal, merge_id)))


@router.post("/suggestions/{suggestion_id}/dismiss", response_model=Ok, responses=REFUSALS)
async def dismiss_suggestion(suggestion_id: SuggestionId, principal: Worker, merging: MergingDep) -> dict[str, bool]:
    """The agent says these are two people: the suggestion leaves the customer panel."""
    await run(merging.dismiss(principal, suggestion_id))
    return {"ok": True}
