"""What the customer page and the contacts import answer (OpenAPI reads these)."""
from __future__ import annotations

from typing import Any

from handoff.inbox.schemas import EventView, SuggestionView, View


class PageIdentity(View):
    kind: str
    value: str
    verified: bool
    verified_by: str | None


class PageCustomer(View):
    id: str
    name: str | None
    handle: str | None
    language: str | None
    facts: dict[str, Any]
    whatsapp_opted_out: bool
    whatsapp_opted_out_at: str | None
    created_at: str | None
    identities: list[PageIdentity]


class PageCase(View):
    """One of the customer's cases with its latest events; `more_before`: ask the timeline for earlier ones."""

    id: str
    status: str
    team: str | None
    channel: str
    channels: list[str]
    language: str | None
    assignee_name: str | None
    disposition: str | None
    csat: int | None
    merged_into_case_id: str | None
    created_at: str | None
    resolved_at: str | None
    events: list[EventView]
    more_before: int | None


class PageMerge(View):
    """A merge the customer took part in; undone_at set: undone."""

    id: str
    kind: str  # customers, cases
    survivor_customer_id: str
    absorbed_customer_id: str
    other_name: str | None
    kept_case_id: str | None
    absorbed_case_id: str | None
    actor: str
    evidence_kind: str | None
    created_at: str | None
    undone_at: str | None


class CustomerPage(View):
    customer: PageCustomer
    cases: list[PageCase]
    more_cases: bool
    merges: list[PageMerge]
    suggestions: list[SuggestionView]


class TimelinePage(View):
    events: list[EventView]
    more_before: int | None


class ImportedRow(View):
    """One row of the file: new, matched (`customer_id`, or `same_as` an earlier row), conflict or invalid."""

    row: int
    outcome: str
    customer_id: str | None
    same_as: int | None
    reason: str | None


class ImportCounts(View):
    new: int
    matched: int
    conflict: int
    invalid: int


class ImportReportView(View):
    dry_run: bool
    counts: ImportCounts
    created: int
    updated: int
    rows: list[ImportedRow]
