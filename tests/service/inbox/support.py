"""Helpers for the inbox tests: agents made with the CLI, logged-in HTTP clients, inbox sockets."""
from __future__ import annotations

import asyncio
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import socketio
from playwright.sync_api import expect

from handoff.channels.whatsapp.window import load_templates
from handoff.core.agents import NewAgent
from handoff.core.operations import load_operations
from handoff.inbox.agents_cli import store_agent
from handoff.settings import REPO_ROOT, Settings
from tests.service.support.processes import REPO
from tests.service.support.stack import VENV

PASSWORD = "correct horse battery"


def create_agent(database_url: str, email: str, role: str = "agent", teams: str = "care",
                 name: str | None = None, capacity: int = 3) -> None:
    """Stored as `python -m handoff agents create` stores it, without a Python start per account."""
    new = NewAgent(email, name or email.split("@")[0].title(), role,
                   tuple(team for team in teams.split(",") if team), PASSWORD, capacity)
    with ThreadPoolExecutor(max_workers=1) as thread:  # callers may be inside a running event loop
        thread.submit(asyncio.run, store_agent(Settings(database_url=database_url), new)).result()


def create_agent_with_cli(database_url: str, email: str, role: str = "agent", teams: str = "care",
                          password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """Through the command line, as an operator would (password on stdin)."""
    return subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "handoff", "agents", "create", "--email", email,
         "--name", email.split("@")[0].title(), "--role", role, "--teams", teams],
        cwd=REPO, input=password + "\n", text=True, capture_output=True,
        env={**os.environ, "DATABASE_URL": database_url},
    )


class AgentClient:
    """An HTTP client holding an agent's session cookie and CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)
        self.csrf: str | None = None
        self.me: dict[str, Any] = {}

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.http.post("/inbox/api/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.csrf = response.json()["csrf_token"]
            self.me = response.json()["agent"]
        return response

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(f"/inbox/api{path}", **kwargs)

    async def post(self, path: str, body: Any = None, csrf: bool = True) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        return await self.http.post(f"/inbox/api{path}", json=body if body is not None else {}, headers=headers)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    async def close(self) -> None:
        await self.http.aclose()


class InboxSocket:
    """The /inbox namespace as the inbox page uses it."""

    def __init__(self, base_url: str, cookie: str | None) -> None:
        self.base_url = base_url
        self.cookie = cookie
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.client.on("*", self._record, namespace="/inbox")

    async def _record(self, event: str, data: Any = None) -> None:
        await self.events.put((event, data))

    async def connect(self) -> None:
        headers = {"Origin": self.base_url}
        if self.cookie:
            headers["Cookie"] = self.cookie
        await self.client.connect(self.base_url, namespaces=["/inbox"], transports=["websocket"], headers=headers,
                                  wait_timeout=10)

    async def call(self, event: str, data: Any) -> Any:
        return await self.client.call(event, data, namespace="/inbox", timeout=10)

    async def next_event(self, name: str, timeout: float = 30) -> Any:
        async def wait() -> Any:
            while True:
                event, data = await self.events.get()
                if event == name:
                    return data
        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        await self.client.disconnect()


def new_page(chromium: Any, dialogs: list[str], **context: Any) -> Any:
    """An English-locale page (the inbox follows the browser's language) whose alert/confirm dialogs are recorded
    (an XSS would show up there)."""
    context = chromium.new_context(**{"locale": "en-US", "viewport": {"width": 1280, "height": 900}, **context})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


def signs_in(page: Any, base_url: str, email: str) -> None:
    """Through the login form of /inbox, until the live connection is up."""
    page.goto(f"{base_url}/inbox")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#live-state")).to_have_text("live")


def agent_logs_in(page: Any, base_url: str, email: str) -> None:
    """Signed in and online, so routing gives them cases."""
    signs_in(page, base_url, email)
    expect(page.locator("#presence")).to_have_value("online")


def approved_spanish_first() -> list[tuple[str, str]]:
    """(name, language) of operations.yml's templates: es_MX ones first, each group in the file's order."""
    approved = load_templates(load_operations(REPO_ROOT / "operations.yml").whatsapp_templates)
    pairs = [(t.name, t.language) for t in approved]
    assert len(pairs) >= 4 and {"es_MX", "en_US"} <= {language for _, language in pairs}
    return [p for p in pairs if p[1] == "es_MX"] + [p for p in pairs if p[1] != "es_MX"]
