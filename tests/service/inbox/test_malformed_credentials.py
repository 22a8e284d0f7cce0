"""Non-ASCII cookies and CSRF tokens: the inbox answers 401/403 (or refuses the socket), never a 500."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import socketio

from handoff.inbox.auth import COOKIE, CSRF_HEADER
from tests.service.inbox.support import AgentClient, InboxSocket
from tests.service.inbox.test_roles import logged_in

QUOTED = f'{COOKIE}="abc.\\351"'  # ASCII on the wire; a cookie parser unquotes it to "abc.é"
NON_ASCII_COOKIES = [f"{COOKIE}=abc.é".encode(), f"{COOKIE}=é.abc".encode(), f"{COOKIE}=abc.\xe9".encode("latin-1"),
                     QUOTED.encode()]


async def test_a_non_ascii_session_cookie_gets_401(inbox_service) -> None:
    anonymous = AgentClient(inbox_service.base_url)
    for cookie in NON_ASCII_COOKIES:
        response = await anonymous.http.get("/inbox/api/me", headers={"Cookie": cookie})
        assert (response.status_code, response.json()) == (401, {"detail": "log in first"}), cookie
    await anonymous.close()


async def test_a_non_ascii_csrf_token_gets_403(inbox_service) -> None:
    agent = await logged_in(inbox_service, "agent")
    for token in ("é…".encode(), b"\xff", (agent.csrf or "")[:-1].encode() + "é".encode()):
        response = await agent.http.post("/inbox/api/presence", json={"presence": "away"},
                                         headers={CSRF_HEADER: token})
        assert (response.status_code, response.json()) == (403, {"detail": "missing or wrong CSRF token"})
    assert (await agent.post("/presence", {"presence": "away"})).status_code == 200  # the right token still works
    await agent.close()


async def test_the_inbox_socket_refuses_a_non_ascii_cookie_as_no_login(inbox_service) -> None:
    socket = InboxSocket(inbox_service.base_url, QUOTED)
    refusals: asyncio.Queue[Any] = asyncio.Queue()

    async def refused(data: Any = None) -> None:
        await refusals.put(data)

    socket.client.on("connect_error", refused, namespace="/inbox")
    with contextlib.suppress(socketio.exceptions.ConnectionError):
        await socket.connect()
    refusal = await asyncio.wait_for(refusals.get(), 10)  # python-socketio gives the refusal as text
    assert "'status': 401" in refusal["message"] and "log in first" in refusal["message"]
    await socket.close()
