"""What the report endpoints answer, field by field in the order the report modules build it (OpenAPI reads these)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator

from handoff.inbox.schemas import View


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC: answered with its offset, as the schema's `date-time` requires."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


UtcTime = Annotated[datetime, AfterValidator(_as_utc)]


class Kpis(View):
    """Every KPI of one group of cases (handoff/reports/kpis.py aggregate); None where nothing was measured."""

    cases: int
    contained: int
    containment_rate: float | None
    handed_off: int
    handoff_rate: float | None
    handoffs: int
    handoff_reasons: dict[str, int]
    avg_bot_turns_before_handoff: float | None
    avg_bot_seconds_before_handoff: float | None
    avg_queue_wait_seconds: float | None
    abandoned_in_queue: int
    queue_abandonment_rate: float | None
    avg_first_response_seconds: float | None
    avg_handle_seconds: float | None
    resolved: int
    first_contact_resolutions: int
    fcr_rate: float | None
    recontacts: int
    recontact_rate: float | None
    sla_attainment: dict[str, float | None]
    sla_spread: float | None
    csat_bot_only: float | None
    csat_assisted: float | None
    csat_bot_only_responses: int
    csat_assisted_responses: int
    reasked: int
    reask_rate: float | None
    overflowed: int  # the assistant's handoffs that overflowed (wait over the target, or nobody online) …
    overflow_rate: float | None  # … of all the assistant's handoffs
    overflow_choices: dict[str, int]  # what those customers chose: wait whatsapp callback assistant, or unanswered


# A row of a table names its group first: pydantic puts the fields of the last base class first,
# so `class DayKpis(Kpis, DayKey)` reads {"day": …, "cases": …, …} like the dict kpis.report builds.
class DayKey(View):
    day: str


class ChannelKey(View):
    channel: str


class TeamKey(View):
    team: str


class IntentKey(View):
    intent: str


class DayKpis(Kpis, DayKey):
    pass


class ChannelKpis(Kpis, ChannelKey):
    pass


class TeamKpis(Kpis, TeamKey):
    pass


class IntentKpis(Kpis, IntentKey):
    pass


class CommitmentKpis(View):
    """Promises due in the period by outcome at the time of the report (kpis.commitment_figures)."""

    due: int
    kept_on_time: int
    kept_late: int
    broken: int
    overdue: int
    pending: int
    kept_on_time_rate: float | None  # kept_on_time / (due - pending)


class Abandonment(View):
    """Why customers left (service.abandonment): the assistant's case, or people's queue by how long they waited."""

    frustration: int  # left while the assistant held the case after two fallbacks or a re-ask
    saturation: int  # left people's queue after waiting past the channel's sla.answer
    short: int  # left it within short_abandon_seconds
    within_target: int  # left it in between


class ServiceKpis(View):
    """The service KPIs of one group of cases (service.figures); None where nothing was measured."""

    cases: int
    contained: int
    containment_rate: float | None
    durably_contained: int
    durable_containment_rate: float | None
    offered: int
    answered: int
    answered_in_target: int
    short_abandons: int
    service_level: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    resolved: int
    one_contact_resolutions: int
    one_contact_resolution_rate: float | None
    abandonment: Abandonment


class ChannelServiceKpis(ServiceKpis, ChannelKey):
    pass


class ServiceDay(View):
    """A day's service level per channel, its spread, and the first-response attainment's spread."""

    day: str
    service_level: dict[str, float | None]
    spread: float | None
    first_response_spread: float | None


class AgentOccupancy(View):
    agent_id: str
    name: str | None
    handle_seconds: float
    online_seconds: float
    occupancy: float | None


class Occupancy(View):
    """Handle time / online time (occupancy.occupancy), in total and per agent."""

    handle_seconds: float
    online_seconds: float
    occupancy: float | None
    agents: list[AgentOccupancy]


class ServiceReport(View):
    """handoff/reports/service.py report, with occupancy."""

    total: ServiceKpis
    channel: list[ChannelServiceKpis]
    trend: list[ServiceDay]
    occupancy: Occupancy


class KpiReport(View):
    """The KPIs for [start, end): the totals and one table per dimension, rows sorted by name."""

    start: str
    end: str
    total: Kpis
    day: list[DayKpis]
    channel: list[ChannelKpis]
    team: list[TeamKpis]
    intent: list[IntentKpis]
    commitments: CommitmentKpis
    service: ServiceReport


class Turn(View):
    at: str
    actor: str
    text: str | None


class Transition(View):
    """One bot↔human transition with the assistant's last turns before it."""

    id: int
    case_id: str
    direction: str
    channel: str
    reason: str
    intent: str | None
    confidence: float | None
    team: str | None
    slots: dict[str, Any]
    summary: str | None
    bot_turns: int
    queued_at: str
    accepted_at: str | None
    ended_at: str | None
    waiting_seconds: float | None
    outcome: str | None
    review_tag: str | None
    review_note: str | None
    last_turns: list[Turn]


class ReviewedTransition(Transition):
    nlu_samples: int  # samples the review put in the designers' queue


class NluSample(View):
    id: int
    case_id: str | None
    source: str
    text: str
    language: str | None
    predicted_intent: str | None
    confidence: float | None
    review_tag: str | None
    status: str
    intent: str | None
    reviewed_by: str | None
    created_at: str | None


class ExportedCase(View):
    id: str
    status: str
    channel: str
    team: str | None
    created_at: str
    resolved_at: str | None
    disposition: str | None
    csat: int | None
    previous_case_id: str | None


class ExportedCustomer(View):
    id: str
    display_name: str | None


class ExportedTransition(View):
    id: int
    direction: str
    reason: str
    intent: str | None
    confidence: float | None
    team: str | None
    queued_at: str
    accepted_at: str | None
    ended_at: str | None
    outcome: str | None
    review_tag: str | None


class ExportedCall(View):
    id: int
    direction: str
    status: str
    started_at: str
    ended_at: str | None
    duration_seconds: int | None
    recording_url: str | None
    transcript: str | None


class ExportedEvent(View):
    """The hashed fields exactly as hashed (handoff/core/hashchain.py HASHED_FIELDS), the hash, the delivery."""

    case_id: str
    seq: int
    created_at: str
    channel: str
    direction: str
    actor: str
    kind: str
    text: str | None
    payload: dict[str, Any]
    content_salt: str | None  # none: erased (or written before salts); the chain covers content_digest
    content_digest: str | None
    provider_id: str | None
    prev_hash: str
    hash: str
    delivery_status: str | None
    # Only when the stored payload holds NaN or an infinity: `payload` shows them as null, this is what was hashed.
    payload_exact: str | None = None


class ChainHead(View):
    count: int
    hash: str


class ExportedCheckpoint(View):
    """The latest signed head of the case's chain (handoff/core/checkpoints.py): Ed25519 over chain, seq, hash,
    signed_at; `python -m handoff audit verify FILE --public-key KEY` checks it."""

    chain: str
    seq: int
    hash: str
    signed_at: str
    key_id: str
    signature: str


class CaseExport(View):
    """A case's whole transcript as a self-verifying document (handoff/reports/audit_export.py)."""

    format: str
    exported_at: str
    case: ExportedCase
    customer: ExportedCustomer | None
    transitions: list[ExportedTransition]
    calls: list[ExportedCall]
    events: list[ExportedEvent]
    head: ChainHead
    checkpoint: ExportedCheckpoint | None = None


class StaffingTarget(View):
    """What one channel's staffing aimed at (operations.yml sla.<channel>.service_level, first_response, and
    staffing.max_occupancy)."""

    channel: str
    service_level: float
    answer_seconds: int
    max_occupancy: float


class StaffingInterval(View):
    """One interval of one channel and team: measured (offered, online) before the range's end, forecast after."""

    start: datetime  # local time with its offset
    channel: str
    team: str  # "" for transitions with no team
    offered: int | None  # None in the forecast week
    aht_seconds: float  # the handle time Erlang C used
    required_agents: int
    online_agents: float | None  # the team's mean agents online over the interval; None in the forecast week
    forecast: float | None  # contacts the seasonal average expects; None without earlier weeks


class StaffingReport(View):
    """Erlang C staffing per interval for a range of local days, and the forecast week after it."""

    start: datetime
    end: datetime
    forecast_end: datetime
    interval_minutes: int
    forecast_weeks: int
    targets: list[StaffingTarget]
    intervals: list[StaffingInterval]


class NotificationCounts(View):
    """One template's notifications asked for in the period (README: Notifications, the dashboard's counts)."""

    template: str  # "" for the total
    asked: int
    sent: int
    delivered: int
    read: int
    answered: int
    failed: int
    refused: int
    opt_outs: int
    reached_people: int


class NotificationReport(View):
    templates: list[NotificationCounts]
    total: NotificationCounts
