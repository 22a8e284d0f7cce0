"""The search box (`GET /inbox/api/search?q=`) and the case list (`GET /inbox/api/cases?…`), by the reading rule.

An agent finds and lists only cases they may read (and customers through those cases); supervisors and admins
everything. Both are answered by the database's indexes (core/message_search.py, core/case_list.py).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from handoff.core.case_list import PAGE_DEFAULT, PAGE_MAX, BadCursor, CaseFilter, find_cases_by_id, list_cases
from handoff.core.customer_lookup import LIMIT_DEFAULT, LIMIT_MAX, Q_MAX, Q_MIN, find_customers
from handoff.core.handoffs import REASONS
from handoff.core.merge_rules import MERGED
from handoff.core.message_search import find_messages
from handoff.core.permissions import sees_all_teams
from handoff.inbox.deps import InboxUser
from handoff.inbox.search_schemas import CaseFilters, CasePage, SearchResults
from handoff.store.db import read_only
from handoff.store.models import Agent
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors, invalid
from handoff.web.params import KEY, MAX_NAME_CHARS, Moment

router = APIRouter(prefix="/inbox/api")
STATUSES = ("bot", "queued", "assigned", "resolved", "abandoned", MERGED)
CHANNELS = ("webchat", "whatsapp", "voice")
TO_ASSISTANT = frozenset({"returned_by_agent", "bot_available"})  # reasons of a handoff back to the assistant
Names = Annotated[list[str] | None, Query(max_length=20)]


@router.get("/search", response_model=SearchResults, responses=errors(401, 403))
async def search(
    principal: InboxUser, sessions: SessionsDep, operations: OperationsDep,
    q: Annotated[str, Query(min_length=Q_MIN, max_length=Q_MAX,
                            description="A phone in any format, an email, an order number, a name, a case id (or its "
                                        "first 8+ characters), or words a customer wrote")],
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
) -> dict[str, Any]:
    """Customers, cases by id and conversations matching `q` that this agent may read."""
    async with sessions() as session:
        await read_only(session)
        reader = principal.agent
        return {"customers": await find_customers(session, reader, q, region=operations.default_region,
                                                  limit=limit),
                "cases": await find_cases_by_id(session, reader, q, limit=limit),
                "messages": await find_messages(session, reader, q, limit=limit)}


def utc(when: datetime | None) -> datetime | None:
    """A time given without a zone is read as UTC."""
    return when.replace(tzinfo=timezone.utc) if when is not None and when.tzinfo is None else when


def _names(values: list[str] | None, field: str) -> tuple[str, ...]:
    """Repeated query values (`status=queued&status=assigned`), each a short name, or a 422."""
    for value in values or ():
        if not value or len(value) > MAX_NAME_CHARS:
            raise invalid(("query", field), f"each {field} is 1 to {MAX_NAME_CHARS} characters", value)
    return tuple(values or ())


@router.get("/case-filters", response_model=CaseFilters, responses=errors(401, 403))
async def case_filters(principal: InboxUser, sessions: SessionsDep, operations: OperationsDep) -> dict[str, Any]:
    """What the case list can be filtered by: the operation's teams, the statuses, doors, reasons and agents."""
    me = principal.agent
    async with sessions() as session:
        agents = [{"id": me.id, "name": me.display_name}] if not sees_all_teams(me.role) else [
            {"id": agent_id, "name": name} for agent_id, name in await session.execute(
                select(Agent.id, Agent.display_name).where(Agent.role != "designer").order_by(Agent.display_name))]
    return {"statuses": list(STATUSES), "teams": sorted(operations.teams), "channels": list(CHANNELS),
            "reasons": sorted(REASONS - TO_ASSISTANT), "agents": agents}


# 422 (FastAPI's or ours): a value out of bounds, a cursor this list did not make, csat_min above csat_max.
@router.get("/cases", response_model=CasePage, responses=errors(401, 403))
async def case_list(
    principal: InboxUser, sessions: SessionsDep,
    status: Names = None, team: Names = None, channel: Names = None, reason: Names = None,
    agent: Annotated[str | None, Query(max_length=32, pattern=KEY, description="The assignee's id")] = None,
    opened_from: Moment = None, opened_before: Moment = None,
    csat_min: Annotated[int | None, Query(ge=1, le=5)] = None,
    csat_max: Annotated[int | None, Query(ge=1, le=5)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """This agent's readable cases under the filters, newest first, a page at a time with the filter's total."""
    if csat_min is not None and csat_max is not None and csat_min > csat_max:
        raise invalid(("query", "csat_min"), "csat_min is above csat_max", csat_min)
    opened_from, opened_before = (utc(when) for when in (opened_from, opened_before))
    found = CaseFilter(statuses=_names(status, "status"), teams=_names(team, "team"),
                       channels=_names(channel, "channel"), agent_id=agent, opened_from=opened_from,
                       opened_before=opened_before, reasons=_names(reason, "reason"), csat_min=csat_min,
                       csat_max=csat_max)
    async with sessions() as session:
        await read_only(session)
        try:
            return await list_cases(session, principal.agent, found, limit=limit, cursor=cursor)
        except BadCursor as error:
            raise invalid(("query", "cursor"), str(error), cursor) from error
