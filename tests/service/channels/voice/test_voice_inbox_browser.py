"""Chromium: a call handed to an agent shows as one card on the case's timeline and in the side panel, with
direction, time, duration, status, agent, a recording player and the transcript (all as text)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.service.inbox.support import agent_logs_in, create_agent, new_page
from tests.service.support.chromium import launched_chromium
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service
from tests.service.support.twilio_calls import AUTH_TOKEN, call_params, post_twilio_sync

pytestmark = pytest.mark.browser
VOICE = "/webhooks/twilio/voice"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def service(workdir: Path) -> Iterator[Service]:
    """No Rasa behind it: the call's handoff comes from silence, no model needed."""
    started = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
                             "SECRET_KEY": "voice-browser-secret-0123456789abcdef", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                             "INBOX_LOGIN_ATTEMPTS": "1000"}, workdir)
    yield started
    started.stop()


def twilio(service: Service, path: str, sid: str, **params: str) -> str:
    response = post_twilio_sync(service.base_url, path, call_params(sid, **params))
    assert response.status_code == 200, response.text
    return response.text


def test_a_handed_off_call_is_one_card_with_player_and_transcript(chromium, service: Service) -> None:
    email = f"luz-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, role="agent", teams="care", name="Luz Care")
    dialogs: list[str] = []
    page = new_page(chromium, dialogs, viewport={"width": 1400, "height": 1000})
    agent_logs_in(page, service.base_url, email)

    sid = "CA00000000000000000000000000000b01"
    twilio(service, VOICE, sid, CallStatus="ringing")
    twilio(service, f"{VOICE}/gather", sid)
    assert "<Enqueue" in twilio(service, f"{VOICE}/gather", sid)  # silence twice: to a person of care
    twilio(service, f"{VOICE}/queue", sid, QueueResult="bridged", QueueTime="12")
    twilio(service, f"{VOICE}/status", sid, CallStatus="completed", CallDuration="125")
    twilio(service, f"{VOICE}/recording", sid, RecordingSid="RE1", RecordingStatus="completed",
           RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1.mp3", RecordingDuration="118")
    twilio(service, f"{VOICE}/transcription", sid, TranscriptionSid="TR1", TranscriptionStatus="completed",
           TranscriptionText=f"Quiero cambiar mi direccion {XSS}")

    case_item = page.locator("#mine .case-item").first
    expect(case_item).to_be_visible(timeout=30_000)
    expect(case_item).to_contain_text("voice")
    case_item.click()
    cards = page.locator("#timeline .call-card")
    expect(cards).to_have_count(1)  # started, queued, connected, ended, recording, transcript: one card
    card = cards.first
    expect(card).to_contain_text("Incoming call · completed")
    expect(card).to_contain_text("2m 5s")
    expect(card).to_contain_text("Luz Care")
    expect(card.locator("audio")).to_have_attribute(
        "src", "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1.mp3")
    expect(card.locator(".transcript")).to_have_text(f"Quiero cambiar mi direccion {XSS}")
    expect(page.locator("#calls-body .call-card")).to_have_count(1)
    expect(page.locator("#timeline")).not_to_contain_text("not_spoken")  # everything said was spoken
    assert page.locator("#timeline img").count() == 0 and dialogs == []
    page.screenshot(path=str(Path(service.process.log_path).with_suffix(".png")), full_page=True)
    page.context.close()
