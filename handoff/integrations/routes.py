"""The integrations' own API under /api/v1: who a token is, and its webhook deliveries (scope `webhooks`)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from handoff.integrations.deliveries import deliveries
from handoff.integrations.deps import TOKEN_REFUSALS, AnyIntegration, WebhooksReader
from handoff.integrations.schemas import DeliveryView, Me
from handoff.web.deps import SessionsDep
from handoff.web.params import BeforeId

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
