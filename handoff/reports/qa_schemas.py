"""What the quality-review endpoints answer (handoff/reports/qa_reviews.py and qa_queue.py build them)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from handoff.inbox.schemas import EventView, HandoffView, View


class QueueItem(View):
    case_id: str
    agent_id: str | None
    agent_name: str | None
    team: str | None
    status: str
    customer_name: str | None
    channels: list[str]
    sources: list[str]  # "sample", "transition: <tag>"
    reviews: int
    reviewed_by_me: bool


class QaQueue(View):
    week: str
    sample_share: float
    items: list[QueueItem]


class CriterionView(View):
    key: str
    label: str
    weight: float
    critical: bool


class ScorecardView(View):
    key: str
    scale: int
    criteria: list[CriterionView]


class ReviewView(View):
    id: int
    case_id: str
    agent_id: str | None
    agent_name: str | None
    team: str | None
    week: str
    reviewer_id: str
    reviewer_name: str | None
    scorecard: str
    scores: dict[str, int | None]
    comments: dict[str, str]
    comment: str | None
    total: float | None
    critical_failed: bool
    updated_at: str | None


class AgreementView(View):
    """Two reviewers of one case: criteria scored equally, and how far apart their totals are."""

    first_reviewer_id: str
    second_reviewer_id: str
    criteria: int
    equal: int
    equal_share: float | None
    total_difference: float | None


class QaAgent(View):
    id: str
    name: str | None


class QaCaseHead(View):
    id: str
    status: str
    team: str | None
    channel: str
    customer_name: str | None
    disposition: str | None
    csat: int | None
    created_at: str | None
    resolved_at: str | None
    channels: list[str]
    agents: list[QaAgent]


class QaCase(View):
    """The whole case for the reviewer: every channel, the assistant's part included."""

    case: QaCaseHead
    scorecard: ScorecardView | None
    events: list[EventView]
    transitions: list[HandoffView]
    reviews: list[ReviewView]
    agreement: list[AgreementView]


class ScoredCriterion(View):
    key: str
    label: str
    critical: bool
    score: int | None
    comment: str | None


class OwnReview(ReviewView):
    """A review as the scored agent reads it."""

    scale: int | None
    criteria: list[ScoredCriterion]


class AgentTrend(View):
    week: str
    agent_id: str | None
    agent_name: str | None
    reviews: int
    average: float | None


class TeamTrend(View):
    week: str
    team: str | None
    reviews: int
    average: float | None


class QaTrends(View):
    weeks: list[str]
    agents: list[AgentTrend]
    teams: list[TeamTrend]


class ReviewBody(BaseModel):
    """A reviewer's scores: every criterion of the case's scorecard, 0..scale or null (not applicable)."""

    scores: dict[str, int | None]
    comments: dict[str, Annotated[str, Field(max_length=2000)]] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=4000)
    agent_id: str | None = Field(default=None, max_length=32)  # whose work; default: who handled it last
