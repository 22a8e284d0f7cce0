"""Chromium at /inbox/reports: a supervisor tags a transition, a designer annotates the utterance, and the
downloaded YAML passes `rasa data validate` in a copy of the project. (The KPI dashboard is a view of /inbox:
test_dashboard_browser.py.)"""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import PASSWORD, create_agent
from tests.service.support.processes import REPO
from tests.service.support.webchat_client import Visitor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]  # e2e: `rasa data validate`


def customer_writes(base_url: str, words: str) -> None:
    async def talk() -> None:
        visitor = Visitor(base_url)
        await visitor.connect()
        await visitor.say(words, metadata={"language": "es"})  # no assistant behind: handed to people
        await visitor.close()
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, talk()).result()


def logged_in_page(chromium, service, role: str):
    base_url = service.base_url
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    create_agent(service.database_url, email, role=role)
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{base_url}/inbox/reports")
    page.fill("#r-email", email)
    page.fill("#r-password", PASSWORD)
    page.click("#r-submit")
    expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    return page


def test_supervisor_tags_designer_annotates_and_the_yaml_validates(inbox_service, chromium, tmp_path: Path,
                                                                  rasa_cli: Path) -> None:
    words = f"me cobraron doble el envio {uuid.uuid4().hex[:5]}"
    customer_writes(inbox_service.base_url, words)

    boss = logged_in_page(chromium, inbox_service, "supervisor")
    expect(boss.locator("#r-dashboard")).to_have_attribute("href", "/inbox#dashboard")
    with boss.expect_download() as csv_download:
        boss.click("button[data-csv='transitions']")
    assert words in csv_download.value.path().read_text()
    row = boss.locator("[data-table=transitions] tr", has_text=words).first
    row.locator("select").select_option("should have been contained")
    row.locator("input").fill("refund FAQ")
    row.locator("button").click()
    expect(boss.locator("[data-table=transitions] tr", has_text=words).first).to_contain_text("refund FAQ")

    designer = logged_in_page(chromium, inbox_service, "designer")
    sample = designer.locator("[data-table=samples] tr", has_text=words).first
    sample.locator("input").fill("order_status")
    sample.locator("button[data-save]").click()
    expect(designer.locator("[data-table=samples] tr", has_text=words)).to_have_count(0)
    with designer.expect_download() as yaml_download:
        designer.click("#r-download")
    exported = yaml_download.value.path().read_text()
    assert words in exported

    root = tmp_path / "project"
    shutil.copytree(REPO / "bot" / "data", root / "bot" / "data")
    for name in ("config.yml", "domain.yml"):
        shutil.copy(REPO / name, root / name)
    (root / "bot" / "data" / "nlu" / "reviewed.yml").write_text(exported)
    result = subprocess.run([str(rasa_cli), "data", "validate", "--fail-on-warnings",
                             "--config", "config.yml", "--domain", "domain.yml", "--data", "bot/data"],
                            cwd=root, capture_output=True, text=True, timeout=600,
                            env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
