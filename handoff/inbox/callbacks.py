"""Callbacks from the inbox: ask for one on a case, list the team's, place one ("Call now"), and the agent's phone
or SIP address the call rings first. Routes (callback_routes.py) stay thin and call this."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.voice.callbacks import CallbackCalls, PlaceRefused
from handoff.core import audit
from handoff.core.agents import public
from handoff.core.callbacks import (
    STATUSES,
    CallbackError,
    CallbackView,
    check_agent_phone,
    finish,
    readable_callback,
    request_callback,
    team_callbacks,
)
from handoff.core.events import CaseChanged, EventBus, EventsAdded
from handoff.core.operations import Operations
from handoff.core.permissions import can, can_work_case
from handoff.inbox.actions import InboxError
from handoff.inbox.auth import Principal
from handoff.store.models import Agent, Callback, Case, Customer, TimelineEvent, utcnow


class InboxCallbacks:
    """One per process, wired by inbox/wiring.py."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], operations: Operations, events: EventBus,
                 calls: CallbackCalls) -> None:
        self.sessions = sessions
        self.operations = operations
        self.events = events
        self.calls = calls

    async def request(self, principal: Principal, case_id: str, *, phone: str | None, window_start: datetime,
                      window_end: datetime) -> dict[str, Any]:
        """A callback the customer asked for on any channel, recorded by the agent; 201 with the callback."""
        agent = principal.agent
        if not can(agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        async with self.sessions() as session, session.begin():
            case = await session.get(Case, case_id, with_for_update=True)
            if case is None:
                raise InboxError(404, "no such case")
            if not can_work_case(agent.role, agent.id, agent.teams or [], case.team, case.assignee_id):
                raise InboxError(403, "this case belongs to a team you are not in")
            if case.status == "merged":
                raise InboxError(409, "this case was merged into another one")
            before = await session.scalar(select(TimelineEvent.seq).where(TimelineEvent.case_id == case.id)
                                          .order_by(TimelineEvent.seq.desc()).limit(1))
            try:
                callback = await request_callback(session, case, phone=phone, window_start=window_start,
                                                  window_end=window_end, actor=principal.actor,
                                                  region=self.operations.default_region)
            except CallbackError as exc:
                raise InboxError(422, str(exc)) from exc
            added = tuple(await session.scalars(select(TimelineEvent.id).where(
                TimelineEvent.case_id == case.id, TimelineEvent.seq > (before or 0))))
            await audit.record(session, principal.actor, "request_callback", case_id=case.id, callback_id=callback.id)
            view = await self._view(session, callback, case)
        await self.events.publish(EventsAdded(case_id, added), CaseChanged(case_id))
        return view

    async def listed(self, principal: Principal, status: str) -> list[dict[str, Any]]:
        """The callbacks of `status` this agent may see, windows open now first."""
        if status not in STATUSES:
            raise InboxError(422, f"status must be one of {', '.join(STATUSES)}")
        now = utcnow()
        async with self.sessions() as session:
            rows = await team_callbacks(session, principal.agent, status, now)
            names = await self._names(session, [callback.customer_id for callback, _ in rows])
        return [CallbackView(callback, case, names.get(callback.customer_id)).as_dict(now) for callback, case in rows]

    async def place(self, principal: Principal, callback_id: int) -> dict[str, Any]:
        """"Call now": Twilio calls the agent, then the customer."""
        if not can(principal.agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        try:
            await self.calls.place(principal.agent, callback_id)
        except PlaceRefused as exc:
            raise InboxError(exc.status, exc.message) from exc
        async with self.sessions() as session, session.begin():
            callback = await session.get_one(Callback, callback_id)
            await audit.record(session, principal.actor, "place_callback", case_id=callback.case_id,
                               callback_id=callback_id)
            return await self._view(session, callback, await session.get_one(Case, callback.case_id))

    async def cancel(self, principal: Principal, callback_id: int) -> dict[str, Any]:
        """The customer no longer wants the call (or it is no longer needed): it leaves the team's list."""
        if not can(principal.agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        async with self.sessions() as session, session.begin():
            found = await readable_callback(session, principal.agent, callback_id)
            if found is None:
                raise InboxError(404, "no such callback")
            callback, case = found
            if callback.status != "requested":
                raise InboxError(409, f"this callback is {callback.status}, not waiting to be placed")
            await finish(session, callback, case, "cancelled", actor=principal.actor)
            await audit.record(session, principal.actor, "cancel_callback", case_id=case.id, callback_id=callback_id)
            view = await self._view(session, callback, case)
        await self.events.publish(CaseChanged(case.id))
        return view

    async def set_phone(self, principal: Principal, agent_id: str, phone: str | None) -> dict[str, object]:
        """The agent's own phone or SIP address (an admin sets anyone's); None clears it."""
        if agent_id != principal.agent.id and not can(principal.agent.role, "manage_agents"):
            raise InboxError(403, "only admins set another agent's phone")
        try:
            value = check_agent_phone(phone, self.operations.default_region) if phone and phone.strip() else None
        except CallbackError as exc:
            raise InboxError(422, str(exc)) from exc
        async with self.sessions() as session, session.begin():
            agent = await session.get(Agent, agent_id, with_for_update=True)
            if agent is None:
                raise InboxError(404, "no such agent")
            agent.phone = value
            await audit.record(session, principal.actor, "agent_phone", agent_id=agent_id, cleared=value is None)
            return public(agent)

    @staticmethod
    async def _names(session: AsyncSession, customer_ids: list[str]) -> dict[str, str | None]:
        if not customer_ids:
            return {}
        rows = await session.execute(select(Customer.id, Customer.display_name)
                                     .where(Customer.id.in_(set(customer_ids))))
        return {row.id: row.display_name for row in rows}

    async def _view(self, session: AsyncSession, callback: Callback, case: Case) -> dict[str, Any]:
        names = await self._names(session, [callback.customer_id])
        return CallbackView(callback, case, names.get(callback.customer_id)).as_dict(utcnow())
