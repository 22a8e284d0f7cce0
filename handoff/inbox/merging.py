"""Agents merge two customers or two open cases, undo a merge and dismiss a suggestion: checked, audited, pushed.

Who may: a role that works cases, and only over cases it may read (`permissions.may_read_case`): every case of both
customers for a customer merge, both cases for a case merge, every case a merge touched for its undo. Supervisors
and admins read all.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.events import CaseChanged, CaseEvent, EventBus, EventsAdded, Merged, MergeUndone
from handoff.core.merge_rules import MergeRefused
from handoff.core.merges import MergeResult, involved_cases, merge_cases, merge_customers, undo_merge
from handoff.core.permissions import can, may_read_case
from handoff.core.queues import Queues
from handoff.inbox.actions import InboxError
from handoff.inbox.auth import Principal
from handoff.store.models import Case, Customer, Merge, MergeSuggestion, utcnow

UNREADABLE = "you may not read every case this touches"


def _readable(principal: Principal, cases: Iterable[Case]) -> None:
    if not all(may_read_case(principal.agent, case) for case in cases):
        raise InboxError(403, UNREADABLE)


def _evidence(principal: Principal) -> dict[str, str]:
    """An agent decided the merge: the evidence core.merges records."""
    return {"kind": "agent", "agent_id": principal.agent.id}


async def _cases_of(session: AsyncSession, *customer_ids: str) -> list[Case]:
    return list(await session.scalars(select(Case).where(Case.customer_id.in_(customer_ids))))


class Merging:
    """The agent-facing side of core.merges; routes stay thin and call these."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus, queues: Queues) -> None:
        self.sessions = sessions
        self.events = events
        self.queues = queues

    @asynccontextmanager
    async def _transaction(self, principal: Principal) -> AsyncIterator[AsyncSession]:
        """A role that works cases, one transaction, and core.merges' refusals as the inbox's."""
        if not can(principal.agent.role, "work"):
            raise InboxError(403, "this role cannot work cases")
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except MergeRefused as exc:
            raise InboxError(exc.status, exc.message) from exc

    async def merge_customers(self, principal: Principal, survivor_id: str, other_id: str) -> MergeResult:
        """`other_id` becomes part of `survivor_id`."""
        async with self._transaction(principal) as session:
            survivor, other = await session.get(Customer, survivor_id), await session.get(Customer, other_id)
            if survivor is None or other is None:
                raise InboxError(404, "no such customer")
            _readable(principal, await _cases_of(session, survivor.id, other.id))
            result = await merge_customers(session, survivor, other, principal.actor, _evidence(principal))
        await self._after(result, [Merged(case_id, result.merge.id, "customers") for case_id in result.case_ids])
        return result

    async def merge_cases(self, principal: Principal, kept_id: str, other_id: str) -> MergeResult:
        """Two open cases of one customer become one: `kept_id` stays open."""
        async with self._transaction(principal) as session:
            kept, other = await session.get(Case, kept_id), await session.get(Case, other_id)
            if kept is None or other is None:
                raise InboxError(404, "no such case")
            _readable(principal, (kept, other))
            result = await merge_cases(session, kept, other, principal.actor, _evidence(principal))
        await self._after(result, [Merged(case_id, result.merge.id, "cases") for case_id in result.case_ids])
        return result

    async def undo(self, principal: Principal, merge_id: str) -> MergeResult:
        """Restores exactly the state before the merge, or says why it cannot (409)."""
        async with self._transaction(principal) as session:
            merge = await session.get(Merge, merge_id)
            if merge is None:
                raise InboxError(404, "no such merge")
            _readable(principal, await involved_cases(session, merge))
            result = await undo_merge(session, merge_id, principal.actor)
        await self._after(result, [MergeUndone(case_id, merge_id) for case_id in result.case_ids])
        return result

    async def dismiss(self, principal: Principal, suggestion_id: int) -> None:
        """The agent says the suggestion is wrong: it leaves the panel (audited)."""
        async with self._transaction(principal) as session:
            suggestion = await session.get(MergeSuggestion, suggestion_id, with_for_update=True)
            if suggestion is None:
                raise InboxError(404, "no such suggestion")
            _readable(principal, await _cases_of(session, suggestion.customer_id, suggestion.other_customer_id))
            if suggestion.status != "open":
                raise InboxError(409, f"the suggestion is {suggestion.status}")
            suggestion.status, suggestion.decided_by, suggestion.decided_at = "dismissed", principal.actor, utcnow()
            await audit.record(session, principal.actor, "dismiss_suggestion", suggestion_id=suggestion.id,
                               customer=suggestion.customer_id, other=suggestion.other_customer_id)

    async def _after(self, result: MergeResult, happened: Iterable[CaseEvent]) -> None:
        """After the commit: the merge's events, each case's new timeline events and state, and freed capacity."""
        pairs = list(zip(result.case_ids, result.event_ids, strict=True))  # core.merges notes one event per case
        await self.events.publish(*happened, *(EventsAdded(case_id, (event_id,)) for case_id, event_id in pairs),
                                  *(CaseChanged(case_id) for case_id in result.case_ids))
        await self.queues.drain()
