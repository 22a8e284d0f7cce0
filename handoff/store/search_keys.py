"""The keys agents find a customer by (name words, order numbers, told emails and phones), in one indexed form.

Pure: the store keeps them in `customer_keys` whenever a customer's name or facts change (models/customers.py), the
lookup (core/customer_lookup.py) folds what an agent types the same way.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

NAME_WORDS = 4  # "maría josé pérez lópez": found by "mar", "jose p", "perez", "lop"
KEY_LENGTH = 120
NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
# Facts the assistant learnt that find the customer: kind of key per fact.
FACT_KEYS = {"order_number": "order", "email": "email", "phone": "phone"}


def fold(text: str) -> str:
    """Case- and accent-insensitive, punctuation as spaces: "  María-José  PÉREZ " → "maria jose perez"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(NON_WORD.sub(" ", bare).replace("_", " ").split())[:KEY_LENGTH]


def name_keys(name: str | None) -> list[str]:
    """The folded name from each of its first words on, so a prefix search finds any word of it."""
    words = fold(name or "").split()
    return [" ".join(words[start:])[:KEY_LENGTH] for start in range(min(len(words), NAME_WORDS))]


def order_key(raw: object) -> str | None:
    """An order number as typed or told ("#100002", "ord-100 002") → "ORD100002"; None without a digit."""
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        return None
    value = re.sub(r"[^0-9A-Za-z]", "", str(raw)).upper()[:KEY_LENGTH]
    return value if value and any(ch.isdigit() for ch in value) else None


def fact_keys(facts: Mapping[str, Any] | None) -> set[tuple[str, str]]:
    """(kind, value) keys of a customer's facts: order numbers, told emails (lower-cased) and phones (E.164)."""
    keys: set[tuple[str, str]] = set()
    for fact, kind in FACT_KEYS.items():
        raw = (facts or {}).get(fact)
        if kind == "order":
            value = order_key(raw)
        elif isinstance(raw, str) and raw.strip():
            value = raw.strip().lower()[:KEY_LENGTH] if kind == "email" else raw.strip()[:KEY_LENGTH]
        else:
            value = None
        if value:
            keys.add((kind, value))
    return keys
