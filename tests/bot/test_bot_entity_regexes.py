"""The entity regexes in bot/data/nlu/regex.yml: order numbers, phones and emails never overlap."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def patterns() -> dict[str, list[re.Pattern]]:
    """The regexes as RegexEntityExtractor compiles them (case-insensitive, no extra word boundaries)."""
    data = yaml.safe_load((ROOT / "bot" / "data" / "nlu" / "regex.yml").read_text())
    return {
        item["regex"]: [re.compile(line[2:], re.IGNORECASE) for line in item["examples"].splitlines() if line.strip()]
        for item in data["nlu"]
    }


def extract(text: str) -> dict[str, list[str]]:
    """Every match per entity type."""
    return {name: [m.group() for p in pats for m in p.finditer(text)] for name, pats in patterns().items()}


@pytest.mark.parametrize(
    "text,order,phone,email",
    [
        ("pedido #100002", ["100002"], [], []),
        ("orden nro 100003.", ["100003"], [], []),
        ("mi cel es 5512345678", [], ["5512345678"], []),
        ("+52 55 1234 5678", [], ["+52 55 1234 5678"], []),
        ("call me at (415) 555-0100", [], ["(415) 555-0100"], []),
        ("pedido 100002 y mi tel +5215512345678", ["100002"], ["+5215512345678"], []),
        ("mi correo es ana.123456@gmail.com", [], [], ["ana.123456@gmail.com"]),
        ("order 1000021", [], [], []),
        ("cp 06000", [], [], []),
        ("meu cel é +55 11 98765-4321", [], ["+55 11 98765-4321"], []),
        ("liga no (21) 99876-5432", [], ["(21) 99876-5432"], []),
        ("pedido 100002, cep 01234-000", ["100002"], [], []),
    ],
)
def test_entities_do_not_overlap(text: str, order, phone, email) -> None:
    found = extract(text)
    assert (found["order_number"], found["phone"], found["email"]) == (order, phone, email)


@pytest.mark.parametrize(
    "text,window",
    [
        ("me liguem hoje à tarde pfv", ["hoje à tarde"]),
        ("podem me ligar amanhã cedo?", ["amanhã cedo"]),
        ("me liga amanha de manha", ["amanha de manha"]),
        ("me retornem o quanto antes", ["o quanto antes"]),
        ("boa tarde, quero falar com alguem", []),
        ("llamame esta tarde", ["esta tarde"]),
    ],
)
def test_callback_windows_are_found_in_portuguese_and_spanish(text: str, window: list[str]) -> None:
    assert extract(text)["callback_window"] == window
