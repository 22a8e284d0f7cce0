"""Response models of the integrations' API and of the admins' integration pages."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Me(BaseModel):
    """The integration a token belongs to: a system checks its token and scopes with it."""

    id: str
    name: str
    scopes: list[str]


class DeliveryView(BaseModel):
    """One webhook delivery: pending (with its next attempt), sending, sent (the receiver's answer) or failed."""

    id: int
    integration_id: str
    event: str
    case_id: str
    status: str
    attempts: int
    last_error: str | None
    response: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None


class CaseCustomer(BaseModel):
    id: str
    name: str | None
    language: str | None


class CaseSnapshot(BaseModel):
    """A case as integrations read it (and as webhooks carry it): its state, never what was said."""

    id: str
    status: str
    channel: str
    team: str | None
    assignee_id: str | None
    language: str | None
    priority: int
    disposition: str | None
    csat: int | None
    created_at: str | None
    resolved_at: str | None
    merged_into_case_id: str | None
    customer: CaseCustomer
