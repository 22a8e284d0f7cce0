"""The inbox's template decisions (pure): which are offered first, prefilled how, and what Meta would refuse."""
from __future__ import annotations

import pytest

from handoff.channels.whatsapp.window import PARAMETER_LIMIT, Template, parameter_problem
from handoff.inbox.actions import InboxError
from handoff.inbox.templates import chosen, offers

TEMPLATES = [Template("order_update", "en_US", ("customer_name", "order_number"), "Hi {{1}}, order {{2}} moved."),
             Template("order_update", "es_MX", ("customer_name", "order_number"), "Hola {{1}}, tu pedido {{2}}."),
             Template("bare", "es_MX")]


@pytest.mark.parametrize(("value", "problem"), [
    ("Ana", None), ("Ana    Pérez", None), ("a" * PARAMETER_LIMIT, None), ("🙂 ¿sí?", None),
    ("", "cannot be empty"), (" \u00a0", "cannot be empty"), ("a" * (PARAMETER_LIMIT + 1), "longer than 1024"),
    ("Ana\nPérez", "new line"), ("Ana\r\nPérez", "new line"), ("Ana\tPérez", "tab"), ("Ana     Pérez", "4 spaces"),
])
def test_what_meta_refuses_in_a_body_parameter(value: str, problem: str | None) -> None:
    found = parameter_problem(value)
    assert found is None if problem is None else problem in (found or "")


def test_the_customers_language_comes_first_and_the_case_fills_what_it_knows() -> None:
    offered = offers(TEMPLATES, "es", {"customer_name": "Ana\tMaría  López", "order_number": None})
    assert [(t["name"], t["language"]) for t in offered] == [
        ("order_update", "es_MX"), ("bare", "es_MX"), ("order_update", "en_US")]
    assert offered[0]["parameters"] == [{"name": "customer_name", "value": "Ana María López"},
                                        {"name": "order_number", "value": ""}]
    assert [t["language"] for t in offers(TEMPLATES, "en", {})] == ["en_US", "es_MX", "es_MX"]


def test_a_choice_becomes_the_template_message_in_the_approved_order() -> None:
    message = chosen(TEMPLATES, "order_update", "es_MX", {"order_number": " 100002 ", "customer_name": "Ana"})
    assert message.text == "Hola Ana, tu pedido 100002."
    assert message.custom == {"whatsapp_template": {"name": "order_update", "language": "es_MX",
                                                    "parameters": ["Ana", "100002"]}}
    assert chosen(TEMPLATES, "bare", "es_MX", {}).custom["whatsapp_template"]["parameters"] == []


@pytest.mark.parametrize(("name", "language", "values", "reason"), [
    ("order_update", "fr_FR", {}, "no approved template 'order_update' in 'fr_FR'"),
    ("order_update", "es_MX", {"customer_name": "Ana"}, "a value is required for order_number"),
    ("bare", "es_MX", {"customer_name": "Ana"}, "has no parameter customer_name"),
    ("order_update", "es_MX", {"customer_name": "Ana", "order_number": "1\n2"}, "order_number cannot hold"),
])
def test_a_choice_that_cannot_go_is_a_400(name: str, language: str, values: dict[str, str], reason: str) -> None:
    with pytest.raises(InboxError) as refused:
        chosen(TEMPLATES, name, language, values)
    assert refused.value.status == 400 and reason in refused.value.message
