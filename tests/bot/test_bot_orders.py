"""Order status: the SQLite demo backend, the HTTP backend against a loopback server, and the action."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet

from actions.backend_http import BackendUnavailable
from actions.order_status import ActionAskOrderNumber, ActionOrderStatus, ValidateOrderForm
from actions.orders import HttpOrderBackend, SqliteOrderBackend, normalize_order_number, order_backend_from_env


def test_sqlite_backend_is_created_and_seeded(isolated_env: Path) -> None:
    backend = SqliteOrderBackend()
    statuses = {n: backend.get_order(n).status for n in ("100001", "100002", "100003", "100004", "100005")}
    assert statuses == {
        "100001": "processing", "100002": "shipped", "100003": "delivered", "100004": "delayed", "100005": "cancelled",
    }
    assert backend.get_order("100002").tracking_url.startswith("https://")
    assert backend.get_order("100004").eta
    assert backend.get_order("999999") is None
    assert (isolated_env / "demo_backend.sqlite3").exists()
    with sqlite3.connect(isolated_env / "demo_backend.sqlite3") as conn:  # seeding is idempotent
        SqliteOrderBackend().get_order("100001")
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 5


@pytest.mark.parametrize(
    "raw,number",
    [("100002", "100002"), ("#100002", "100002"), ("nro 100003", "100003"), ("12345", None), ("1234567", None),
     (None, None)],
)
def test_normalize_order_number(raw, number) -> None:
    assert normalize_order_number(raw) == number


def test_http_backend_found_not_found_and_failures(backend_url: str, dead_url: str) -> None:
    backend = HttpOrderBackend(backend_url, timeout=0.5)
    order = backend.get_order("100002")
    assert order.status == "shipped" and order.tracking_url == "https://t.example/100002"
    assert backend.get_order("123456") is None
    with pytest.raises(BackendUnavailable):
        backend.get_order("500500")
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        backend.get_order("777777")  # the server sleeps 1.5 s
    assert time.monotonic() - started < 1.4
    with pytest.raises(BackendUnavailable):
        HttpOrderBackend(dead_url, timeout=0.5).get_order("100002")


def test_backend_choice_from_environment(monkeypatch: pytest.MonkeyPatch, backend_url: str) -> None:
    assert isinstance(order_backend_from_env(), SqliteOrderBackend)
    monkeypatch.setenv("ORDER_BACKEND_URL", backend_url)
    monkeypatch.setenv("ORDER_BACKEND_TIMEOUT", "0.25")
    backend = order_backend_from_env()
    assert isinstance(backend, HttpOrderBackend) and backend.timeout == 0.25


@pytest.mark.parametrize(
    "number,language,expected,lookup",
    [
        ("100001", "es", "Tu pedido 100001 está en preparación", "found"),
        ("100002", "en",
         "Your order 100002 has shipped 🚚 You can track it here: https://tracking.example.com/track/100002", "found"),
        ("100003", "es", "Tu pedido 100003 fue entregado el 15 de enero de 2026.", "found"),
        ("100003", "en", "Your order 100003 was delivered on January 15, 2026.", "found"),
        ("100004", "en", "Your order 100004 is delayed 😕 The new estimated delivery date is February 20, 2026.",
         "found"),
        ("100005", "es", "Tu pedido 100005 fue cancelado.", "found"),
        ("654321", "en", "I can't find order 654321.", "not_found"),
        ("654321", "es", "No encuentro el pedido 654321.", "not_found"),
    ],
)
def test_action_with_sqlite_backend(dispatcher, make_tracker, run_action, number, language, expected, lookup) -> None:
    tracker = make_tracker({"order_number": number, "language": language}, intent="order_status")
    events = run_action(ActionOrderStatus(), dispatcher, tracker)
    assert dispatcher.messages[0]["text"].startswith(expected)
    assert SlotSet("order_lookup", lookup) in events
    if lookup == "not_found":
        assert SlotSet("order_number", None) in events  # so the next number the customer sends is used


def test_action_with_http_backend_down_says_so(dispatcher, make_tracker, run_action, monkeypatch, backend_url) -> None:
    monkeypatch.setenv("ORDER_BACKEND_URL", backend_url)
    monkeypatch.setenv("ORDER_BACKEND_TIMEOUT", "0.5")
    events = run_action(ActionOrderStatus(), dispatcher, make_tracker({"order_number": "777777", "language": "en"}))
    assert dispatcher.messages[0]["text"].startswith("I can't check orders right now")
    assert events == [SlotSet("order_lookup", "unavailable")]
    run_action(ActionOrderStatus(), dispatcher, make_tracker({"order_number": "500500", "language": "es"}))
    assert dispatcher.messages[1]["text"].startswith("Ahorita no puedo consultar pedidos")


def test_action_with_http_backend_found(dispatcher, make_tracker, run_action, backend_url) -> None:
    action = ActionOrderStatus(backend=HttpOrderBackend(backend_url, timeout=1))
    events = run_action(action, dispatcher, make_tracker({"order_number": "100004", "language": "es"}))
    assert events == [SlotSet("order_lookup", "found")]
    assert "1 de marzo de 2026" in dispatcher.messages[0]["text"]


def test_ask_order_number_in_language(dispatcher, make_tracker, run_action) -> None:
    run_action(ActionAskOrderNumber(), dispatcher, make_tracker({"language": "en"}))
    run_action(ActionAskOrderNumber(), dispatcher, make_tracker({"language": "es"}))
    assert dispatcher.messages[0]["text"].startswith("Sure 🙂 What's your order number?")
    assert "número de pedido" in dispatcher.messages[1]["text"]


def test_asking_for_the_order_number_tells_the_service_what_it_asked(dispatcher, make_tracker, run_action) -> None:
    """The service counts a question for a fact the customer already gave as a re-ask (reask_rate)."""
    run_action(ActionAskOrderNumber(), dispatcher, make_tracker({"language": "es"}))
    run_action(ActionOrderStatus(), dispatcher, make_tracker({"language": "es", "order_number": "12"}))
    assert [m["custom"] for m in dispatcher.messages] == [{"asked": "order_number"}] * 2


def test_order_form_validation_normalizes(dispatcher, make_tracker) -> None:
    form = ValidateOrderForm()
    tracker = make_tracker({"order_number": "#100002"})
    assert form.validate_order_number("#100002", dispatcher, tracker, {}) == {"order_number": "100002"}
    assert form.validate_order_number("12", dispatcher, tracker, {}) == {"order_number": None}
