"""Several Rasa replicas: the pure choice of a case's replica, and failover against real loopback HTTP servers."""
import json
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import httpx
import pytest

from handoff.core.bot_client import BotUnavailable, RasaClient
from handoff.core.rasa_replicas import replica_order, replica_urls, resendable
from handoff.settings import Settings
from handoff.web.health import check_rasa_replicas
from tests.service.support.processes import free_port

REPLICAS = ("http://rasa-1:5005", "http://rasa-2:5005", "http://rasa-3:5005")
CASES = [f"{n:032x}" for n in range(3000)]


def test_a_case_always_has_the_same_order_and_cases_spread_evenly() -> None:
    orders = {case: replica_order(case, REPLICAS) for case in CASES}
    assert all(sorted(order) == sorted(REPLICAS) for order in orders.values())
    assert all(replica_order(case, tuple(reversed(REPLICAS))) == order for case, order in orders.items())
    firsts = Counter(order[0] for order in orders.values())
    assert all(850 < firsts[replica] < 1150 for replica in REPLICAS), firsts  # a third each, give or take


def test_adding_a_replica_moves_only_the_cases_it_wins() -> None:
    grown = (*REPLICAS, "http://rasa-4:5005")
    moved = [case for case in CASES if replica_order(case, REPLICAS)[0] != replica_order(case, grown)[0]]
    assert all(replica_order(case, grown)[0] == "http://rasa-4:5005" for case in moved)
    assert 600 < len(moved) < 900  # about a quarter, where modulo hashing would move three quarters
    # a case's fallback replica is its next one in the same ranking: removing its first replica keeps the rest
    assert all(replica_order(case, REPLICAS[1:]) == tuple(r for r in replica_order(case, REPLICAS) if r != REPLICAS[0])
               for case in CASES[:300])


def test_resting_replicas_go_last_in_rank_order() -> None:
    for case in CASES[:200]:
        order = replica_order(case, REPLICAS)
        resting = replica_order(case, REPLICAS, resting={order[0]})
        assert resting == (*order[1:], order[0])
        assert replica_order(case, REPLICAS, resting=set(REPLICAS)) == order


def test_replica_urls_are_cleaned() -> None:
    assert replica_urls([" http://a:1/ ", "", "http://b:2", "http://a:1"]) == ("http://a:1", "http://b:2")


def test_only_a_request_that_never_left_is_resendable() -> None:
    request = httpx.Request("POST", "http://rasa")
    for error in (httpx.ConnectError("refused", request=request), httpx.ConnectTimeout("t", request=request),
                  httpx.PoolTimeout("p", request=request)):
        assert resendable(error)
    for error in (httpx.ReadTimeout("t", request=request), httpx.ReadError("r", request=request),
                  httpx.WriteError("w", request=request), httpx.RemoteProtocolError("closed", request=request),
                  httpx.WriteTimeout("w", request=request)):
        assert not resendable(error)


def test_rasa_urls_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_URLS", "http://a:5005/, http://b:5005")
    assert Settings().rasa_replicas == ["http://a:5005", "http://b:5005"]
    monkeypatch.setenv("RASA_URL", "http://c:5005")
    with pytest.raises(ValueError, match="not both"):
        _ = Settings().rasa_replicas  # create_app reads it first: the service does not start
    monkeypatch.delenv("RASA_URLS")
    assert Settings().rasa_replicas == ["http://c:5005"]


class _Replica(BaseHTTPRequestHandler):
    """A stand-in Rasa replica: answers, refuses with a status, or drops the connection after reading the turn."""

    behaviour = "answer"  # set per server class below
    calls: list[str]

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body["sender"])
        if self.behaviour == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if self.behaviour == "slow":
            time.sleep(1.0)
        if self.behaviour == "503":
            return self._send(503, {"error": "busy"})
        self._send(200, [{"recipient_id": body["sender"], "text": f"from {self.server.server_port}"}])

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/status"):
            return self._send(200, {"model_file": "current.tar.gz"})
        self._send(200, {"slots": {"language": "es", "answered_by": self.server.server_port}})

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def replica() -> Iterator:
    """Starts loopback replicas with a behaviour; returns (url, calls)."""
    servers: list[ThreadingHTTPServer] = []

    def start(behaviour: str = "answer") -> tuple[str, list[str]]:
        handler = type("Replica", (_Replica,), {"behaviour": behaviour, "calls": []})
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", handler.calls

    yield start
    for server in servers:
        server.shutdown()


def _case_first_on(url: str, replicas: tuple[str, ...]) -> str:
    return next(case for case in CASES if replica_order(case, replicas)[0] == url)


async def test_a_down_replica_s_cases_are_answered_by_the_next(replica) -> None:
    up, calls = replica()
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens
    client = RasaClient([down, up], timeout=2, retries=0, backoff=0)
    case = _case_first_on(down, (down, up))
    turn = await client.turn(case, "hola", {})
    assert turn.messages[0].text == f"from {up.rsplit(':', 1)[1]}" and calls == [case]
    other = _case_first_on(up, (down, up))
    assert (await client.turn(other, "hola", {})).messages and calls == [case, other]
    assert (await client.slots(case))["language"] == "es"  # the tracker read falls over too
    await client.aclose()


async def test_a_refusing_replica_rests_and_its_cases_go_next(replica) -> None:
    busy, busy_calls = replica("503")
    up, calls = replica()
    client = RasaClient([busy, up], timeout=2, retries=1, backoff=0.01)
    first, second = [case for case in CASES if replica_order(case, (busy, up))[0] == busy][:2]
    await client.turn(first, "hola", {})
    await client.turn(second, "hola", {})
    assert busy_calls == [first] and calls == [first, second]  # the busy one rests: the second case skips it
    await client.aclose()


@pytest.mark.parametrize("behaviour", ["drop", "slow"])
async def test_a_turn_that_reached_a_replica_is_never_sent_to_another(replica, behaviour: str) -> None:
    failing, failing_calls = replica(behaviour)
    up, calls = replica()
    client = RasaClient([failing, up], timeout=0.4, retries=2, backoff=0.01)
    case = _case_first_on(failing, (failing, up))
    with pytest.raises(BotUnavailable):
        await client.turn(case, "hola", {})
    await client.aclose()
    assert failing_calls == [case] and calls == []  # Rasa may have processed it: a second answer would be a double


async def test_every_replica_down_is_unavailable_after_the_retries(replica) -> None:
    downs = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    client = RasaClient(downs, timeout=1, retries=1, backoff=0.01)
    with pytest.raises(BotUnavailable, match="unreachable"):
        await client.turn(CASES[0], "hola", {})
    assert await client.slots(CASES[0]) == {}
    await client.aclose()


async def test_readiness_needs_one_replica(replica) -> None:
    up, _ = replica()
    down = f"http://127.0.0.1:{free_port()}"
    async with httpx.AsyncClient(timeout=2) as client:
        ok, detail = await check_rasa_replicas(client, [down, up], None)
        assert ok and detail == "current.tar.gz; 1 of 2 replicas answer (down: #1 ConnectError)"
        assert await check_rasa_replicas(client, [up], None) == (True, "current.tar.gz")
        assert await check_rasa_replicas(client, [down, f"http://127.0.0.1:{free_port()}"], None) == \
            (False, "0 of 2 replicas answer (down: #1 ConnectError, #2 ConnectError)")
