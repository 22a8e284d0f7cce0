"""The integrations' own API under /api/v1: who a token is, a case (scope `cases:read`), and the integration's
webhook deliveries (scope `webhooks`)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from handoff.integrations.deliveries import deliveries
from handoff.integrations.deps import TOKEN_REFUSALS, AnyIntegration, CasesReader, WebhooksReader
from handoff.integrations.schemas import CaseSnapshot, DeliveryView, Me
from handoff.integrations.webhooks import case_snapshot
from handoff.web.deps import SessionsDep
from handoff.web.errors import errors
from handoff.web.params import BeforeId, CaseId

router = APIRouter(prefix="/api/v1", tags=["integrations"])
BODY_LIMITS = {"/api/v1": 1024 * 1024}


@router.get("/integrations/me", response_model=Me, responses=TOKEN_REFUSALS)
async def me(caller: AnyIntegration) -> Me:
    return Me(id=caller.id, name=caller.name, scopes=sorted(caller.scopes))


@router.get("/webhooks/deliveries", response_model=list[DeliveryView], responses=TOKEN_REFUSALS)
async def own_deliveries(caller: WebhooksReader, sessions: SessionsDep,
                         before: BeforeId = None) -> list[dict[str, Any]]:
    """The calling integration's webhook deliveries, newest first (50 a page; `before` the last id seen)."""
    async with sessions() as session:
        return await deliveries(session, caller.id, before=before)


@router.get("/cases/{case_id}", response_model=CaseSnapshot, responses={**TOKEN_REFUSALS, **errors(404)})
async def case(case_id: CaseId, _caller: CasesReader, sessions: SessionsDep) -> dict[str, Any]:
    """A case's state as webhooks carry it (a merged case names the one it continues on)."""
    async with sessions() as session:
        found = await case_snapshot(session, case_id)
    if found is None:
        raise HTTPException(404, "no such case")
    return found
