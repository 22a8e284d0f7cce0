"""The case-reading rule as SQL, so a customer's history shows a reader only the cases `may_read_case` allows."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from handoff.core.permissions import Reader, can, sees_all_teams
from handoff.store.models import Case


def readable(reader: Reader) -> ColumnElement[bool]:
    """`permissions.may_read_case` over the cases table: row for row the same answer (tested side by side)."""
    if not can(reader.role, "inbox"):
        return false()
    if sees_all_teams(reader.role):
        return true()
    return or_(Case.assignee_id == reader.id,
               and_(Case.team.is_(None), Case.assignee_id.is_(None)),  # the assistant's: open to take over
               Case.team.in_(list(reader.teams or ())))


def readable_case_ids(reader: Reader, customer_id: str) -> Select[tuple[str]]:
    """The ids of the customer's cases the reader may read, for an `IN` on their timeline, calls or cases."""
    return select(Case.id).where(Case.customer_id == customer_id, readable(reader))
