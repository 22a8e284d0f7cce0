"""Chromium tests of our webchat widget (widget/ → /widget/widget.js) against the running front door service.

The service and the assistant are real (fixtures `live_service` and `service_factory` from tests/service/conftest.py):
these tests show what a customer sees.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("widget_js")]

HOST = "handoff-webchat"
LAUNCHER = f"{HOST} .launcher"
PANEL = f"{HOST} [role=dialog]"
LOG = f"{HOST} [role=log]"
INPUT = f"{HOST} textarea"
CUSTOMER = f"{LOG} .msg.customer .bubble"
BOT = f"{LOG} .msg.bot .bubble, {LOG} .msg.agent .bubble"
QUICK_REPLY = f"{LOG} .quick-replies button"
FOCUSED = "document.querySelector('handoff-webchat').shadowRoot.activeElement"

SPANISH = re.compile(r"[¡¿áéíóúñ]|\b(hola|buen[oa]s?|bienvenid[oa]|ayud|puedo|asistente|gracias)\b", re.I)


def open_demo(page, base_url: str):
    page.goto(f"{base_url}/")
    expect(page.locator(LAUNCHER)).to_be_visible()
    return page


def open_chat(page):
    launcher = page.locator(LAUNCHER)
    if launcher.get_attribute("aria-expanded") != "true":
        launcher.click()
    expect(page.locator(PANEL)).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")


def say(page, text: str):
    box = page.locator(INPUT)
    box.fill(text)
    box.press("Enter")


def bot_count(page) -> int:
    return page.locator(BOT).count()


def wait_for_bot_after(page, before: int, timeout: float = 30_000):
    """Waits until more than `before` bot/agent bubbles are shown."""
    page.wait_for_function(
        "n => document.querySelector('handoff-webchat').shadowRoot"
        ".querySelectorAll('.msg.bot .bubble, .msg.agent .bubble').length > n",
        arg=before,
        timeout=timeout,
    )


def session_id(page) -> str | None:
    return page.evaluate("() => window.HandoffWebchat && window.HandoffWebchat.sessionId")


def stored_session_id(page) -> str | None:
    return page.evaluate(
        "() => { for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i);"
        " if (k.startsWith('handoff-webchat:')) return localStorage.getItem(k); } return null; }"
    )


def test_demo_page_is_accessible_and_in_spanish(page, live_service):
    open_demo(page, live_service.base_url)
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_contain_text("Chatea con nosotros")
    assert launcher.evaluate("e => e.tagName") == "BUTTON"
    expect(page.locator(PANEL)).to_be_hidden()

    # Keyboard: Enter on the focused launcher opens the dialog and moves focus to the text box.
    launcher.focus()
    page.keyboard.press("Enter")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(page.locator(LOG)).to_have_attribute("aria-live", "polite")
    expect(page.locator(INPUT)).to_have_attribute("placeholder", "Escribe tu mensaje…")
    expect(page.locator(f"{HOST} .composer button")).to_have_text("Enviar")
    assert page.evaluate(f"() => {FOCUSED}.tagName") == "TEXTAREA"
    labelled_by = panel.get_attribute("aria-labelledby")
    expect(page.locator(f"{HOST} #{labelled_by}")).to_have_text("Atención al cliente")

    # Escape closes it and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.evaluate(f"() => {FOCUSED}.className") == "launcher"
    assert not page.page_errors


def test_send_and_receive_the_bot_reply(page, live_service):
    open_demo(page, live_service.base_url)
    open_chat(page)
    say(page, "hola")
    expect(page.locator(CUSTOMER).last).to_have_text("hola")
    wait_for_bot_after(page, 0)
    reply = page.locator(BOT).first.inner_text()
    assert reply.strip(), "the assistant's reply is empty"
    assert SPANISH.search(reply), f"expected a Spanish greeting, got {reply!r}"
    sid = session_id(page)
    assert sid and len(sid) >= 16, f"session id {sid!r} does not look server-issued and unguessable"
    assert stored_session_id(page) == sid
    assert not page.page_errors


# What the assistant answers with buttons: an order number the demo backend does not know gets
# utter_offer_human ("Sí" / "No", bot/data/rules.yml); the rest are fallbacks should the rules change.
QUICK_REPLY_PROMPTS = ("donde esta mi pedido 999999", "hola", "/order_status", "999998", "/out_of_scope")


def _trigger_quick_replies(page) -> list[str]:
    """Talks to the assistant until it offers quick replies; returns what it said if it never does."""
    said: list[str] = []
    for text in QUICK_REPLY_PROMPTS:
        before = bot_count(page)
        say(page, text)
        try:
            wait_for_bot_after(page, before, timeout=20_000)
        except Exception:  # no answer any more (e.g. the case went to people): stop asking
            break
        page.wait_for_timeout(500)  # a turn can be several bot_uttered events
        said += page.locator(BOT).all_inner_texts()[before:]
        if page.locator(QUICK_REPLY).count() and page.locator(QUICK_REPLY).first.is_enabled():
            return []
    return said or ["(nothing)"]


def test_quick_reply_is_a_button_sent_once(page, live_service):
    open_demo(page, live_service.base_url)
    open_chat(page)
    said = _trigger_quick_replies(page)
    assert not said, f"the assistant never offered quick replies; it said {said!r}"
    buttons = page.locator(QUICK_REPLY)
    # The last button of the open group ("No" to the offer of a person keeps the case with the assistant).
    chosen = page.locator(f"{LOG} .quick-replies").last.locator("button").last
    title = chosen.inner_text().strip()
    assert chosen.evaluate("e => e.tagName") == "BUTTON"
    before = bot_count(page)
    chosen.click()
    # The customer's bubble shows the title; the payload went to the server and got an answer.
    expect(page.locator(CUSTOMER).last).to_have_text(title)
    wait_for_bot_after(page, before)
    # Used buttons cannot be sent again.
    for i in range(buttons.count()):
        b = buttons.nth(i)
        if b.is_visible():
            expect(b).to_be_disabled()
    expect(chosen).to_have_attribute("aria-pressed", "true")
    # The transcript keeps what the customer clicked (the title), not the payload.
    page.reload()
    open_chat(page)
    expect(page.locator(CUSTOMER).filter(has_text=re.compile(rf"^{re.escape(title)}$"))).to_have_count(1)


def test_reload_keeps_the_session_and_shows_history(page, live_service):
    open_demo(page, live_service.base_url)
    open_chat(page)
    say(page, "hola")
    wait_for_bot_after(page, 0)
    before = bot_count(page)
    say(page, "a que hora abren?")
    wait_for_bot_after(page, before)
    sid = session_id(page)
    customer_before = page.locator(CUSTOMER).all_inner_texts()
    bot_before = page.locator(BOT).all_inner_texts()

    page.reload()
    expect(page.locator(LAUNCHER)).to_be_visible()
    # The stored id is offered back and the server confirms the same session...
    page.wait_for_function("sid => window.HandoffWebchat && window.HandoffWebchat.sessionId === sid", arg=sid)
    open_chat(page)
    # ...and sends the conversation so far, which the widget shows again in order.
    expect(page.locator(CUSTOMER)).to_have_text(customer_before)
    expect(page.locator(BOT)).to_have_text(bot_before)
    assert customer_before[:2] == ["hola", "a que hora abren?"]

    # The conversation goes on in the same session.
    before = bot_count(page)
    say(page, "hola")
    wait_for_bot_after(page, before)
    assert session_id(page) == sid == stored_session_id(page)


def test_unknown_stored_session_gets_a_new_one(page, live_service):
    open_demo(page, live_service.base_url)
    page.evaluate(
        "() => { for (let i = 0; i < localStorage.length; i++) localStorage.removeItem(localStorage.key(i));"
        " localStorage.setItem('handoff-webchat:' + location.origin + ':session', 'forged-or-expired-id'); }"
    )
    page.reload()
    open_chat(page)
    page.wait_for_function("() => window.HandoffWebchat.sessionId"
                           " && window.HandoffWebchat.sessionId !== 'forged-or-expired-id'")
    assert stored_session_id(page) == session_id(page)
    expect(page.locator(f"{LOG} .msg")).to_have_count(0)


def test_customer_text_is_never_html(page, live_service):
    payload = '<img src=x onerror="alert(1);window.__xss=1">'
    open_demo(page, live_service.base_url)
    open_chat(page)
    say(page, payload)
    expect(page.locator(CUSTOMER).last).to_have_text(payload)
    wait_for_bot_after(page, 0)
    assert page.locator(f"{LOG} img[src=x]").count() == 0
    # After a reload the same text comes back from the server's history: still text.
    page.reload()
    open_chat(page)
    expect(page.locator(CUSTOMER).first).to_have_text(payload)
    assert page.locator(f"{LOG} img[src=x]").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None
    assert not page.dialogs


def test_styles_do_not_leak_either_way(page, live_service):
    # A hostile page stylesheet must not restyle the widget; the widget's CSS must not restyle the page.
    html = """<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
      * { color: rgb(255, 0, 0) !important; font-family: serif !important; }
      button { background: rgb(0, 255, 0) !important; }
    </style></head><body>
      <button id="page-button" class="launcher">page button</button>
      <div class="panel" id="page-panel">page panel</div>
      <script src="/widget/widget.js" data-lang="en"></script>
    </body></html>"""
    page.route(f"{live_service.base_url}/__browser_test__/styles.html",
               lambda r: r.fulfill(body=html, content_type="text/html"))
    page.goto(f"{live_service.base_url}/__browser_test__/styles.html")
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_contain_text("Chat with us")
    style = launcher.evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color, s.fontFamily, s.position]; }")
    assert style[0] != "rgb(0, 255, 0)" and style[1] != "rgb(255, 0, 0)" and style[2] != "serif", style
    assert style[3] == "fixed"
    page_button = page.locator("#page-button").evaluate(
        "e => [getComputedStyle(e).position, getComputedStyle(e).backgroundColor]")
    assert page_button == ["static", "rgb(0, 255, 0)"]
    assert page.locator("#page-panel").evaluate("e => getComputedStyle(e).position") == "static"


def test_phone_sized_screen_gets_a_full_screen_panel(browser, live_service):
    ctx = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True, locale="es-ES")
    try:
        page = ctx.new_page()
        open_demo(page, live_service.base_url)
        open_chat(page)
        page.locator(PANEL).evaluate("e => Promise.all(e.getAnimations().map(a => a.finished))")
        box = page.locator(PANEL).bounding_box()
        assert box and box["x"] <= 1 and box["y"] <= 1, box
        assert box["width"] >= 374 and box["height"] >= 666, box
        expect(page.locator(INPUT)).to_be_in_viewport()
    finally:
        ctx.close()


def test_widget_embedded_on_another_origin(page, cross_origin_service, static_site):
    """The widget on a customer's site finds the service from its own script URL."""
    url = static_site.write(
        "widget-embed.html",
        f"""<!doctype html><html lang="es"><head><meta charset="utf-8"><title>shop</title></head><body>
        <h1>Tienda</h1>
        <script src="{cross_origin_service.base_url}/widget/widget.js" data-lang="es" async></script>
        </body></html>""",
    )
    page.goto(url)
    open_chat(page)
    say(page, "hola")
    wait_for_bot_after(page, 0)
    assert SPANISH.search(page.locator(BOT).first.inner_text())
