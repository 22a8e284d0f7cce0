"""Chromium: the customer page with cases from three channels (webchat, WhatsApp, voice), reached by its URL and from
a case; earlier messages, the WhatsApp opt-out, a merge by id and its undo; the customer's text stays text."""
from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from handoff.core.customers import resolve_contact
from handoff.store.models import Identity
from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.inbox.test_merge_browser import in_database
from tests.service.support.axe import blocking, scrolls_sideways
from tests.service.support.merging import Sessions, case_with_events

pytestmark = [pytest.mark.browser]
XSS = "<img src=x onerror=alert(1)>"


def test_a_supervisor_opens_the_customer_page_with_cases_from_three_channels(chromium, inbox_service) -> None:
    tag = str(random.randint(100000, 999999))

    async def seed(sessions: Sessions) -> dict[str, Any]:
        async with sessions() as session, session.begin():
            ana = (await resolve_contact(session, "whatsapp", f"+5255{tag}01", verified=True, verified_by="whatsapp",
                                         display_name=f"{XSS} {tag}")).customer
            ana.facts = {"order_number": f"9{tag}"}
            session.add(Identity(customer_id=ana.id, kind="crm", value=f"CRM-{tag}"))
            web = await case_with_events(session, ana, "webchat", "resolved", team="care", age_hours=30,
                                         texts=("hola por la web", XSS))
            whatsapp = await case_with_events(session, ana, "whatsapp", "resolved", team="care", age_hours=20,
                                              texts=tuple(f"mensaje {n}" for n in range(55)))
            voice = await case_with_events(session, ana, "voice", "bot", texts=("llamé por teléfono",))
            other = (await resolve_contact(session, "webchat", f"visitor-{tag}",
                                           display_name=f"Visitante {tag}")).customer
            await case_with_events(session, other, "webchat", "resolved", team="care", texts=("soy yo",))
        return {"ana": ana.id, "other": other.id, "web": web.id, "whatsapp": whatsapp.id, "voice": voice.id}

    seeded = in_database(inbox_service.database_url, seed)
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(inbox_service.database_url, email, role="supervisor", teams="care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs, bypass_csp=True, viewport={"width": 1280, "height": 720})  # CSP: axe
    agent_logs_in(page, inbox_service.base_url, email)
    page.fill("#search-q", f"55 {tag}01")  # the search box finds them by their phone, as written locally…
    page.locator("#search-submit").click()
    page.locator(f"#search-results [data-customer-id='{seeded['ana']}'] .customer-page-link").click()
    view = page.locator("#customer-view")
    expect(view).to_be_visible()
    page.locator("#cp-back").click()
    expect(view).to_be_hidden()
    page.goto(f"{inbox_service.base_url}/inbox#/customers/{seeded['ana']}")  # … and their page has its URL
    expect(view).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("#cp-name")).to_have_text(f"{XSS} {tag}")  # as text
    expect(page.locator("#cp-identities")).to_contain_text(f"crm: CRM-{tag} · not verified")
    expect(page.locator("#cp-identities")).to_contain_text("verified (whatsapp)")
    expect(page.locator("#cp-facts")).to_contain_text(f"order_number: 9{tag}")
    assert blocking(page) == [], "customer page"  # axe-core: no serious or critical violation
    assert not scrolls_sideways(page)
    cases = view.locator(".cp-case")
    expect(cases).to_have_count(3)
    for case, channel in zip(("voice", "whatsapp", "web"), ("voice", "whatsapp", "webchat"), strict=True):
        section = view.locator(f".cp-case[data-case-id='{seeded[case]}']")
        expect(section.locator("h3")).to_contain_text(channel)
    web = view.locator(f".cp-case[data-case-id='{seeded['web']}']")
    expect(web.locator(".event .text").last).to_have_text(XSS)
    expect(web.locator("img")).to_have_count(0)
    whatsapp = view.locator(f".cp-case[data-case-id='{seeded['whatsapp']}']")
    expect(whatsapp.locator(".event")).to_have_count(50)
    whatsapp.locator(".cp-earlier").click()
    expect(whatsapp.locator(".event")).to_have_count(55)
    expect(whatsapp.locator(".event .text").first).to_have_text("mensaje 0")
    expect(whatsapp.locator(".cp-earlier")).to_be_hidden()

    page.locator("#cp-consent-btn").click()  # recorded on the open (voice) case
    expect(page.locator("#cp-consent-state")).to_have_attribute("data-opted-out", "true")
    expect(view.locator(f".cp-case[data-case-id='{seeded['voice']}'] .kind-consent")).to_have_count(1)

    page.fill("#cp-merge-other", seeded["other"])
    page.locator("#cp-merge-form button[type=submit]").click()
    expect(cases).to_have_count(4)
    merge = page.locator("#cp-merges li")
    expect(merge).to_have_count(1)
    expect(merge).to_contain_text(f"Merged with Visitante {tag}")
    merge.locator(".undo-merge-btn").click()
    expect(merge.locator(".tag")).to_contain_text("undone")
    expect(cases).to_have_count(3)

    view.locator(f".cp-case[data-case-id='{seeded['voice']}'] .cp-open-case").click()
    expect(view).to_be_hidden()
    expect(page.locator("#case")).to_be_visible()
    expect(page.locator("#case-title")).to_have_text(f"{XSS} {tag}")
    page.locator("#customer-page-link").click()
    expect(view).to_be_visible()
    expect(cases).to_have_count(3)
    page.set_viewport_size({"width": 800, "height": 1280})  # a 10-inch tablet, upright
    assert not scrolls_sideways(page)
    page.locator("#cp-back").click()
    expect(view).to_be_hidden()
    expect(page.locator("#workspace")).to_be_visible()
    assert dialogs == []


def test_a_supervisor_dry_runs_then_imports_a_contacts_csv(chromium, inbox_service, tmp_path) -> None:
    tag = str(random.randint(100000, 999999))
    csv = tmp_path / "contacts.csv"
    csv.write_text("name;phone;crm_id\n"  # semicolons, as a Spanish spreadsheet writes them
                   f"Nueva {tag};55 77{tag};IMP-{tag}-1\n"
                   f"Nueva {tag};+52 55 77{tag};IMP-{tag}-1\n"  # the same customer again
                   f"Otra {tag};55 66{tag};IMP-{tag}-2\n"
                   f"Otra {tag};55 65{tag};IMP-{tag}-2\n"  # the same crm_id with another phone
                   f"{XSS};12;IMP-{tag}-3\n", encoding="utf-8")
    email = f"sup-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(inbox_service.database_url, email, role="supervisor", teams="care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, inbox_service.base_url, email)
    page.set_input_files("#import-file", str(csv))
    expect(page.locator("#import-run")).to_be_disabled()
    page.locator("#import-dry").click()
    expect(page.locator("#import-result")).to_have_text(
        "Dry run, nothing written · new 1 · matched 1 · conflict 2 · invalid 1")
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text(f"crm_id IMP-{tag}-2 with two phones")
    expect(problems.nth(2)).to_contain_text("phone '12' is not a phone number")

    async def customers(sessions: Sessions) -> int:
        async with sessions() as session:
            return len(list(await session.scalars(select(Identity.id).where(Identity.value.like(f"IMP-{tag}-%")))))

    assert in_database(inbox_service.database_url, customers) == 0  # the dry run wrote nothing
    page.locator("#import-run").click()
    expect(page.locator("#import-result")).to_have_text(
        "Imported: 1 created, 0 updated · new 1 · matched 1 · conflict 2 · invalid 1")
    expect(page.locator("#import-run")).to_be_disabled()
    assert in_database(inbox_service.database_url, customers) == 1
    assert dialogs == []
