"""Admins' integrations: the page, list, create (the token and webhook secret shown once), revoke (audit-logged),
and the webhook delivery log."""
from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from handoff.inbox.deps import Admin
from handoff.inbox.routes import ASSETS, PAGE_HEADERS
from handoff.integrations.deliveries import deliveries
from handoff.integrations.deps import IntegrationsDep
from handoff.integrations.schemas import DeliveryView
from handoff.integrations.tokens import NAME_MAX, URL_MAX, IntegrationError
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import SessionsDep
from handoff.web.errors import errors, refusal
from handoff.web.params import KEY, BeforeId, IntegrationId

router = APIRouter(prefix="/inbox")
T = TypeVar("T")


async def run(call: Awaitable[T], field: str = "scopes") -> T:
    try:
        return await call
    except IntegrationError as exc:
        location = ("body", "webhook_url" if "URL" in exc.message else "name" if "name" in exc.message else field)
        raise refusal(exc.status, exc.message, location) from exc


class IntegrationView(BaseModel):
    """An integration as admins see it: never its token or its hash."""

    id: str
    name: str
    scopes: list[str]
    token_hint: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    webhook_url: str | None
    webhook_events: list[str]


class NewIntegration(BaseModel):
    name: str = Field(max_length=NAME_MAX)
    scopes: list[str] = Field(max_length=10)
    webhook_url: str | None = Field(None, max_length=URL_MAX)
    webhook_events: list[str] = Field(default_factory=list, max_length=10)


class Webhook(BaseModel):
    webhook_url: str | None = Field(None, max_length=URL_MAX)
    webhook_events: list[str] = Field(default_factory=list, max_length=10)


class RotatedSecret(BaseModel):
    """The integration's new webhook signing secret: shown only now."""

    webhook_secret: str


class CreatedIntegration(BaseModel):
    """The new integration with its token and (when it has a webhook URL) its signing secret: shown only now."""

    integration: IntegrationView
    token: str
    webhook_secret: str | None


@router.api_route("/integrations", methods=["GET", "HEAD"], include_in_schema=False)
async def integrations_page(request: Request) -> Response:
    """Admins' page: integrations, their tokens and the webhook delivery log (the API refuses other roles)."""
    return ASSETS.serve(request, "integrations.html", PAGE_HEADERS)


@router.get("/api/integrations", response_model=list[IntegrationView], responses=errors(401, 403))
async def list_integrations(_admin: Admin, integrations: IntegrationsDep) -> list[dict[str, Any]]:
    return await integrations.list()


@router.post("/api/integrations", status_code=201, response_model=CreatedIntegration,
             responses={**TOO_LARGE, **errors(400, 401, 403)})
async def create_integration(body: NewIntegration, admin: Admin, integrations: IntegrationsDep) -> dict[str, Any]:
    created = await run(integrations.create(admin.actor, body.name, body.scopes, body.webhook_url,
                                            body.webhook_events))
    return {"integration": created.integration, "token": created.token, "webhook_secret": created.webhook_secret}


@router.post("/api/integrations/{integration_id}/revoke", response_model=IntegrationView,
             responses=errors(401, 403, 404))
async def revoke_integration(integration_id: IntegrationId, admin: Admin,
                             integrations: IntegrationsDep) -> dict[str, Any]:
    return await run(integrations.revoke(admin.actor, integration_id))


@router.get("/api/integrations/deliveries", response_model=list[DeliveryView], responses=errors(401, 403))
async def delivery_log(_admin: Admin, sessions: SessionsDep, before: BeforeId = None,
                       integration_id: Annotated[str | None, Query(max_length=32, pattern=KEY)] = None,
                       ) -> list[dict[str, Any]]:
    """Webhook deliveries, newest first, of one integration or all (50 a page; `before` the last id seen)."""
    async with sessions() as session:
        return await deliveries(session, integration_id, before=before)


@router.put("/api/integrations/{integration_id}/webhook", response_model=IntegrationView,
            responses={**TOO_LARGE, **errors(400, 401, 403, 404, 409)})
async def set_webhook(integration_id: IntegrationId, body: Webhook, admin: Admin,
                      integrations: IntegrationsDep) -> dict[str, Any]:
    """Where its webhooks go and for which events (no URL: none); needs the webhooks scope."""
    return await run(integrations.set_webhook(admin.actor, integration_id, body.webhook_url, body.webhook_events),
                     "webhook_events")


@router.post("/api/integrations/{integration_id}/secret", response_model=RotatedSecret,
             responses=errors(401, 403, 404, 409))
async def rotate_secret(integration_id: IntegrationId, admin: Admin, integrations: IntegrationsDep) -> RotatedSecret:
    """A new webhook signing secret, shown once; the old one signs nothing from now on."""
    return RotatedSecret(webhook_secret=await run(integrations.rotate_secret(admin.actor, integration_id)))
