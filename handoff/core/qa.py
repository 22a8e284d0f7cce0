"""Quality review of whole conversations: scorecards from operations.yml and the arithmetic on them (pure).

A reviewer scores every criterion of a scorecard from 0 to its `scale` (or None: not applicable, never for a
critical criterion). The total is the weighted share of the possible points, 0–100; a critical criterion scored
0 zeroes it. Two reviewers of one case agree on the share of criteria they scored equally.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator

LABEL_LANGUAGES = ("es", "en", "pt")  # the inbox's languages: every criterion is labelled in each
Scores = Mapping[str, int | None]


class Criterion(BaseModel):
    """One thing the reviewer judges, with its weight in the total."""

    key: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    label: dict[str, str]
    weight: float = Field(default=1.0, gt=0, le=100)
    critical: bool = False  # scored 0, the whole conversation scores 0

    @field_validator("label")
    @classmethod
    def _every_language(cls, value: dict[str, str]) -> dict[str, str]:
        """A label missing in one language would show a key to that reviewer or agent."""
        missing = [lang for lang in LABEL_LANGUAGES if not (value.get(lang) or "").strip()]
        if missing:
            raise ValueError(f"label needs text in {', '.join(LABEL_LANGUAGES)}; missing: {', '.join(missing)}")
        return value

    def text(self, language: str) -> str:
        """The label in the reader's language, Spanish otherwise."""
        return self.label.get(language) or self.label["es"]


class Scorecard(BaseModel):
    """Criteria for the cases of some teams (none listed: every team another scorecard does not claim)."""

    key: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    teams: list[str] = Field(default_factory=list)
    scale: int = Field(default=4, ge=1, le=10)  # each criterion scores 0..scale
    criteria: list[Criterion] = Field(min_length=1)

    @field_validator("criteria")
    @classmethod
    def _unique_keys(cls, value: list[Criterion]) -> list[Criterion]:
        """Scores are stored by criterion key: two with one key could not be told apart."""
        keys = [criterion.key for criterion in value]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"criterion keys repeat: {', '.join(repeated)}")
        return value

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)


class QaOperations(BaseModel):
    """`qa:` in operations.yml: the scorecards and the share of each agent's cases sampled every week."""

    sample_share: float = Field(default=0.05, ge=0, le=1)
    scorecards: list[Scorecard] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_card_per_team(self) -> QaOperations:
        """Which scorecard applies to a case must never be ambiguous."""
        keys = [card.key for card in self.scorecards]
        if len(set(keys)) != len(keys):
            raise ValueError("qa.scorecards: scorecard keys repeat")
        defaults = [card.key for card in self.scorecards if not card.teams]
        if len(defaults) > 1:
            raise ValueError(f"qa.scorecards: only one scorecard may list no teams (the default): {defaults}")
        claimed: dict[str, str] = {}
        for card in self.scorecards:
            for team in card.teams:
                if team in claimed:
                    raise ValueError(f"qa.scorecards: team {team!r} is in {claimed[team]!r} and {card.key!r}")
                claimed[team] = card.key
        return self

    def unknown_teams(self, teams: Iterable[str]) -> list[str]:
        """Teams a scorecard names that the operation does not have (a typo would leave them unscored)."""
        known = set(teams)
        return sorted({team for card in self.scorecards for team in card.teams if team not in known})

    def scorecard_for(self, team: str | None) -> Scorecard | None:
        """The team's scorecard, else the default one; None when QA is not configured."""
        for card in self.scorecards:
            if team in card.teams:
                return card
        return next((card for card in self.scorecards if not card.teams), None)

    def scorecard(self, key: str) -> Scorecard | None:
        return next((card for card in self.scorecards if card.key == key), None)


@dataclass(frozen=True)
class Total:
    """A review's result: 0–100 (None when every criterion was not applicable) and the critical ones failed."""

    score: float | None
    critical_failed: tuple[str, ...]


def score_problems(card: Scorecard, scores: Scores) -> list[str]:
    """Why a set of scores cannot be stored: every criterion once, in range, critical ones always scored."""
    problems = [f"{key}: not a criterion of {card.key}" for key in scores if card.criterion(key) is None]
    for criterion in card.criteria:
        if criterion.key not in scores:
            problems.append(f"{criterion.key}: missing")
            continue
        value = scores[criterion.key]
        if value is None:
            if criterion.critical:
                problems.append(f"{criterion.key}: a critical criterion is always scored")
        elif isinstance(value, bool) or not 0 <= value <= card.scale:
            problems.append(f"{criterion.key}: must be 0 to {card.scale}")
    return problems


def total(card: Scorecard, scores: Scores) -> Total:
    """Weighted points over weighted possible points (criteria not applicable left out), 0 on a critical 0."""
    failed = tuple(c.key for c in card.criteria if c.critical and scores.get(c.key) == 0)
    scored = [(c.weight, value) for c in card.criteria if (value := scores.get(c.key)) is not None]
    if failed:
        return Total(0.0, failed)
    possible = sum(weight * card.scale for weight, _ in scored)
    if not possible:
        return Total(None, ())
    return Total(round(100 * sum(weight * value for weight, value in scored) / possible, 1), ())


@dataclass(frozen=True)
class Agreement:
    """Two reviews of one case: the share of criteria scored equally, and how far apart the totals are."""

    criteria: int
    equal: int
    equal_share: float | None
    total_difference: float | None


def agreement(card: Scorecard, first: Scores, second: Scores, first_total: float | None,
              second_total: float | None) -> Agreement:
    """Every criterion of the scorecard counts; 'not applicable' on both is equal."""
    keys = [c.key for c in card.criteria]
    equal = sum(first.get(key) == second.get(key) for key in keys)
    difference = None if first_total is None or second_total is None else round(abs(first_total - second_total), 1)
    return Agreement(len(keys), equal, round(equal / len(keys), 3) if keys else None, difference)


def case_rank(case_id: str) -> int:
    """A stable pseudo-random rank: the same case is sampled on every rerun, on every worker."""
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "big")


def sample(case_ids: Iterable[str], share: float) -> list[str]:
    """The ceil(share × n) cases of lowest rank: at least one of an agent's week when share > 0."""
    unique = sorted(set(case_ids), key=case_rank)
    return sorted(unique[:math.ceil(share * len(unique))]) if share > 0 else []


def week_of(moment: datetime, zone: str) -> str:
    """The ISO week (Monday first) of a moment in the operation's time zone, as 2026-W49."""
    year, week, _ = moment.astimezone(ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str, zone: str) -> tuple[datetime, datetime]:
    """Local Monday 00:00 to the next Monday, in UTC; ValueError for anything but YYYY-Www."""
    year, _, number = week.partition("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    start = datetime.combine(monday, time.min, ZoneInfo(zone))
    return start.astimezone(timezone.utc), (start + timedelta(days=7)).astimezone(timezone.utc)


def weeks_back(week: str, count: int) -> list[str]:
    """This week and the count-1 before it, oldest first."""
    year, _, number = week.partition("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    days = [monday - timedelta(weeks=back) for back in range(count - 1, -1, -1)]
    return [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in days]


@dataclass(frozen=True)
class Scored:
    """One stored review as the trends read it."""

    week: str
    agent_id: str | None
    team: str | None
    total: float | None


def trend(reviews: Sequence[Scored], by: str) -> list[dict[str, object]]:
    """Per week and agent (by='agent_id') or team (by='team'): reviews and the mean total, weeks in order."""
    groups: dict[tuple[str, str | None], list[float | None]] = {}
    for review in reviews:
        groups.setdefault((review.week, getattr(review, by)), []).append(review.total)
    rows: list[dict[str, object]] = []
    for (week, who), totals in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        scored = [value for value in totals if value is not None]
        rows.append({"week": week, by: who, "reviews": len(totals),
                     "average": round(sum(scored) / len(scored), 1) if scored else None})
    return rows
