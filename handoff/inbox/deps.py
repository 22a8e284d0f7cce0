"""The inbox's typed dependencies: its services, and the signed-in principal with the role a route requires."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from handoff.channels.whatsapp.outbound import WhatsAppDeliverer
from handoff.core.permissions import can
from handoff.inbox.actions import InboxActions
from handoff.inbox.auth import COOKIE, CSRF_HEADER, SAFE_METHODS, Auth, Principal, csrf_ok
from handoff.inbox.live import LiveInbox
from handoff.inbox.people import People
from handoff.web.deps import provided

AuthDep = Annotated[Auth, Depends(provided(Auth))]
LiveDep = Annotated[LiveInbox, Depends(provided(LiveInbox))]
ActionsDep = Annotated[InboxActions, Depends(provided(InboxActions))]
PeopleDep = Annotated[People, Depends(provided(People))]
WhatsAppDep = Annotated[WhatsAppDeliverer, Depends(provided(WhatsAppDeliverer))]


def principal_for(permission: str | None) -> Callable[[Request, Auth], Awaitable[Principal]]:
    """401 without a live session, 403 for the wrong role or a state change without the CSRF header."""
    async def dependency(request: Request, auth: AuthDep) -> Principal:
        principal = await auth.principal(request.cookies.get(COOKIE))
        if principal is None:
            raise HTTPException(401, "log in first")
        if permission is not None and not can(principal.agent.role, permission):
            raise HTTPException(403, "your role cannot do this")
        if request.method not in SAFE_METHODS and not csrf_ok(principal, request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, "missing or wrong CSRF token")
        return principal
    return dependency


Anyone = Annotated[Principal, Depends(principal_for(None))]
InboxUser = Annotated[Principal, Depends(principal_for("inbox"))]
Worker = Annotated[Principal, Depends(principal_for("work"))]
Supervisor = Annotated[Principal, Depends(principal_for("supervise"))]
Designer = Annotated[Principal, Depends(principal_for("design"))]
Admin = Annotated[Principal, Depends(principal_for("manage_agents"))]
