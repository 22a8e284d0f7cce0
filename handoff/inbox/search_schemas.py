"""What the search box and the case list answer (OpenAPI reads these); exactly these keys, like inbox/schemas.py."""
from __future__ import annotations

from handoff.inbox.schemas import FoundCustomer, View


class ListedCase(View):
    """A case as the case list and the search by id show it."""

    id: str
    status: str
    team: str | None
    channel: str
    customer_id: str
    customer_name: str | None
    assignee_id: str | None
    assignee_name: str | None
    reason: str | None  # the latest handoff's to people
    csat: int | None
    created_at: str
    resolved_at: str | None
    merged_into_case_id: str | None  # status "merged": the conversation continues there


class CasePage(View):
    """One page of the case list, newest first: the filter's total and the cursor of the next page (None: last)."""

    items: list[ListedCase]
    total: int
    next_cursor: str | None


class MessageHit(View):
    """A conversation whose customer wrote the words: its latest such message (customer text, shown as text)."""

    case_id: str
    customer_id: str
    customer_name: str | None
    status: str
    team: str | None
    merged_into_case_id: str | None
    channel: str
    event_id: int
    text: str | None
    created_at: str


class SearchResults(View):
    """What the search box found: customers (phone, email, order number, name), cases by id, messages."""

    customers: list[FoundCustomer]
    cases: list[ListedCase]
    messages: list[MessageHit]


class AgentName(View):
    id: str
    name: str


class CaseFilters(View):
    """The values the case list's filters offer this reader (agents: only themselves as assignee)."""

    statuses: list[str]
    teams: list[str]
    channels: list[str]
    reasons: list[str]
    agents: list[AgentName]
