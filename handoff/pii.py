"""Masking of phone numbers and emails, so logs can be shipped without leaking customers' contacts."""
from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{6,}\d(?![\w])")


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 8:  # short numbers are order numbers, times, amounts: leave them readable
        return match.group(0)
    prefix = "+" if match.group(0).startswith("+") else ""
    return f"{prefix}{'*' * (len(digits) - 4)}{digits[-4:]}"


def mask_text(text: str) -> str:
    """`ana.lopez@example.com` → `a***@example.com`; `+52 55 1234 5678` → `+********5678`."""
    return PHONE.sub(_mask_phone, EMAIL.sub(r"\1***@\2", text))


def mask(value: Any) -> Any:
    """Masks strings anywhere inside dicts, lists and tuples."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask(item) for item in value)
    return value
