"""`require_scope("contacts:write")`: the typed dependency of every route other systems call with their token.

`Authorization: Bearer <token>`: 401 without a token or with one that is unknown or revoked, 403 when the
integration lacks the scope. A route declares `caller: Annotated[Caller, Depends(require_scope("…"))]` (or one of
the aliases below) and documents `TOKEN_REFUSALS`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from handoff.integrations.registry import Integrations
from handoff.integrations.tokens import SCOPES, Caller
from handoff.web.deps import provided
from handoff.web.errors import ErrorDetail

IntegrationsDep = Annotated[Integrations, Depends(provided(Integrations))]
bearer = HTTPBearer(auto_error=False, scheme_name="IntegrationToken",
                    description="An integration's token (`python -m handoff integrations create`)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def token_refusals() -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route behind `require_scope`."""
    schema = ErrorDetail.model_json_schema()
    return {
        401: {"description": "No bearer token, or one that is unknown or revoked",
              "content": {"application/json": {"schema": schema}}},
        403: {"description": "The integration's token lacks the scope this needs",
              "content": {"application/json": {"schema": schema}}},
    }


TOKEN_REFUSALS = token_refusals()


async def authenticated(credentials: Credentials, integrations: IntegrationsDep) -> Caller:
    """Any live integration, whatever its scopes (401 otherwise)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an integration token is required (Authorization: Bearer …)", headers=CHALLENGE)
    caller = await integrations.caller(credentials.credentials)
    if caller is None:
        raise HTTPException(401, "unknown or revoked token", headers=CHALLENGE)
    return caller


def require_scope(scope: str) -> Callable[[Caller], Awaitable[Caller]]:
    """The dependency answering the calling integration when its token carries `scope` (one of SCOPES)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")  # a typo in a route fails at import, not per request

    async def dependency(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if scope not in caller.scopes:
            raise HTTPException(403, f"this token lacks the scope {scope}")
        return caller

    return dependency


AnyIntegration = Annotated[Caller, Depends(authenticated)]
ContactsWriter = Annotated[Caller, Depends(require_scope("contacts:write"))]
CasesReader = Annotated[Caller, Depends(require_scope("cases:read"))]
WebhooksReader = Annotated[Caller, Depends(require_scope("webhooks"))]
NotificationSender = Annotated[Caller, Depends(require_scope("notifications:send"))]
