"""What the live namespace asks about a case: who owns it, and showing its agent typing to the customer."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.messages import Deliverer
from handoff.core.sending import customer_address
from handoff.inbox.auth import Principal
from handoff.store.models import Case


class CaseAccess:
    """Reads for the namespace's permission checks, and the agent's typing indicator on the customer's door."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], deliverers: Mapping[str, Deliverer]) -> None:
        self.sessions = sessions
        self.deliverers = deliverers

    async def case_owner(self, case_id: str) -> tuple[str | None, str | None] | None:
        """The case's team and assignee, or None when there is no such case."""
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            return (case.team, case.assignee_id) if case else None

    async def agent_typing(self, principal: Principal, case_id: str, on: bool) -> None:
        """Shows the agent typing on the customer's latest channel, only for the case's assignee."""
        async with self.sessions() as session:
            case = await session.get(Case, case_id)
            if case is None or case.assignee_id != principal.agent.id or case.status != "assigned":
                return
            address = await customer_address(session, case.customer_id, case.channel, self.deliverers.get(case.channel))
        deliverer = self.deliverers.get(case.channel)
        if deliverer is not None and address:
            await deliverer.typing(address, "agent", on)
