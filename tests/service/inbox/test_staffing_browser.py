"""Chromium: a supervisor shows staffing in the dashboard for the staffing day of tests/service/reports (moved 260
weeks back, away from other tests' cases): the chart draws required, online and forecast agents, the targets are
listed, and the CSV holds every interval the API answers, with Erlang C's figures."""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction

from playwright.sync_api import expect

from handoff.reports.facts import CaseFact, HandoffFact
from tests.service.inbox.test_dashboard_browser import inbox_page, seed_store
from tests.service.reports.staffing_day import START, cases
from tests.service.reports.test_erlang import fewest_agents

SHIFT = timedelta(weeks=-260)  # Monday 23 November 2026 → Monday 29 November 2021 (UTC−6 then too)
DAY = (START + SHIFT).date().isoformat()  # START is local midnight: 06:00 UTC, the same date


def moved(handoff: HandoffFact) -> HandoffFact:
    return replace(handoff, **{name: getattr(handoff, name) + SHIFT for name in ("queued_at", "accepted_at",
                                                                                 "ended_at")
                               if getattr(handoff, name) is not None})


def staffing_cases(prefix: str) -> list[CaseFact]:
    return [replace(case, id=f"{prefix}{case.id}", customer_id=f"{prefix}{case.customer_id}",
                    created_at=case.created_at + SHIFT, resolved_at=case.resolved_at + SHIFT,
                    handoffs=tuple(moved(h) for h in case.handoffs)) for case in cases()]


def test_a_supervisor_reads_staffing_and_downloads_it(inbox_service, chromium) -> None:
    seed_store(inbox_service.database_url, staffing_cases(uuid.uuid4().hex[:6]))
    dialogs: list[str] = []
    with inbox_page(chromium, inbox_service, "supervisor", dialogs) as boss:
        boss.click("#tab-dashboard")
        expect(boss.locator("#dashboard-view")).to_have_attribute("data-state", "ready")
        boss.fill("#dash-from", DAY)
        boss.fill("#dash-to", DAY)
        boss.select_option("#staffing-interval", "30")
        boss.fill("#staffing-channel", "voice")
        boss.click("#staffing-show")
        expect(boss.locator("#staffing")).to_have_attribute("data-state", "ready")
        for series in ("required", "online", "forecastRequired"):
            expect(boss.locator(f"#staffing-chart polyline[data-series={series}]")).to_have_count(1)
        expect(boss.locator("#staffing-targets li[data-channel=voice]")).to_contain_text("20")
        answer = boss.evaluate(f"fetch('/inbox/api/reports/staffing?start={DAY}&end={DAY}&interval_minutes=30"
                               "&channel=voice').then(r => r.json())")
        with boss.expect_download() as download:
            boss.click("#staffing-csv")
        assert download.value.suggested_filename == f"staffing_30min_{DAY}_{DAY}.csv"
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
        assert [row["start"] for row in rows] == [row["start"] for row in answer["intervals"]]
        nine = next(row for row in rows if row["start"] == f"{DAY}T09:00:00-06:00" and row["team"] == "care")
        assert (int(nine["offered"]), float(nine["forecast"])) == (42, 36.0)  # the four Mondays before
        assert int(nine["required_agents"]) == fewest_agents(Fraction(42), Fraction(240), 1800, 0.8, 20, 0.85)
        assert {row["channel"] for row in rows} == {"voice"}
        refused = boss.evaluate(f"fetch('/inbox/api/reports/staffing?start={DAY}&end={DAY}&interval_minutes=20')"
                                ".then(async r => [r.status, (await r.json()).detail[0].loc])")
        assert refused == [422, ["query", "interval_minutes"]]
        assert dialogs == []
