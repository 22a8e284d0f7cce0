import asyncio
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from handoff.core.bot_client import (
    BotUnavailable,
    CallbackAsk,
    CodeRequest,
    RasaClient,
    parse_rest_response,
    said_nothing,
)
from tests.service.support.processes import free_port


def test_rest_replies_become_messages_and_a_handoff() -> None:
    turn = parse_rest_response([
        {"recipient_id": "c", "text": "Te paso con una persona"},
        {"recipient_id": "c", "text": "Elige", "buttons": [{"title": "Si", "payload": "/affirm"}]},
        {"recipient_id": "c", "image": "https://example.com/x.png"},
        {"recipient_id": "c", "custom": {"handoff": {"reason": "explicit_request", "intent": "request_human",
                                                     "confidence": 0.97, "slots": {"order_number": "100002"},
                                                     "summary": "wants a person", "team": "care"}}},
    ])
    assert [m.text for m in turn.messages] == ["Te paso con una persona", "Elige", None]
    assert turn.messages[1].quick_replies[0].payload == "/affirm"
    assert turn.handoff and turn.handoff.reason == "explicit_request" and turn.handoff.confidence == 0.97
    assert turn.handoff.slots == {"order_number": "100002"}


def test_a_verification_payload_is_a_signal_never_a_message() -> None:
    phone = parse_rest_response([{"recipient_id": "c", "custom": {"verification": {"phone": " 55 1234 5678 "}}}])
    assert phone.messages == () and phone.verification == CodeRequest(phone="55 1234 5678")
    email = parse_rest_response([{"recipient_id": "c", "custom": {"verification": {"email": "Ana@Example.mx"}}},
                                 {"recipient_id": "c", "custom": {"verification": {"phone": "+14155550123"}}}])
    assert email.verification == CodeRequest(email="Ana@Example.mx")  # the first one counts
    for odd in ({"phone": 5512345678}, {"phone": " "}, "55 1234 5678", {}):
        assert parse_rest_response([{"custom": {"verification": odd}}]).verification is None
    other = parse_rest_response([{"custom": {"verification": {"phone": "+1"}, "extra": 1}}])
    assert other.verification is None and other.messages[0].custom  # not ours: kept as a custom message


def test_a_callback_payload_is_a_signal_never_a_message() -> None:
    told = parse_rest_response([{"custom": {"callback": {"window": "afternoon", "phone": " 55 1234 5678 "}}},
                                {"custom": {"callback": {"window": "asap"}}}])
    assert told.messages == () and told.callback == CallbackAsk("afternoon", "55 1234 5678")  # the first counts
    assert parse_rest_response([{"custom": {"callback": {"window": "asap", "phone": 5}}}]).callback == \
        CallbackAsk("asap")
    for odd in ({"window": "tonight"}, {"phone": "5512345678"}, "asap", {}):
        assert parse_rest_response([{"custom": {"callback": odd}}]).callback is None
    other = parse_rest_response([{"custom": {"callback": {"window": "asap"}, "extra": 1}}])
    assert other.callback is None and other.messages[0].custom  # not ours: kept as a custom message


def test_reported_slots_are_a_signal_never_a_message() -> None:
    turn = parse_rest_response([{"recipient_id": "c", "text": "Va en camino"},
                                {"recipient_id": "c", "custom": {"slots": {"language": "es", "order_number": None}}}])
    assert [m.text for m in turn.messages] == ["Va en camino"]
    assert turn.slots == {"language": "es", "order_number": None}
    assert parse_rest_response([{"text": "hola"}]).slots is None  # not reported: the service reads the tracker
    assert parse_rest_response([{"custom": {"slots": "es"}}]).slots is None
    only = parse_rest_response([{"custom": {"slots": {"language": "es"}}}])
    assert only.messages == () and said_nothing(only)  # a failed turn's report alone answers no one


def test_garbage_from_rasa_is_unavailability() -> None:
    with pytest.raises(BotUnavailable):
        parse_rest_response({"error": "x"})


class _SlowHandler(BaseHTTPRequestHandler):
    delay = 0.0
    silent = False  # Rasa's REST channel when its turn failed inside: 200 and no reply
    calls: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(body)
        import time

        time.sleep(type(self).delay)
        data = json.dumps([] if type(self).silent else [{"recipient_id": body["sender"], "text": "ok"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def slow_rasa():
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _SlowHandler)
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    _SlowHandler.calls, _SlowHandler.silent = [], False
    yield port
    server.shutdown()


async def test_sender_is_the_case_and_metadata_travels(slow_rasa: int) -> None:
    _SlowHandler.delay = 0
    client = RasaClient(f"http://127.0.0.1:{slow_rasa}", timeout=2, retries=1, backoff=0.01)
    turn = await client.turn("case-1", "hola", {"channel": "webchat"})
    await client.aclose()
    assert turn.messages[0].text == "ok"
    assert _SlowHandler.calls == [{"sender": "case-1", "message": "hola", "metadata": {"channel": "webchat"}}]


async def test_a_slow_rasa_is_unavailable_and_not_asked_twice(slow_rasa: int) -> None:
    _SlowHandler.delay = 1.0
    client = RasaClient(f"http://127.0.0.1:{slow_rasa}", timeout=0.3, retries=2, backoff=0.01)
    with pytest.raises(BotUnavailable):
        await client.turn("case-1", "hola", {})
    await client.aclose()
    await asyncio.sleep(0.8)
    assert len(_SlowHandler.calls) == 1


async def test_a_closed_port_is_retried_then_unavailable() -> None:
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, retries=1, backoff=0.01)
    with pytest.raises(BotUnavailable):
        await client.turn("case-1", "hola", {})
    await client.aclose()


async def test_a_turn_rasa_answers_with_nothing_is_unavailability_and_not_sent_again(slow_rasa: int) -> None:
    """Rasa 3.6's REST channel logs a failure inside the turn (its tracker store's database away) and answers 200
    with an empty list: taken as an answer, the customer's message would be answered by no one."""
    _SlowHandler.delay, _SlowHandler.silent = 0, True
    client = RasaClient([f"http://127.0.0.1:{slow_rasa}", f"http://127.0.0.1:{slow_rasa}/b"], timeout=2, retries=1,
                        backoff=0.01)
    with pytest.raises(BotUnavailable, match="answered nothing"):
        await client.turn("case-1", "hola", {})
    await client.aclose()
    assert len(_SlowHandler.calls) == 1  # processed, maybe partly: neither retried nor sent to the next replica
    assert parse_rest_response([{"custom": {"asked": "email"}}]).asked == ("email",)  # a signal is an answer
