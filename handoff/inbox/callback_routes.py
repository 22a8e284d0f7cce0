"""Callbacks in the inbox: `POST /inbox/api/cases/{id}/callbacks`, `GET /inbox/api/callbacks?status=`,
`POST /inbox/api/callbacks/{id}/place` and `/cancel`, and where an agent takes them (`PUT /inbox/api/me/phone`, admins:
`PUT /inbox/api/agents/{id}/phone`). Thin routes over inbox/callbacks.py."""
from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from handoff.inbox.actions import InboxError
from handoff.inbox.callbacks import InboxCallbacks
from handoff.inbox.deps import InboxUser, Worker
from handoff.inbox.schemas import AgentPublic, CallbackItem
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import provided
from handoff.web.errors import errors, refusal
from handoff.web.params import KEY, CallbackId, CaseId

router = APIRouter(prefix="/inbox/api")
CallbacksDep = Annotated[InboxCallbacks, Depends(provided(InboxCallbacks))]
T = TypeVar("T")
Status = Literal["requested", "placing", "answered", "no_answer", "busy", "failed", "cancelled"]


async def run(call: Awaitable[T], field: tuple[str, ...] = ("body",)) -> T:
    """The service's refusals as HTTP errors; a 422 names the body (the window or the phone)."""
    try:
        return await call
    except InboxError as exc:
        raise refusal(exc.status, exc.message, field) from exc


class CallbackRequest(BaseModel):
    """The customer's preferred window (with a time zone; stored in UTC) and, if not their own, the phone."""

    phone: str | None = Field(None, max_length=64)
    window_start: datetime
    window_end: datetime


class AgentPhone(BaseModel):
    """E.164 (or as written locally) or sip:user@host; null clears it."""

    phone: str | None = Field(None, max_length=320)


@router.post("/cases/{case_id}/callbacks", status_code=201, response_model=CallbackItem,
             responses={**TOO_LARGE, **errors(400, 401, 403, 404, 409)})
async def request_callback(case_id: CaseId, body: CallbackRequest, principal: Worker,
                           callbacks: CallbacksDep) -> dict[str, Any]:
    """A callback the customer asked for; the case's team sees it in its callbacks. An open callback of the case
    is answered as it is. 422: a window that passed, ends before it starts, lasts more than a day, or a bad phone."""
    return await run(callbacks.request(principal, case_id, phone=body.phone, window_start=body.window_start,
                                       window_end=body.window_end))


@router.get("/callbacks", response_model=list[CallbackItem], responses=errors(401, 403))
async def list_callbacks(principal: InboxUser, callbacks: CallbacksDep,
                         status: Annotated[Status, Query()] = "requested") -> list[dict[str, Any]]:
    """The team's callbacks (supervisors: all) of a status: windows open now first, then upcoming, then past."""
    return await run(callbacks.listed(principal, status))


@router.post("/callbacks/{callback_id}/place", response_model=CallbackItem,
             responses=errors(401, 403, 404, 409, 502, 503))
async def place_callback(callback_id: CallbackId, principal: Worker, callbacks: CallbacksDep) -> dict[str, Any]:
    """Call now: Twilio calls the agent's phone or SIP address, then bridges the customer. 409: not waiting to be
    placed, or no phone of the agent; 502: Twilio refused; 503: Twilio calls not configured."""
    return await run(callbacks.place(principal, callback_id))


@router.post("/callbacks/{callback_id}/cancel", response_model=CallbackItem, responses=errors(401, 403, 404, 409))
async def cancel_callback(callback_id: CallbackId, principal: Worker, callbacks: CallbacksDep) -> dict[str, Any]:
    """The callback is no longer wanted: `cancelled`, off the team's list. 409: not waiting to be placed."""
    return await run(callbacks.cancel(principal, callback_id))


@router.put("/me/phone", response_model=AgentPublic, responses={**TOO_LARGE, **errors(400, 401, 403)})
async def my_phone(body: AgentPhone, principal: InboxUser, callbacks: CallbacksDep) -> dict[str, object]:
    """Where callbacks this agent places ring first."""
    return await run(callbacks.set_phone(principal, principal.agent.id, body.phone), ("body", "phone"))


@router.put("/agents/{agent_id}/phone", response_model=AgentPublic,
            responses={**TOO_LARGE, **errors(400, 401, 403, 404)})
async def agent_phone(body: AgentPhone, principal: InboxUser, callbacks: CallbacksDep,
                      agent_id: Annotated[str, Path(min_length=1, max_length=32, pattern=KEY)]) -> dict[str, object]:
    """An admin sets an agent's phone or SIP address."""
    return await run(callbacks.set_phone(principal, agent_id, body.phone), ("body", "phone"))
