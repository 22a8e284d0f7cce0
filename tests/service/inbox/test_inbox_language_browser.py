"""Chromium: an agent whose browser says es-MX reads the inbox in Spanish, switches to English, and the choice is
kept on their profile (a reload, and another browser, open it in English); the customer's words stay as written;
the language the customer writes in is named on the case and its change shown on the timeline; a French browser
gets English, and a language chosen on the login page goes on the profile."""
from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff.core.timeline import append_event
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, TimelineEvent
from tests.service.inbox.support import PASSWORD, create_agent, new_page
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service
from tests.service.support.webchat_client import Visitor

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def quiet_service(workdir: Path) -> Iterator[Service]:
    """The inbox service alone (no assistant behind it): the shared one's online agents would take the case."""
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "SECRET_KEY": "inbox-language-secret-key-0123456789"}, workdir)
    yield service
    service.stop()


def customer_writes(service: Service, text: str) -> str:
    """A webchat customer's case (the assistant is unreachable in this service: it goes to people at once)."""
    async def write() -> str:
        visitor = Visitor(service.base_url)
        await visitor.connect()
        try:
            await visitor.say(text, metadata={"language": "es"})
        finally:
            await visitor.close()
        engine = create_engine(service.database_url)
        try:
            async with session_factory(engine)() as session:
                return str(await session.scalar(select(TimelineEvent.case_id).where(TimelineEvent.text == text)))
        finally:
            await engine.dispose()
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(asyncio.run, write()).result()


def customer_switches_language(service: Service, case_id: str, language: str) -> None:
    """What the conversation service records when the customer goes on in another language (tested on its own in
    tests/service/store/test_language_switch.py): the event on the timeline and the case's language."""
    async def switch() -> None:
        engine = create_engine(service.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                case = await session.get_one(Case, case_id)
                await append_event(session, case, channel=case.channel, direction="internal", actor="bot",
                                   kind="language", text=f"{case.language} → {language}",
                                   payload={"from_language": case.language, "to_language": language})
                case.language = language
        finally:
            await engine.dispose()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, switch()).result()


def logs_in(page, base_url: str, email: str) -> None:
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")


def test_a_mexican_browser_gets_spanish_and_the_english_choice_is_kept(chromium, quiet_service: Service) -> None:
    base = quiet_service.base_url
    email = f"lupe-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(quiet_service.database_url, email, role="supervisor", teams="care", name="Lupe")
    words = f"hola, ¿me ayudan con mi pedido? {uuid.uuid4().hex[:6]}"
    case_id = customer_writes(quiet_service, words)
    dialogs: list[str] = []
    page = new_page(chromium, dialogs, locale="es-MX")

    page.goto(f"{base}/inbox")
    expect(page.locator("#login-submit")).to_have_text("Iniciar sesión")
    expect(page.locator("html")).to_have_attribute("lang", "es-MX")
    expect(page.locator("#login-locale")).to_have_value("es")
    expect(page.locator("#login-locale option")).to_have_text(["English", "Español", "Português (Brasil)"])
    logs_in(page, base, email)
    expect(page.locator("#live-state")).to_have_text("en vivo")
    expect(page.locator("#me")).to_have_text("Lupe (supervisor)")
    expect(page.locator("#tab-dashboard")).to_have_text("Panel")
    expect(page.locator("#reply-text")).to_have_attribute("placeholder", re.compile("^Responde al cliente"))
    expect(page.locator("#presence option[value=away]")).to_have_text("Ausente")
    listed = page.locator(f"#queue .case-item[data-case-id='{case_id}']")
    expect(listed.locator(".tag.language")).to_have_attribute("title", "El cliente escribe en Español")
    listed.click()
    expect(page.locator("#case-meta")).to_contain_text("en cola")
    expect(page.locator("#case-meta")).to_contain_text("Español")
    customer_switches_language(quiet_service, case_id, "pt")
    listed.click()  # the case view read again
    expect(page.locator("#case-meta")).to_contain_text("Portugués")
    expect(page.locator("#case-meta")).to_have_attribute("data-language", "pt")
    expect(page.locator("#timeline .event.kind-language .text")).to_have_text("Idioma del cliente: Español → Portugués")
    customer_event = page.locator("#timeline .event.actor-customer").last
    expect(customer_event.locator(".text")).to_have_text(words)  # the customer's words are never translated
    expect(customer_event.locator(".actor")).to_have_text("Cliente")
    expect(page.locator("#customer-body")).not_to_contain_text("null")
    shown_at = customer_event.locator(".event-head .muted").inner_text()
    assert re.search(r"\d{1,2}/\d{1,2}/\d{2}", shown_at), shown_at  # es-MX: day/month/year

    spoken = page.evaluate(r"""async () => {
        // the page's own module (its content-hashed URL): its language is Spanish now
        const url = performance.getEntriesByType("resource").map((e) => e.name)
          .find((name) => /\/inbox\/static\/i18n\.[0-9a-f]{10}\.js$/.test(name));
        const i18n = await import(url);
        return [["es-MX"], ["pt-BR", "en"], ["fr-FR", "de"], ["fr", "pt-PT"], []].map((l) => i18n.browserLocale(l))
          .concat([i18n.t("dashboard.period", { start: "a", end: "b", count: 1 }),
                   i18n.t("dashboard.period", { start: "a", end: "b", count: 3 }),
                   i18n.t("newAgent.created", {}), i18n.formatPercent(0.5), i18n.formatNumber(1234.5)]);
    }""")
    # the browser's languages to the inbox's; a plural form; a missing placeholder kept; es-MX's number marks
    assert spoken[:5] == ["es", "pt", "en", "pt", "en"]
    assert spoken[5:] == ["a – b · 1 caso", "a – b · 3 casos", "Se creó {email}", "50%", "1,234.5"], spoken

    with page.expect_response(lambda response: response.url.endswith("/inbox/api/me/locale")) as saved:
        page.select_option("#locale", "en")
    assert saved.value.status == 200 and saved.value.json()["locale"] == "en"
    expect(page.locator("#live-state")).to_have_text("live")
    expect(page.locator("#tab-dashboard")).to_have_text("Dashboard")
    expect(page.locator("#case-meta")).to_contain_text("queued")
    expect(customer_event.locator(".actor")).to_have_text("Customer")
    expect(customer_event.locator(".text")).to_have_text(words)
    expect(page.locator("html")).to_have_attribute("lang", "en-US")
    answer = page.evaluate("fetch('/inbox/api/me').then((r) => r.json())")
    assert answer["agent"]["locale"] == "en"

    page.reload()  # the browser still says es-MX; the profile says English
    expect(page.locator("#live-state")).to_have_text("live")
    expect(page.locator("#tab-inbox")).to_have_text("Inbox")
    expect(page.locator("#locale")).to_have_value("en")

    elsewhere = new_page(chromium, dialogs, locale="pt-BR")  # another browser: the login page in its language
    elsewhere.goto(f"{base}/inbox")
    expect(elsewhere.locator("#login-submit")).to_have_text("Entrar")
    logs_in(elsewhere, base, email)
    expect(elsewhere.locator("#live-state")).to_have_text("live")  # then the profile's English
    expect(elsewhere.locator("#login-locale")).to_have_value("en")

    french = new_page(chromium, dialogs, locale="fr-FR")  # a language the inbox does not speak: English
    french.goto(f"{base}/inbox")
    expect(french.locator("#login-submit")).to_have_text("Log in")
    french.select_option("#login-locale", "pt")  # chosen before logging in: it goes on the profile
    expect(french.locator("#login-submit")).to_have_text("Entrar")
    with french.expect_response(lambda response: response.url.endswith("/inbox/api/me/locale")) as saved:
        logs_in(french, base, email)
    assert saved.value.json()["locale"] == "pt"
    expect(french.locator("#live-state")).to_have_text("ao vivo")
    expect(french.locator("#me")).to_have_text("Lupe (supervisor)")
    expect(french.locator("#supervisor h2")).to_have_text("Supervisão")
    french.context.clear_cookies()  # the session is gone: the next request is refused in the agent's language
    with french.expect_response(lambda response: response.url.endswith("/inbox/api/me/phone")) as refused:
        french.click("#my-phone-form button[type=submit]")
    assert refused.value.status == 401  # waited for (a loaded machine answered after expect's 5 s)
    expect(french.locator("#my-phone-result")).to_have_text("Sua sessão terminou: entre novamente.")
    assert dialogs == []
    for opened in (page, elsewhere, french):
        opened.context.close()
