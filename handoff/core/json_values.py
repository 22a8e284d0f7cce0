"""JSON as the service reads and writes it: strict at the door (finite numbers, bounded depth), finite on the way out.

Python's json accepts `NaN`, `Infinity` and `1e400` (read as infinity) and writes them back as tokens no other JSON
reader accepts; a stored NaN would then fail every response that carries it. Pure functions only.
"""
from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32  # providers' bodies nest 6 or 7 levels; deeper is not a webhook


class JsonRefused(ValueError):
    """A body that is not strict JSON: not UTF-8, not JSON, a non-finite number, or nested too deep."""


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonRefused(f"{text[:32]} is out of range")
    return number


def depth(value: Any) -> int:
    """How deep objects and arrays nest (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def nul_at(value: Any) -> bool:
    """Whether a string (or key) anywhere in `value` holds U+0000, which PostgreSQL cannot store in text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


NUL_REFUSED = "a string holds U+0000 (NUL), which cannot be stored"


def load_strict(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parses a provider's body; raises JsonRefused for NaN/Infinity, huge exponents, bad UTF-8 or deep nesting."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except JsonRefused:
        raise
    except RecursionError as exc:
        raise JsonRefused(f"nested deeper than {max_depth} levels") from exc
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError also covers integers of thousands of digits
        raise JsonRefused("body is not JSON") from exc
    if depth(value) > max_depth:
        raise JsonRefused(f"nested deeper than {max_depth} levels")
    return value


def load_strict_object(body: bytes) -> dict[str, Any]:
    """A provider's body that must be one JSON object (every webhook is); raises JsonRefused as `load_strict`, or
    when it is another JSON value."""
    value = load_strict(body)
    if not isinstance(value, dict):
        raise JsonRefused("body is not an object")
    return value


def finite(value: Any) -> Any:
    """A copy where every NaN or infinity is None, so it renders as strict JSON; other values are kept."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def is_finite(value: Any) -> bool:
    """Whether `value` renders as strict JSON as it is (no NaN or infinity anywhere in it)."""
    try:
        json.dumps(value, allow_nan=False, default=str)
    except (ValueError, RecursionError):
        return False
    return True
