"""A malformed session id in `session_request` (non-ASCII, a lone surrogate) gets a new session, not an exception."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.support.processes import free_port
from tests.service.support.stack import Service, start_service
from tests.service.support.webchat_client import Visitor


@pytest.fixture(scope="module")
def webchat_service(workdir: Path) -> Iterator[Service]:
    """No Rasa behind it: session handling needs no assistant."""
    service = start_service({"RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
                             "SECRET_KEY": "webchat-session-ids-secret-0123456789"}, workdir)
    yield service
    service.stop()


@pytest.mark.parametrize("requested", ["abc.é", "é.abc", "abc.\ud800", "abc." + "ñ" * 43])
async def test_a_malformed_session_id_gets_a_new_one(webchat_service: Service, requested: str) -> None:
    visitor = Visitor(webchat_service.base_url)
    await visitor.client.connect(webchat_service.base_url, socketio_path="socket.io", transports=["websocket"],
                                 headers={"Origin": webchat_service.base_url}, wait_timeout=10)
    try:
        await visitor.client.emit("session_request", {"session_id": requested})
        confirmed = (await visitor.next_event("session_confirm", timeout=10))["session_id"]
        assert confirmed != requested and confirmed.isascii()
        again = Visitor(webchat_service.base_url)  # the new id is a real one: it is confirmed as is
        assert await again.connect(confirmed) == confirmed
        await again.close()
    finally:
        await visitor.close()
