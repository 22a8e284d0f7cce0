"""What one assistant turn taught us about the customer, and whether it asked for something already known.

Pure. An order number, email or phone the customer gives the assistant is kept on the customer after the
turn (conversation.py), so the next door knows it. A re-ask is a turn in which the assistant asks for a fact
the customer already had when the turn began (the `known` facts of the turn's metadata). The language the
customer writes in is followed when the assistant switches it (actions/language.py) on a long enough message.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from handoff.core.identity import InvalidIdentity, normalize_email, normalize_told_phone

LEARNT_FACTS = ("order_number", "email", "phone")
TAUGHT_SLOTS = ("language", *LEARNT_FACTS)  # the assistant's slots a turn may teach the service
# The assistant switches a conversation's language only on a message of at least three words of two letters or
# more (actions/language.py SWITCH_MIN_WORDS): after shorter ones the service need not ask it.
LANGUAGE_WORD = re.compile(r"[^\W\d_]{2,}")
SWITCH_MIN_WORDS = 3


def may_teach(text: str) -> bool:
    """Whether a message can carry an order number, email or phone: all have a digit or an '@'.

    The service reads the assistant's slots only after such turns (one tracker read), not after every turn.
    """
    return "@" in text or any(ch.isdigit() for ch in text)


def may_change_language(text: str) -> bool:
    """Whether the assistant may have switched the language on this message (read its slot only then)."""
    return len(LANGUAGE_WORD.findall(text)) >= SWITCH_MIN_WORDS


def changed_language(current: str | None, told: Any, languages: Iterable[str]) -> str | None:
    """The case's new language: the assistant's, when the case has one and this is another we speak; else None."""
    return told if current and isinstance(told, str) and told != current and told in set(languages) else None


def learnt_facts(slots: Mapping[str, Any], known: Mapping[str, Any], region: str) -> dict[str, str]:
    """The facts among the assistant's slots that are new or changed, in stored form (E.164, lower-case email)."""
    learnt: dict[str, str] = {}
    for name in LEARNT_FACTS:
        value = _stored(name, slots.get(name), region)
        if value is not None and value != known.get(name):
            learnt[name] = value
    return learnt


def _stored(name: str, raw: Any, region: str) -> str | None:
    if not isinstance(raw, (str, int)) or isinstance(raw, bool) or not str(raw).strip():
        return None
    text = str(raw).strip()
    try:
        if name == "phone":
            return normalize_told_phone(text, region)
        if name == "email":
            return normalize_email(text)
    except InvalidIdentity:
        return None
    return text[:64]


def reasked(asked: Iterable[str], known: Mapping[str, Any]) -> list[str]:
    """The facts the assistant asked for this turn although the customer had given them before it began."""
    return sorted({name for name in asked if known.get(name) not in (None, "")})
