"""Quality review's pure parts: scorecards from operations.yml, the total, agreement, sampling and weeks."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from handoff.core import qa
from handoff.core.operations import Operations, load_operations
from handoff.core.qa import QaOperations, Scorecard, Scored, agreement, sample, score_problems, total, trend
from handoff.settings import REPO_ROOT


def label(text: str) -> dict[str, str]:
    return {"es": text, "en": text, "pt": text}


CARD = Scorecard(key="standard", scale=4, criteria=[
    {"key": "greeting", "label": label("Saludo"), "weight": 1},
    {"key": "resolution", "label": label("Resolución"), "weight": 3},
    {"key": "tone", "label": label("Tono"), "weight": 2},
    {"key": "identity", "label": label("Identidad"), "weight": 1, "critical": True},
])


def test_total_is_the_weighted_share_of_possible_points() -> None:
    # (1×4 + 3×2 + 2×3 + 1×4) / (4 × (1+3+2+1)) = 20/28
    assert total(CARD, {"greeting": 4, "resolution": 2, "tone": 3, "identity": 4}).score == 71.4
    assert total(CARD, {"greeting": 4, "resolution": 4, "tone": 4, "identity": 4}).score == 100.0


def test_not_applicable_criteria_leave_both_sums() -> None:
    # greeting n/a: (3×2 + 2×3 + 1×4) / (4 × 6) = 16/24
    result = total(CARD, {"greeting": None, "resolution": 2, "tone": 3, "identity": 4})
    assert (result.score, result.critical_failed) == (66.7, ())


def test_a_failed_critical_criterion_zeroes_the_total() -> None:
    result = total(CARD, {"greeting": 4, "resolution": 4, "tone": 4, "identity": 0})
    assert (result.score, result.critical_failed) == (0.0, ("identity",))
    assert total(CARD, {"greeting": 4, "resolution": 4, "tone": 4, "identity": 1}).score == pytest.approx(
        round(100 * 25 / 28, 1))  # a low critical score is not a failure


def test_score_problems_name_each_criterion() -> None:
    assert score_problems(CARD, {"greeting": 4, "resolution": 2, "tone": 3, "identity": 4}) == []
    assert score_problems(CARD, {"greeting": 5, "resolution": -1, "identity": None, "speed": 2}) == [
        "speed: not a criterion of standard", "greeting: must be 0 to 4", "resolution: must be 0 to 4",
        "tone: missing", "identity: a critical criterion is always scored"]
    assert score_problems(CARD, {"greeting": True, "resolution": 2, "tone": 3, "identity": 4}) == [
        "greeting: must be 0 to 4"]


def test_agreement_is_the_share_of_equal_criteria_and_the_difference_of_totals() -> None:
    first = {"greeting": 4, "resolution": 2, "tone": 3, "identity": 4}
    second = {"greeting": 4, "resolution": 3, "tone": None, "identity": 4}
    agreed = agreement(CARD, first, second, total(CARD, first).score, total(CARD, second).score)
    # equal: greeting, identity (2 of 4); totals 71.4 and (4 + 9 + 4)/20 = 85.0
    assert (agreed.criteria, agreed.equal, agreed.equal_share, agreed.total_difference) == (4, 2, 0.5, 13.6)
    same = agreement(CARD, second, dict(second), 85.0, 85.0)
    assert (same.equal_share, same.total_difference) == (1.0, 0.0)  # n/a on both counts as equal


def test_sampling_is_deterministic_and_takes_the_share_rounded_up() -> None:
    cases = [f"case{n:03d}" for n in range(40)]
    picked = sample(cases, 0.1)
    assert len(picked) == 4 and picked == sample(list(reversed(cases)), 0.1) == sample(cases + cases[:5], 0.1)
    assert set(picked) <= set(sample(cases, 0.25))  # a larger share keeps the smaller one's cases
    assert len(sample(cases[:3], 0.1)) == 1 and sample(cases, 0) == []
    assert sample(cases, 1) == sorted(cases)


def test_weeks_are_iso_weeks_in_the_operations_time_zone() -> None:
    sunday_night_local = datetime(2026, 12, 7, 5, 30, tzinfo=timezone.utc)  # Sunday 23:30 in Mexico City
    assert qa.week_of(sunday_night_local, "America/Mexico_City") == "2026-W49"
    assert qa.week_of(sunday_night_local, "UTC") == "2026-W50"
    start, end = qa.week_bounds("2026-W49", "America/Mexico_City")
    assert (start, end) == (datetime(2026, 11, 30, 6, tzinfo=timezone.utc),
                            datetime(2026, 12, 7, 6, tzinfo=timezone.utc))
    assert qa.weeks_back("2027-W02", 3) == ["2026-W53", "2027-W01", "2027-W02"]
    with pytest.raises(ValueError):
        qa.week_bounds("2026-W60", "UTC")


def test_trend_averages_per_week_and_agent_or_team() -> None:
    rows = [Scored("2026-W48", "ana", "care", 80.0), Scored("2026-W48", "ana", "care", 60.0),
            Scored("2026-W48", "beto", "returns", None), Scored("2026-W49", "ana", "returns", 90.0)]
    assert trend(rows, "agent_id") == [
        {"week": "2026-W48", "agent_id": "ana", "reviews": 2, "average": 70.0},
        {"week": "2026-W48", "agent_id": "beto", "reviews": 1, "average": None},
        {"week": "2026-W49", "agent_id": "ana", "reviews": 1, "average": 90.0}]
    assert [(r["week"], r["team"], r["average"]) for r in trend(rows, "team")] == [
        ("2026-W48", "care", 70.0), ("2026-W48", "returns", None), ("2026-W49", "returns", 90.0)]


def test_the_shipped_operations_file_has_a_scorecard_for_every_team() -> None:
    operations = load_operations(REPO_ROOT / "operations.yml")
    for team in operations.teams:
        card = operations.qa.scorecard_for(team)
        assert card is not None and any(c.critical for c in card.criteria)
        assert all(c.label["pt"] and c.label["es"] != c.label["en"] for c in card.criteria)


BAD_CONFIGS = [
    ({"scorecards": [{"key": "s", "criteria": [{"key": "a", "label": {"es": "A", "en": "A"}}]}]},
     "missing: pt"),
    ({"scorecards": [{"key": "s", "criteria": []}]}, "at least 1 item"),
    ({"scorecards": [{"key": "s", "criteria": [{"key": "a", "label": label("A"), "weight": 0}]}]},
     "greater than 0"),
    ({"scorecards": [{"key": "s", "criteria": [{"key": "a", "label": label("A")},
                                               {"key": "a", "label": label("B")}]}]}, "criterion keys repeat: a"),
    ({"scorecards": [{"key": "s", "criteria": [{"key": "a", "label": label("A")}]},
                     {"key": "t", "criteria": [{"key": "a", "label": label("A")}]}]}, "only one scorecard may list no"),
    ({"scorecards": [{"key": "s", "teams": ["care"], "criteria": [{"key": "a", "label": label("A")}]},
                     {"key": "t", "teams": ["care"], "criteria": [{"key": "a", "label": label("A")}]}]},
     "team 'care' is in 's' and 't'"),
    ({"sample_share": 1.5}, "less than or equal to 1"),
    ({"scorecards": [{"key": "s", "teams": ["cares"], "criteria": [{"key": "a", "label": label("A")}]}]},
     "unknown teams cares"),
]


@pytest.mark.parametrize(("qa", "message"), BAD_CONFIGS)
def test_a_bad_qa_section_stops_start_up_with_a_clear_error(tmp_path: Path, qa: dict, message: str) -> None:
    path = tmp_path / "operations.yml"
    path.write_text(yaml.safe_dump({"teams": {"care": {}}, "qa": qa}), encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        load_operations(path)


def test_scorecard_for_a_team_then_the_default() -> None:
    qa = QaOperations(scorecards=[
        Scorecard(key="fraud", teams=["fraud"], criteria=[{"key": "a", "label": label("A")}]),
        Scorecard(key="standard", criteria=[{"key": "a", "label": label("A")}])])
    assert qa.scorecard_for("fraud").key == "fraud" and qa.scorecard_for("care").key == "standard"  # type: ignore[union-attr]
    assert qa.scorecard_for(None).key == "standard"  # type: ignore[union-attr]
    assert Operations().qa.scorecard_for("care") is None  # no qa: section, nothing to score
