"""Agents open the files customers send on WhatsApp: only for cases they may read, never as a page."""
from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from handoff.channels.whatsapp.media import agent_media, serving
from tests.service.inbox.support import AgentClient, agent_logs_in, create_agent, new_page
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.polling import until
from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service
from tests.service.support.whatsapp_webhooks import APP_SECRET, messages_webhook, post_signed

PHOTO = b"\xff\xd8\xff\xe0 a photo of a broken parcel"


def _png(width: int, height: int) -> bytes:
    """A real PNG, so the browser test can tell a picture that loaded from one that did not."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def test_only_harmless_types_are_shown_inline() -> None:
    assert serving("image/jpeg", None) == ("image/jpeg", "inline")
    assert serving("audio/ogg; codecs=opus", None) == ("audio/ogg", "inline")
    assert serving("image/svg+xml", "x.svg") == ("application/octet-stream", 'attachment; filename="x.svg"')
    assert serving("text/html", '"; evil=1.html')[1] == 'attachment; filename="evil1.html"'
    stored = {"id": "meta-id", "path": "ab/abcd.jpg", "mime_type": "image/jpeg", "size": 3, "sha256": "abcd"}
    view = agent_media(stored, None, "/inbox/api/events/1/media")
    assert view == {"mime_type": "image/jpeg", "size": 3, "filename": None, "inline": True,
                    "url": "/inbox/api/events/1/media", "error": None}
    failed = agent_media({"id": "meta-id", "mime_type": "audio/ogg"}, "sha256 mismatch", "/x")
    assert failed["url"] is None and failed["inline"] is False and failed["error"] == "sha256 mismatch"
    assert agent_media(None, None, "/x") is None


@pytest.fixture(scope="module")
def service(graph: GraphStandIn, workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The assistant is unreachable, so each WhatsApp message is handed to the care team at once."""
    started = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_TIMEOUT_SECONDS": "2",
                             "BOT_RETRIES": "0", "INBOX_LOGIN_ATTEMPTS": "1000", "WHATSAPP_APP_SECRET": APP_SECRET,
                             "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_ACCESS_TOKEN": TOKEN,
                             "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_BASE": graph.base_url,
                             "MEDIA_DIR": str(tmp_path_factory.mktemp("media"))}, workdir)
    yield started
    started.stop()


async def _events_with_files(agent: AgentClient, wamids: set[str], timeout: float = 60) -> list[dict]:
    """The queued WhatsApp case's events that carry a file, once both files arrived."""
    async def arrived() -> list[dict]:
        for item in (await agent.get("/queue")).json():
            case = (await agent.get(f"/cases/{item['id']}")).json()
            found = [e for e in case["events"] if e.get("media")]
            if len(found) == len(wamids):
                return found
        return []
    return await until(arrived, "the files reached the inbox", timeout, interval=0.1)


async def test_agents_of_the_case_open_files_others_and_strangers_do_not(service: Service, graph: GraphStandIn) -> None:
    care, fraud = f"care-{uuid.uuid4().hex[:6]}@example.com", f"fraud-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, care, teams="care")
    create_agent(service.database_url, fraud, teams="fraud")
    photo_sha = graph.add_media("photo-1", PHOTO, "image/jpeg")
    svg_sha = graph.add_media("svg-1", SVG, "image/svg+xml")
    body = messages_webhook(
        {"id": "wamid.PHOTO", "type": "image", "image": {"id": "photo-1", "mime_type": "image/jpeg",
                                                          "sha256": photo_sha, "caption": "llego roto"}},
        {"id": "wamid.SVG", "type": "document", "document": {"id": "svg-1", "mime_type": "image/svg+xml",
                                                              "sha256": svg_sha, "filename": "factura.svg"}})
    assert post_signed(service.base_url, body).status_code == 200

    agent, other = AgentClient(service.base_url), AgentClient(service.base_url)
    try:
        assert (await agent.login(care)).status_code == 200
        assert (await other.login(fraud)).status_code == 200
        photo_event, svg_event = await _events_with_files(agent, {"wamid.PHOTO", "wamid.SVG"})
        assert "path" not in photo_event["media"] and photo_event["media"]["inline"] is True
        assert svg_event["media"]["filename"] == "factura.svg" and svg_event["media"]["inline"] is False

        photo = await agent.http.get(photo_event["media"]["url"])
        assert photo.status_code == 200 and photo.content == PHOTO
        assert photo.headers["content-type"] == "image/jpeg" and photo.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in photo.headers["content-security-policy"]
        svg = await agent.http.get(svg_event["media"]["url"])
        assert svg.status_code == 200 and svg.content == SVG
        assert svg.headers["content-type"] == "application/octet-stream"
        assert svg.headers["content-disposition"] == 'attachment; filename="factura.svg"'

        assert (await other.http.get(photo_event["media"]["url"])).status_code == 403
        assert (await AgentClient(service.base_url).http.get(photo_event["media"]["url"])).status_code == 401
        text_only = next(e for e in (await agent.get(f"/cases/{photo_event['case_id']}")).json()["events"]
                         if not e.get("media"))
        assert (await agent.http.get(f"/inbox/api/events/{text_only['id']}/media")).status_code == 404
    finally:
        await agent.close()
        await other.close()


@pytest.mark.browser
def test_the_inbox_shows_the_picture_and_offers_other_files_as_downloads(service: Service, graph: GraphStandIn,
                                                                           chromium) -> None:
    email = f"care-{uuid.uuid4().hex[:6]}@example.com"
    create_agent(service.database_url, email, role="supervisor", teams="care")
    customer = "5215512345678"
    png_sha = graph.add_media("png-1", _png(3, 2), "image/png")
    svg_sha = graph.add_media("svg-2", SVG, "image/svg+xml")
    body = messages_webhook(
        {"from": customer, "id": f"wamid.{uuid.uuid4().hex}", "type": "image",
         "image": {"id": "png-1", "mime_type": "image/png", "sha256": png_sha}},
        {"from": customer, "id": f"wamid.{uuid.uuid4().hex}", "type": "document",
         "document": {"id": "svg-2", "mime_type": "image/svg+xml", "sha256": svg_sha, "filename": "recibo.svg"}})
    assert post_signed(service.base_url, body).status_code == 200
    dialogs: list[str] = []
    page = new_page(chromium, dialogs)
    agent_logs_in(page, service.base_url, email)
    items = page.locator(".case-item", has_text="whatsapp")
    expect(items.first).to_be_visible(timeout=60_000)
    download = page.locator("#timeline .media-link", has_text="recibo.svg")
    for _ in range(60):  # this customer's case, among the queued WhatsApp cases of other tests
        for index in range(items.count()):
            items.nth(index).click()
            page.wait_for_timeout(300)
            if download.count():
                break
        if download.count():
            break
        page.wait_for_timeout(500)
    expect(download).to_be_visible()
    picture = page.locator("#timeline .media-image")
    expect(picture).to_have_count(1)
    size = [0, 0]
    for _ in range(100):  # until the browser fetched it with the agent's cookie and decoded it
        size = picture.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        if size != [0, 0]:
            break
        page.wait_for_timeout(100)
    assert size == [3, 2]
    assert page.locator("#timeline img").count() == 1 and page.locator("#timeline svg").count() == 0
    assert dialogs == []
    page.context.close()
