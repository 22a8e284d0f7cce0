"""What the inbox's JSON API answers, field by field in the order the views build it (OpenAPI reads these).

`extra="forbid"`: a key a view adds without adding it here fails the tests instead of silently vanishing.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Locale = Literal["en", "es", "pt"]  # handoff.core.agents.LOCALES, as a type


class View(BaseModel):
    """A response body: exactly these keys."""

    model_config = ConfigDict(extra="forbid")


class Ok(View):
    ok: bool


class AgentPublic(View):
    """An agent as the inbox shows it (never the password hash)."""

    id: str
    email: str
    name: str
    role: str
    teams: list[str]
    capacity: int
    presence: str
    active: bool
    phone: str | None  # where callbacks this agent places ring first (E.164 or sip:)
    locale: Locale | None  # the inbox's language the agent chose; null: the browser's


class Me(View):
    agent: AgentPublic
    csrf_token: str


class Options(View):
    teams: list[str]
    dispositions: list[str]


class CaseSummary(View):
    """One row of the queue or of my cases."""

    id: str
    status: str
    team: str | None
    assignee_id: str | None
    channel: str
    language: str | None
    priority: int
    customer_name: str | None
    customer_handle: str | None  # a WhatsApp username, for a customer who may hide their number
    reason: str | None
    intent: str | None
    accepted: bool
    queued_at: str | None
    waiting_seconds: int | None
    last_customer_message_at: str | None
    returning: bool  # a recontact, or a reply routed back to the agent who handled the customer
    kept_until: str | None  # handed off after hours: routed at this opening, to no one before
    unread: int = 0  # the customer's messages since this agent last opened the case (lists only)
    sla_due_at: str | None = None  # a person's answer is owed by then (the channel's sla.answer); None: not owed
    sla_target_seconds: int | None = None
    sla_state: str | None = None  # ok, warning (last quarter), breached; as of the read


class CaseDetail(CaseSummary):
    disposition: str | None
    csat: int | None
    handoff_count: int
    previous_case_id: str | None
    assignee_name: str | None
    first_response_due_at: str | None
    created_at: str


class IdentityView(View):
    kind: str
    value: str
    verified: bool


class FoundCase(View):
    """A case of a found customer (one the reader may read): every door it came through."""

    id: str
    status: str
    channels: list[str]
    created_at: str


class FoundCustomer(View):
    """A customer as the lookup finds them: who, at which identities, and the reader's cases of theirs."""

    id: str
    name: str | None
    identities: list[IdentityView]
    cases: list[FoundCase]


class EarlierCase(View):
    id: str
    status: str
    team: str | None
    channel: str
    disposition: str | None
    created_at: str
    resolved_at: str | None


class SuggestionView(View):
    """Unverified evidence that this customer and another are one person: an agent merges or dismisses it."""

    id: int
    other_customer_id: str
    other_name: str | None
    evidence_kind: str  # told_phone, told_email, name_and_order
    evidence_value: str
    created_at: str | None


class CustomerView(View):
    id: str | None
    name: str | None
    handle: str | None
    language: str | None
    whatsapp_opted_out: bool = False  # "stop"/"baja" or an agent: the service never writes first on WhatsApp
    facts: dict[str, Any]
    identities: list[IdentityView]
    earlier_cases: list[EarlierCase]
    suggestions: list[SuggestionView] = []


class HandoffView(View):
    id: int
    direction: str
    reason: str
    intent: str | None
    confidence: float | None
    summary: str | None
    slots: dict[str, Any]
    team: str | None
    bot_turns: int
    queued_at: str
    accepted_at: str | None
    ended_at: str | None
    agent_id: str | None
    outcome: str | None
    decision: str | None  # the routing policy's: assign hold queue overflow after_hours
    decision_reason: str | None


class MediaView(View):
    """A customer's file as an agent may learn of it: never the store path or the provider's id."""

    mime_type: str | None
    size: int | None
    filename: str | None
    inline: bool
    url: str | None
    error: str | None


class EventView(View):
    id: int
    case_id: str
    seq: int
    channel: str
    direction: str
    actor: str
    actor_name: str | None
    kind: str
    text: str | None
    payload: dict[str, Any]
    delivery_status: str | None
    at: str
    media: MediaView | None


class CallCard(View):
    """A call on the case view (handoff/channels/voice/calls.py builds it)."""

    id: int
    call_id: str
    provider: str
    direction: str
    from_: str | None = Field(alias="from")
    to: str | None
    status: str
    started_at: str
    answered_at: str | None
    ended_at: str | None
    duration_seconds: int | None
    agent: str | None
    agent_id: str | None
    recording_url: str | None
    recording_duration_seconds: int | None
    transcript: str | None
    transcript_segments: list[dict[str, Any]]
    missed_call_follow_up: str | None
    case_id: str
    event_ids: list[int]


class Canned(View):
    key: str
    title: str
    text: str


class PreviousCase(View):
    """A returning customer's previous case: when, how it ended, who handled it."""

    id: str
    status: str
    channel: str
    team: str | None
    disposition: str | None
    outcome: str | None
    created_at: str
    resolved_at: str | None
    agent_id: str | None
    agent_name: str | None


class OpenCommitment(View):
    """A promise of the previous case still open: what, by when, overdue already."""

    id: int
    text: str
    due_at: str
    overdue: bool


class Returning(View):
    """Shown when the customer is back (handoff/inbox/returning.py)."""

    previous_case: PreviousCase | None  # None: the reader may not read it, or a reply within the same case
    commitments: list[OpenCommitment] | None  # the previous case's open ones; None: no previous case to read
    routing_reason: str | None


class CaseView(View):
    """Everything an agent needs to answer without asking again."""

    case: CaseDetail
    customer: CustomerView
    handoff: HandoffView | None
    returning: Returning | None
    transitions: list[HandoffView]
    events: list[EventView]
    more_before: int | None
    channels: list[str]
    calls: list[CallCard]
    canned: list[Canned]


class Done(View):
    """An agent's action went through; these timeline events record it."""

    ok: bool
    case_id: str
    event_ids: list[int]


class TeamWaiting(View):
    team: str | None
    waiting: int
    longest_wait_seconds: int | None


class PanelAgent(View):
    id: str
    name: str
    role: str
    teams: list[str]
    presence: str
    open_cases: int
    capacity: int


class SupervisorPanel(View):
    waiting: list[TeamWaiting]
    agents_by_state: dict[str, int]
    longest_wait_seconds: int
    agents: list[PanelAgent]
    overdue_commitments: list[CommitmentView]  # open past due, soonest first (at most 200)


class MergeDone(View):
    """The merge (or its undo) went through: its id, for undo, and the cases whose screens changed."""

    merge_id: str
    case_ids: list[str]
    undone: bool


class TemplateParameter(View):
    """A template's parameter by its configured name, with the case's value to start from (empty if unknown)."""

    name: str
    value: str


class TemplateOffer(View):
    """An approved WhatsApp template: the approved text with {{1}}, {{2}}… and its parameters in that order."""

    name: str
    language: str
    body: str | None
    parameters: list[TemplateParameter]


class CaseTemplates(View):
    """What the composer needs outside WhatsApp's 24 hours: may a template go, and which (the customer's language
    first)."""

    case_id: str
    language: str
    whatsapp: bool
    window_open: bool
    last_inbound_at: str | None
    closes_at: str | None
    refusal: str | None
    templates: list[TemplateOffer]


class CommitmentView(View):
    """A promise as agents see it: its text is the agent's own words, shown as text, never HTML."""

    id: int
    case_id: str
    customer_id: str
    customer_name: str | None
    team: str | None
    agent_id: str
    agent_name: str | None
    text: str
    due_at: str
    state: str  # open, overdue, kept, broken
    overdue: bool
    kept_on_time: bool
    kept_at: str | None
    alerted_at: str | None
    created_at: str


class CallbackItem(View):
    """A callback as the team's list shows it (core/callbacks.py)."""

    id: int
    case_id: str
    customer_id: str
    customer_name: str | None
    phone: str
    team: str | None
    status: str
    window_start: str
    window_end: str
    window: str  # open, upcoming, past
    requested_by: str
    agent_id: str | None
    attempts: int
    placed_at: str | None
    ended_at: str | None
    missed_message: str | None
    created_at: str
