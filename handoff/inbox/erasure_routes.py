"""Admins erase a customer on request (core/erasure.py): audit-logged, with a reason."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from handoff.core.erasure import Erasures
from handoff.inbox.deps import Admin
from handoff.store.models import utcnow
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import provided
from handoff.web.errors import errors
from handoff.web.params import CustomerId

router = APIRouter(prefix="/inbox")
ErasuresDep = Annotated[Erasures, Depends(provided(Erasures))]


class ErasureRequest(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why: the request or rule it answers")


class CustomerErasure(BaseModel):
    """What was erased, counted: the values themselves are gone."""

    customer_id: str
    erased_by: str
    erased_at: datetime
    reason: str
    customers: int = Field(description="the customer and those merged into them")
    cases: list[str]
    events: int = Field(description="timeline events whose text and payload were erased")
    media_files: int
    calls: int = Field(description="calls whose numbers, recording and transcript were erased")
    identities: int
    webhooks: int = Field(description="stored provider webhook bodies that mentioned the customer")
    samples: int = Field(description="designers' NLU samples of the cases")
    tracker_events: int = Field(description="rows of the assistant's conversations deleted from its tracker store")


@router.post("/api/customers/{customer_id}/erase", response_model=CustomerErasure,
             responses={**TOO_LARGE, **errors(400, 401, 403, 404)})  # 400: a body that is not JSON
async def erase_customer(customer_id: CustomerId, body: ErasureRequest, admin: Admin,
                         erasures: ErasuresDep) -> CustomerErasure:
    """Erases what the customer said, sent and is known by; each case keeps a verifiable chain and a marker."""
    done = await erasures.erase(customer_id, actor=admin.actor, reason=body.reason)
    if done is None:
        raise HTTPException(404, "no such customer")
    return CustomerErasure(customer_id=customer_id, erased_by=admin.actor, erased_at=utcnow(), reason=body.reason,
                           customers=len(done.customer_ids), cases=done.case_ids, events=done.events,
                           media_files=done.media_files, calls=done.calls, identities=done.identities,
                           webhooks=done.webhooks, samples=done.samples, tracker_events=done.tracker_events)
