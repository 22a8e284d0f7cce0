"""Chromium: a supervisor finds this week's sampled case in the QA queue, reads the whole conversation (the
assistant on the website and WhatsApp, the agent on the phone), scores it against operations.yml's scorecard and
sees the total; a quality reviewer (the reviewer role) scores it too and reads their agreement, and is refused the
inbox's own case reads; the agent logs in, opens Quality from the inbox, reads both scores and the comments (text,
never markup), and may not open the reviewers' queue. No assistant runs (its port is closed)."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Agent, utcnow
from tests.service.inbox.support import PASSWORD, agent_logs_in, create_agent, new_page
from tests.service.reports.qa_cases import three_channel_case
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
SCORES = {"greeting": "3", "context": "4", "resolution": "2", "tone": "4", "identity_verified": "4"}
# weights 1, 2, 3, 1, 1 on a 0–4 scale: (3 + 8 + 6 + 4 + 4) / 32 = 78.125
TOTAL = "78.1"


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[Service]:
    running = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "qa-browser-secret-0123456789abcdef",
                             "INBOX_LOGIN_ATTEMPTS": "1000"}, workdir)
    yield running
    running.stop()


def seeded_case(database_url: str, agent_email: str) -> str:
    """The three-channel case, handed off and taken by the agent now (so it is in this week's sample)."""
    async def seed() -> str:
        engine = create_engine(database_url)
        async with session_factory(engine)() as session, session.begin():
            agent = await session.scalar(select(Agent).where(Agent.email == agent_email))
            assert agent is not None
            case, _ = await three_channel_case(session, agent, utcnow())
        await engine.dispose()
        return case.id
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, seed()).result()


def test_a_reviewer_scores_a_three_channel_case_and_the_agent_reads_the_score(browser: Any,
                                                                              service: Service) -> None:
    suffix = uuid.uuid4().hex[:6]
    agent_email, reviewer_email = f"ana-{suffix}@example.com", f"rosa-{suffix}@example.com"
    create_agent(service.database_url, agent_email, name="Ana Care")
    create_agent(service.database_url, reviewer_email, role="supervisor", name="Rosa Review")
    create_agent(service.database_url, f"second-{suffix}@example.com", role="reviewer", name="Second Look")
    case_id = seeded_case(service.database_url, agent_email)
    dialogs: list[str] = []

    reviewer = new_page(browser, dialogs, locale="es-MX")  # the scorecard in the reader's language
    reviewer.goto(f"{service.base_url}/inbox/qa")
    reviewer.fill("#qa-email", reviewer_email)
    reviewer.fill("#qa-password", PASSWORD)
    reviewer.click("#qa-submit")
    row = reviewer.locator('[data-table="qa-queue"] tr', has=reviewer.locator(f'[data-score="{case_id}"]'))
    expect(row).to_contain_text("Ana Care")
    expect(row).to_contain_text("voice, webchat, whatsapp")
    expect(row).to_contain_text("sample")
    row.locator("button").click()

    transcript = reviewer.locator("#qa-transcript")
    expect(transcript.locator(".event.kind-message")).to_have_count(5)
    assert sorted(set(transcript.locator(".event").evaluate_all("els => els.map(e => e.dataset.channel)"))) == [
        "voice", "webchat", "whatsapp"]
    expect(transcript.locator(".event.kind-message.actor-bot .text").last).to_have_text("Te paso con una persona.")
    expect(transcript.locator(".event.kind-message.actor-agent .text")).to_have_text(
        "Hola Lucía, soy Ana; ya veo tu pedido 100077.")
    expect(reviewer.locator("#qa-criteria tr").first).to_contain_text("Saludo y presentación")  # es-MX: Spanish labels
    for key, value in SCORES.items():
        reviewer.select_option(f'#qa-criteria select[data-criterion="{key}"]', value)
    reviewer.fill('#qa-criteria input[data-comment="resolution"]', f"{XSS} faltó confirmar la fecha")
    reviewer.fill("#qa-comment", "Buen uso del contexto del asistente.")
    expect(reviewer.locator("#qa-save")).to_have_text("Guardar evaluación")  # the page's words from es.json
    reviewer.click("#qa-save")
    expect(reviewer.locator("#qa-result")).to_have_text(f"Tu total: {TOTAL}")  # es-MX
    expect(reviewer.locator('[data-table="qa-reviews"] tbody tr')).to_have_count(1)
    expect(reviewer.locator('[data-table="qa-reviews"] tbody')).to_contain_text("Rosa Review")
    expect(reviewer.locator('[data-table="qa-agents"] tbody')).to_contain_text(TOTAL)
    expect(reviewer.locator('[data-table="qa-agreement"]')).to_have_count(0)  # one reviewer: nothing to agree on

    second = new_page(browser, dialogs)  # a quality reviewer (the role) scores the same case a little higher
    second.goto(f"{service.base_url}/inbox/qa")
    second.fill("#qa-email", f"second-{suffix}@example.com")
    second.fill("#qa-password", PASSWORD)
    second.click("#qa-submit")
    second.click(f'[data-score="{case_id}"]')
    for key, value in {**SCORES, "resolution": "3"}.items():
        second.select_option(f'#qa-criteria select[data-criterion="{key}"]', value)
    second.click("#qa-save")
    expect(second.locator("#qa-result")).to_have_text("Your total: 87.5")  # (3 + 8 + 9 + 4 + 4) / 32
    agreed = second.locator('[data-table="qa-agreement"] tbody tr')
    expect(agreed).to_have_count(1)
    expect(agreed.locator("td")).to_have_text(["Rosa Review / Second Look", "4/5", "0.8", "9.4"])
    inbox_reads = second.evaluate(f"""async () => [(await fetch('/inbox/api/queue')).status,
                                                  (await fetch('/inbox/api/cases/{case_id}')).status]""")
    assert inbox_reads == [403, 403]  # a reviewer reads cases through the quality review only

    agent = new_page(browser, dialogs)
    agent_logs_in(agent, service.base_url, agent_email)
    agent.click("#qa-link")
    reviews = agent.locator(f'#qa-mine .qa-own[data-case="{case_id}"]')
    expect(reviews.locator(".qa-total")).to_have_text(["87.5", TOTAL])  # both reviews of her case, newest first
    own = reviews.filter(has_text="Rosa Review")
    expect(own.locator(".qa-total")).to_have_text(TOTAL)
    expect(own.locator('[data-criterion="resolution"]')).to_have_text(
        f"Resolved it or left a clear next step: 2/4 — {XSS} faltó confirmar la fecha")  # en-US
    expect(agent.locator("#qa-mine h2")).to_have_text("My scores")
    expect(own.locator(".qa-overall")).to_have_text("Buen uso del contexto del asistente.")
    assert own.locator("img").count() == 0
    expect(agent.locator("#qa-reviewer")).to_be_hidden()
    refused = agent.evaluate("async () => (await fetch('/inbox/api/qa/queue')).status")
    other = agent.evaluate(f"async () => (await fetch('/inbox/api/qa/cases/{case_id}')).status")
    assert (refused, other) == (403, 403)
    assert dialogs == []
