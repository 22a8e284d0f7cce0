"""Browser fixtures for the Chromium tests of the webchat (our widget and the rasa-webchat npm bundle).

The service itself comes from tests/service/conftest.py (`rasa_stack`, `service_factory`, `live_service`).
Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser here.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import socketserver
import threading
from pathlib import Path

import pytest

from tests.service.support.chromium import launched_chromium

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
WIDGET_JS = REPO / "widget" / "dist" / "widget.js"
RASA_WEBCHAT_JS = HERE / "node_modules" / "rasa-webchat" / "lib" / "index.js"

@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def context(browser):
    ctx = browser.new_context(locale="es-ES", viewport={"width": 1100, "height": 800})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    p.console_errors = []  # type: ignore[attr-defined]
    p.page_errors = []  # type: ignore[attr-defined]
    p.on("console", lambda m: m.type == "error" and p.console_errors.append(m.text))
    p.on("pageerror", lambda e: p.page_errors.append(str(e)))
    # Any dialog (alert/confirm) is a sign that customer text was executed as markup.
    p.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(d):
        p.dialogs.append(d.message)
        d.dismiss()

    p.on("dialog", on_dialog)
    return p


class StaticSite:
    """A loopback HTTP server for pages that embed a widget from another origin."""

    def __init__(self, root: Path):
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="static-site", daemon=True)

    def write(self, name: str, content: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return f"{self.origin}/{name}"

    def start(self) -> StaticSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def static_site(tmp_path_factory):
    """A static site on its own loopback origin; its root holds a copy of rasa-webchat's bundle."""
    root = tmp_path_factory.mktemp("site")
    if RASA_WEBCHAT_JS.is_file():
        target = root / "node_modules" / "rasa-webchat" / "lib" / "index.js"
        target.parent.mkdir(parents=True)
        shutil.copyfile(RASA_WEBCHAT_JS, target)
    site = StaticSite(root).start()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="session")
def widget_js() -> Path:
    if not WIDGET_JS.is_file():
        pytest.fail(f"{WIDGET_JS} is missing: run `make setup` (cd widget && npm ci && npm run build)")
    return WIDGET_JS


@pytest.fixture(scope="session")
def cross_origin_service(service_factory, static_site):
    """The service with the static site's origin (a customer's web site) in WEBCHAT_ALLOWED_ORIGINS."""
    return service_factory(WEBCHAT_ALLOWED_ORIGINS=static_site.origin)
