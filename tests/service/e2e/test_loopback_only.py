"""The assistant's processes listen on loopback only: only the service faces the network."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.service.support.stack import RasaStack

LISTEN = "0A"

pytestmark = pytest.mark.e2e


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port`, from the kernel's tables (hex, as /proc has them)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_rasa_and_the_action_server_listen_on_loopback_only(rasa_stack: RasaStack) -> None:
    for url in (rasa_stack.action_url, rasa_stack.rasa_url):
        addresses = listening_addresses(urlsplit(url).port)
        assert addresses == {"0100007F"}, f"{url} listens on {addresses}"  # 127.0.0.1, little-endian hex
