"""A visitor cannot dodge the webchat's limits with new session ids or more sockets (issue 17)."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import app_settings, served_app, served_standin
from tests.service.support.webchat_client import Visitor

LIMITS = {"webchat_rate_limit_messages": 2, "webchat_rate_limit_new_sessions": 2,
          "webchat_rate_limit_address_factor": 2, "webchat_rate_limit_window_seconds": 600}


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    async with served_standin(RasaStandIn()) as rasa_url, served_app(app_settings(tmp_path, rasa_url,
                                                                                  **LIMITS)) as url:
        yield url


def answered(replies: list[dict[str, Any]]) -> bool:
    return bool(replies) and not any("error" in reply for reply in replies)


def refused(replies: list[dict[str, Any]]) -> bool:
    return [reply.get("error", {}).get("code") for reply in replies] == ["rate_limited"]


async def visitor_from(base_url: str, address: str) -> Visitor:
    """A socket from `address` (X-Forwarded-For, trusted from loopback as from a proxy on the same host)."""
    visitor = Visitor(base_url, headers={"X-Forwarded-For": address})
    await visitor.open()
    return visitor


async def test_a_new_session_id_on_the_same_socket_does_not_reset_the_count(base_url: str) -> None:
    visitor = await visitor_from(base_url, "198.51.100.1")
    try:
        assert (await visitor.ask_session())[0] == "session_confirm"
        assert answered(await visitor.say("uno")) and answered(await visitor.say("dos"))
        assert refused(await visitor.say("tres"))
        event, _ = await visitor.ask_session()  # the dodge of the finding: a fresh id, a fresh count
        assert event == "session_confirm"
        assert refused(await visitor.say("cuatro"))  # counted per connection too
        event, data = await visitor.ask_session()  # and new ids themselves are limited per connection
        assert event == "error" and data["code"] == "rate_limited" and data["message"]
    finally:
        await visitor.close()


async def test_more_sockets_from_one_address_share_a_looser_count(base_url: str) -> None:
    first, second, third = [await visitor_from(base_url, "198.51.100.2") for _ in range(3)]
    elsewhere = await visitor_from(base_url, "198.51.100.3")
    try:
        for visitor in (first, second):  # twice the per-session limit per address: 4 messages, 4 new ids
            assert (await visitor.ask_session())[0] == "session_confirm"
            assert answered(await visitor.say("hola")) and answered(await visitor.say("otra vez"))
        assert (await third.ask_session())[0] == "session_confirm"
        assert refused(await third.say("hola"))  # a fresh socket and a fresh id, but the address is full
        assert (await third.ask_session())[0] == "session_confirm"  # the address's fourth new id
        event, data = await first.ask_session()
        assert event == "error" and data["code"] == "rate_limited"  # the fifth: refused, the socket has two left
        assert (await elsewhere.ask_session())[0] == "session_confirm"
        assert answered(await elsewhere.say("hola"))  # another address keeps its own count
    finally:
        for visitor in (first, second, third, elsewhere):
            await visitor.close()
