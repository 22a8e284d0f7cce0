"""The inbox's REST API and page: thin, every handler asks auth for the role and calls a service."""
from __future__ import annotations

import math
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from handoff.core import audit
from handoff.core.agents import NewAgent, public
from handoff.core.case_reads import mark_read
from handoff.core.cases import case_language
from handoff.core.operations import Operations
from handoff.core.permissions import may_read_case, sees_all_teams
from handoff.core.sending import customer_channels
from handoff.inbox import canned, commitments, views
from handoff.inbox.actions import InboxError, Outcome
from handoff.inbox.auth import COOKIE, Principal
from handoff.inbox.deps import ActionsDep, Admin, Anyone, AuthDep, InboxUser, LiveDep, PeopleDep, Supervisor, Worker
from handoff.inbox.schemas import AgentPublic, CaseSummary, CaseView, Done, Locale, Me, Ok, Options, SupervisorPanel
from handoff.store.models import Case, Customer
from handoff.web.assets import AssetDirectory
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import ErrorDetail, errors
from handoff.web.params import BeforeEvent, CaseId

STATIC = Path(__file__).resolve().parent / "static"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "media-src 'self' https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-cache",
}
# Compressed once, content-hashed URLs cached for a year (the pages name them); stable names revalidate by ETag.
ASSETS = AssetDirectory(STATIC, "/inbox/static")
router = APIRouter(prefix="/inbox")
# The inbox's and the reports' JSON (a reply of 8192 characters, escaped, fits), enforced while the body streams.
MAX_BODY_BYTES = 64 * 1024
BODY_LIMITS = {"/inbox/api": MAX_BODY_BYTES}
T = TypeVar("T")


async def run(call: Awaitable[T]) -> T:
    """The services' refusals as HTTP errors."""
    try:
        return await call
    except InboxError as exc:
        raise HTTPException(exc.status, exc.message) from exc


def me(principal: Principal) -> dict[str, Any]:
    return {"agent": public(principal.agent), "csrf_token": principal.csrf_token}


# ---- page ------------------------------------------------------------------------------------------------
@router.api_route("", methods=["GET", "HEAD"], include_in_schema=False)
async def page(request: Request) -> Response:
    """The inbox app: static HTML and ES modules, no build step (their URLs hashed when served)."""
    return ASSETS.serve(request, "index.html", PAGE_HEADERS)


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def static(request: Request, path: str) -> Response:
    """The inbox's scripts, styles and catalogues: hashed names immutable, stable names revalidated."""
    return ASSETS.serve(request, path)


# ---- session ---------------------------------------------------------------------------------------------
class Login(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


LOGIN_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDetail, "description": "Wrong email or password"},
    429: {"model": ErrorDetail, "description": "Slowed: too many failed attempts from this address or on this account",
          "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}},
}


@router.post("/api/login", response_model=Me, responses={**TOO_LARGE, **LOGIN_REFUSALS, **errors(400)})
async def login(body: Login, request: Request, response: Response, auth: AuthDep) -> dict[str, Any]:
    # The client address is the socket's, or X-Forwarded-For's from proxies uvicorn trusts (FORWARDED_ALLOW_IPS).
    attempt = await auth.attempt(body.email, request.client.host if request.client else "?")
    if attempt.wait:
        seconds = math.ceil(attempt.wait)
        raise HTTPException(429, f"too many attempts, try again in {seconds} s", headers={"Retry-After": str(seconds)})
    result = await auth.login(body.email, body.password)
    if result is None:
        await auth.failed(attempt)
        raise HTTPException(401, "wrong email or password")
    await auth.succeeded(attempt)
    principal, cookie_value = result
    response.set_cookie(COOKIE, cookie_value, httponly=True, samesite="lax", secure=auth.secure_cookie,
                        path="/", max_age=int(auth.ttl.total_seconds()))
    return me(principal)


@router.post("/api/logout", response_model=Ok, responses=errors(401, 403))
async def logout(response: Response, principal: Anyone, auth: AuthDep, live: LiveDep) -> dict[str, bool]:
    await auth.logout(principal)
    await live.disconnect_agent(principal.agent.id)
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


@router.get("/api/me", response_model=Me, responses=errors(401))
async def whoami(principal: Anyone) -> dict[str, Any]:
    return me(principal)


class Presence(BaseModel):
    presence: str


@router.post("/api/presence", response_model=AgentPublic, responses={**TOO_LARGE, **errors(400, 401, 403)})
async def presence(body: Presence, principal: InboxUser, people: PeopleDep) -> dict[str, Any]:
    return await run(people.presence(principal, body.presence))


class AgentLocale(BaseModel):
    """One of the inbox's languages; null goes back to the browser's."""

    locale: Locale | None


@router.put("/api/me/locale", response_model=AgentPublic, responses={**TOO_LARGE, **errors(400, 401, 403)})
async def my_locale(body: AgentLocale, principal: Anyone, people: PeopleDep) -> dict[str, Any]:
    """The language the agent reads the inbox in, kept on their profile (`/inbox/api/me` answers it)."""
    return await run(people.set_locale(principal, body.locale))


# ---- lists -----------------------------------------------------------------------------------------------
def answer_targets(operations: Operations) -> dict[str, int]:
    """Each channel's `sla.answer`: the lists' SLA clocks."""
    return {channel: sla.answer for channel, sla in operations.sla.items()}


@router.get("/api/queue", response_model=list[CaseSummary], responses=errors(401, 403))
async def queue(principal: InboxUser, sessions: SessionsDep, operations: OperationsDep) -> list[dict[str, Any]]:
    teams = None if sees_all_teams(principal.agent.role) else list(principal.agent.teams or [])
    async with sessions() as session:
        return await views.queue(session, teams, principal.agent.id, answer_targets(operations))


@router.get("/api/mine", response_model=list[CaseSummary], responses=errors(401, 403))
async def mine(principal: InboxUser, sessions: SessionsDep, operations: OperationsDep) -> list[dict[str, Any]]:
    async with sessions() as session:
        return await views.assigned_to(session, principal.agent.id, answer_targets(operations))


@router.get("/api/options", response_model=Options, responses=errors(401, 403))
async def options(principal: InboxUser, operations: OperationsDep) -> dict[str, Any]:
    """Teams to transfer to and dispositions to resolve with."""
    return {"teams": sorted(operations.teams), "dispositions": operations.inbox.dispositions}


# ---- a case ----------------------------------------------------------------------------------------------
@router.get("/api/cases/{case_id}", response_model=CaseView, responses=errors(401, 403, 404))
async def case(case_id: CaseId, principal: InboxUser, actions: ActionsDep, sessions: SessionsDep,
               operations: OperationsDep, before: BeforeEvent = None) -> dict[str, Any]:
    async with sessions() as session:
        found = await session.get(Case, case_id)
        if found is None:
            raise HTTPException(404, "no such case")
        agent = principal.agent
        if not may_read_case(agent, found):
            raise HTTPException(403, "this case belongs to a team you are not in")
        view = await views.case_view(session, found, agent, before)  # only the earlier cases this agent may read
        customer = await session.get(Customer, found.customer_id)
        view["channels"] = await customer_channels(session, found.customer_id, actions.deliverers)
    if before is None:  # who opened which customer's history is part of the record; opening it reads it
        async with sessions() as session, session.begin():
            await audit.record(session, principal.actor, "view", case_id=case_id)
            await mark_read(session, agent.id, case_id)
    view["canned"] = canned.for_case(operations.inbox.canned_responses, found.team, case_language(operations, found),
                                     canned.case_values(found, customer, agent.display_name))
    return view


@router.post("/api/cases/{case_id}/read", response_model=Ok, responses=errors(401, 403, 404))
async def read(case_id: CaseId, principal: InboxUser, sessions: SessionsDep) -> dict[str, bool]:
    """The case on screen received events live: its unread count stays at zero for this agent."""
    async with sessions() as session, session.begin():
        found = await session.get(Case, case_id)
        if found is None:
            raise HTTPException(404, "no such case")
        if not may_read_case(principal.agent, found):
            raise HTTPException(403, "this case belongs to a team you are not in")
        await mark_read(session, principal.agent.id, case_id)
    return {"ok": True}


class Text(BaseModel):
    text: str = Field(max_length=8192)
    channel: str | None = None


class Transfer(BaseModel):
    team: str | None = None
    agent_id: str | None = None


class Resolve(BaseModel):
    disposition: str


# What working a case can refuse: the session, the role or team, no such case, the case's state.
WORK = (401, 403, 404, 409)


def done(outcome: Outcome) -> dict[str, Any]:
    return {"ok": True, "case_id": outcome.case_id, "event_ids": outcome.event_ids}


@router.post("/api/cases/{case_id}/accept", response_model=Done, responses=errors(*WORK))
async def accept(case_id: CaseId, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    return done(await run(actions.accept(principal, case_id)))


@router.post("/api/cases/{case_id}/reply", response_model=Done, responses={**TOO_LARGE, **errors(400, *WORK)})
async def reply(case_id: CaseId, body: Text, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    return done(await run(actions.reply(principal, case_id, body.text, body.channel)))


@router.post("/api/cases/{case_id}/note", response_model=Done, responses={**TOO_LARGE, **errors(400, *WORK)})
async def note(case_id: CaseId, body: Text, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    return done(await run(actions.note(principal, case_id, body.text)))


@router.post("/api/cases/{case_id}/transfer", response_model=Done, responses={**TOO_LARGE, **errors(400, *WORK)})
async def transfer(case_id: CaseId, body: Transfer, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    return done(await run(actions.transfer(principal, case_id, team=body.team, agent_id=body.agent_id)))


@router.post("/api/cases/{case_id}/resolve", response_model=Done, responses={**TOO_LARGE, **errors(400, *WORK)})
async def resolve(case_id: CaseId, body: Resolve, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    return done(await run(actions.resolve(principal, case_id, body.disposition)))


class OptOut(BaseModel):
    opted_out: bool


@router.post("/api/cases/{case_id}/whatsapp-opt-out", response_model=Done,
             responses={**TOO_LARGE, **errors(400, *WORK)})  # 400: a body that is not JSON
async def whatsapp_opt_out(case_id: CaseId, body: OptOut, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    """The case's customer opts out of WhatsApp messages the service starts (or back in); `event_ids` is empty
    when nothing changed."""
    return done(await run(actions.whatsapp_opt_out(principal, case_id, body.opted_out)))


@router.post("/api/cases/{case_id}/return", response_model=Done, responses=errors(*WORK))
async def return_to_assistant(case_id: CaseId, principal: Worker, actions: ActionsDep) -> dict[str, Any]:
    return done(await run(actions.return_to_assistant(principal, case_id)))


# ---- supervisors and admins ------------------------------------------------------------------------------
@router.get("/api/supervisor", response_model=SupervisorPanel, responses=errors(401, 403))
async def supervisor_panel(principal: Supervisor, sessions: SessionsDep) -> dict[str, Any]:
    async with sessions() as session:
        panel = await views.supervisor_panel(session)
        return {**panel, "overdue_commitments": await commitments.listed(session, principal.agent, "overdue")}


@router.get("/api/agents", response_model=list[AgentPublic], responses=errors(401, 403))
async def agents(principal: Supervisor, people: PeopleDep) -> list[dict[str, Any]]:
    return await run(people.list(principal))


class CreateAgent(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    role: str
    teams: list[str] = Field(default_factory=list)
    password: str = Field(max_length=1024)
    capacity: int = 3


@router.post("/api/agents", status_code=201, response_model=AgentPublic,
             responses={**TOO_LARGE, **errors(400, 401, 403)})
async def create_agent(body: CreateAgent, principal: Admin, people: PeopleDep) -> dict[str, Any]:
    new = NewAgent(body.email, body.name, body.role, tuple(body.teams), body.password, body.capacity)
    return await run(people.create(principal, new))
