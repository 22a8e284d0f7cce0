"""Account updates: validation, the form's extraction, both AccountBackends and the verification gate."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet

from actions.accounts import HttpAccountBackend, SqliteAccountBackend
from actions.backend_http import BackendUnavailable
from actions.update_account import (
    ActionAskAccountField,
    ActionAskNewValue,
    ActionUpdateAccount,
    ValidateAccountForm,
    field_from_text,
    normalize_phone,
    valid_address,
    valid_email,
)

DOMAIN = {
    "forms": {"account_form": {"required_slots": ["account_field", "new_value"]}},
    "slots": {name: {"type": "text"} for name in ("account_field", "new_value", "language", "verified")},
}


@pytest.mark.parametrize(
    "raw,clean",
    [("Ana.Lopez@Gmail.com", "ana.lopez@gmail.com"), ("ana@example.com.", "ana@example.com"),
     ("ana@", None), ("ana@@x.com", None), ("ana@x", None), ("a..b@x.com", None), ("", None)],
)
def test_valid_email(raw, clean) -> None:
    assert valid_email(raw) == clean


@pytest.mark.parametrize(
    "raw,region,e164",
    [("55 1234 5678", "MX", "+525512345678"), ("+52 55 1234 5678", "MX", "+525512345678"),
     ("(415) 555-0100", "US", "+14155550100"), ("+1 415 555 0100", "MX", "+14155550100"),
     ("12345", "MX", None), ("hola", "MX", None), ("555", "MX", None)],
)
def test_normalize_phone(raw, region, e164) -> None:
    assert normalize_phone(raw, region) == e164


def test_valid_address_and_field_keywords() -> None:
    assert valid_address("mi nueva direccion es Calle Hidalgo 45, Guadalajara 44100") == \
        "Calle Hidalgo 45, Guadalajara 44100"
    assert valid_address("en mi casa") is None
    assert field_from_text("quiero cambiar mi correo") == "email"
    assert field_from_text("nuevo cel") == "phone"
    assert field_from_text("update my shipping address") == "address"
    assert field_from_text("hola") is None


def test_sqlite_account_backend_upserts(isolated_env: Path) -> None:
    backend = SqliteAccountBackend()
    backend.update("cust-1", "email", "new@example.com")
    backend.update("cust-1", "phone", "+525512345678")
    with sqlite3.connect(isolated_env / "demo_backend.sqlite3") as conn:
        row = conn.execute("SELECT email, phone, address FROM customers WHERE id = 'cust-1'").fetchone()
    assert row == ("new@example.com", "+525512345678", None)
    with pytest.raises(ValueError):
        backend.update("cust-1", "password", "x")


def test_http_account_backend(backend_url: str, dead_url: str, backend_patches) -> None:
    HttpAccountBackend(backend_url, timeout=1).update("cust-9", "email", "x@example.com")
    assert backend_patches == [{"path": "/customers/cust-9", "body": {"email": "x@example.com"}}]
    with pytest.raises(BackendUnavailable):
        HttpAccountBackend(backend_url, timeout=1).update("down", "email", "x@example.com")
    with pytest.raises(BackendUnavailable):
        HttpAccountBackend(dead_url, timeout=0.5).update("cust-9", "email", "x@example.com")


def test_form_reads_field_and_value_from_one_message(dispatcher, make_tracker) -> None:
    tracker = make_tracker(
        {"language": "es", "verified": True}, "cambia mi correo a ana.nueva@gmail.com", "update_account",
        entities=[{"entity": "email", "value": "ana.nueva@gmail.com"}], active_loop="account_form",
    )
    events = asyncio.run(ValidateAccountForm().run(dispatcher, tracker, DOMAIN))
    assert SlotSet("account_field", "email") in events
    assert SlotSet("new_value", "ana.nueva@gmail.com") in events


def test_form_asks_and_rejects_bad_values(dispatcher, make_tracker) -> None:
    form = ValidateAccountForm()
    asking_field = make_tracker({"requested_slot": "account_field", "language": "en"}, "phone number")
    assert asyncio.run(form.extract_account_field(dispatcher, asking_field, DOMAIN)) == {"account_field": "phone"}
    vague = make_tracker({"requested_slot": "account_field", "language": "en"}, "the thing")
    extracted = asyncio.run(form.extract_account_field(dispatcher, vague, DOMAIN))
    assert form.validate_account_field(extracted["account_field"], dispatcher, vague, DOMAIN) == {"account_field": None}

    asking_value = make_tracker({"requested_slot": "new_value", "account_field": "phone", "language": "es"}, "12")
    assert asyncio.run(form.extract_new_value(dispatcher, asking_value, DOMAIN)) == {"new_value": "12"}
    assert form.validate_new_value("12", dispatcher, asking_value, DOMAIN) == {"new_value": None}
    assert dispatcher.messages[-1]["text"].startswith("Mmm, '12' no parece un teléfono válido")
    assert form.validate_new_value("55 1234 5678", dispatcher, asking_value, DOMAIN) == {"new_value": "+525512345678"}

    bad_email = make_tracker({"account_field": "email", "language": "en"})
    assert form.validate_new_value("ana@", dispatcher, bad_email, DOMAIN) == {"new_value": None}
    assert "doesn't look like a valid email" in dispatcher.messages[-1]["text"]
    address = make_tracker({"account_field": "address", "language": "en"})
    assert form.validate_new_value("nowhere", dispatcher, address, DOMAIN) == {"new_value": None}


def test_ask_actions(dispatcher, make_tracker, run_action) -> None:
    run_action(ActionAskAccountField(), dispatcher, make_tracker({"language": "es"}))
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Correo", "payload": "correo"},
        {"title": "Teléfono", "payload": "teléfono"},
        {"title": "Dirección de envío", "payload": "dirección de envío"},
    ]
    run_action(ActionAskNewValue(), dispatcher, make_tracker({"language": "en", "account_field": "address"}))
    assert dispatcher.messages[1]["text"].startswith("What's your new shipping address?")


def test_update_applied_through_sqlite(dispatcher, make_tracker, run_action, isolated_env) -> None:
    tracker = make_tracker(
        {"verified": True, "customer_id": "cust-1", "account_field": "phone", "new_value": "+525512345678",
         "language": "en"}
    )
    events = run_action(ActionUpdateAccount(), dispatcher, tracker)
    assert dispatcher.messages[0]["text"] == "Done ✅ I updated your phone number: +525512345678"
    assert events == [SlotSet("account_field", None), SlotSet("new_value", None), SlotSet("phone", "+525512345678")]
    with sqlite3.connect(isolated_env / "demo_backend.sqlite3") as conn:
        assert conn.execute("SELECT phone FROM customers WHERE id='cust-1'").fetchone() == ("+525512345678",)


def test_update_applied_through_http(dispatcher, make_tracker, run_action, monkeypatch, backend_url,
                                     backend_patches) -> None:
    monkeypatch.setenv("ACCOUNT_BACKEND_URL", backend_url)
    tracker = make_tracker(
        {"verified": True, "customer_id": "c-7", "account_field": "address", "new_value": "Calle 5 #12, Lima",
         "language": "es"}
    )
    run_action(ActionUpdateAccount(), dispatcher, tracker)
    assert backend_patches == [{"path": "/customers/c-7", "body": {"address": "Calle 5 #12, Lima"}}]
    assert dispatcher.messages[0]["text"] == "Listo ✅ Actualicé tu dirección de envío: Calle 5 #12, Lima"


def test_update_backend_down(dispatcher, make_tracker, run_action, monkeypatch, backend_url) -> None:
    monkeypatch.setenv("ACCOUNT_BACKEND_URL", backend_url)
    tracker = make_tracker({"verified": True, "customer_id": "down", "account_field": "email", "new_value": "a@b.co"})
    events = run_action(ActionUpdateAccount(), dispatcher, tracker)
    assert dispatcher.messages[0]["text"].startswith("Ahorita no puedo actualizar tus datos")
    assert events == [SlotSet("account_field", None), SlotSet("new_value", None)]


def test_unverified_customer_is_handed_off(dispatcher, make_tracker, run_action) -> None:
    tracker = make_tracker(
        {"verified": False, "channel": "webchat", "language": "en", "account_field": "email", "new_value": "a@b.co"},
        "change my email", "update_account", 0.97,
    )
    run_action(ActionUpdateAccount(), dispatcher, tracker)
    assert dispatcher.messages[0]["text"].startswith("For your security")
    handoff = dispatcher.messages[1]["custom"]["handoff"]
    assert handoff["reason"] == "verification_required" and handoff["team"] == "accounts"
