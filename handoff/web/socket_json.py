"""The `json` module python-socketio is given: every push and history it sends is strict JSON.

A NaN or infinity stored by an older version would otherwise go out as a `NaN` token that the browser's
JSON.parse refuses, and that page would stop updating. Reading bounds integers (100 digits) as engine.io does.
"""
from __future__ import annotations

import json
from typing import Any

from handoff.core.json_values import finite


def _bounded_int(text: str) -> int:
    if len(text) > 100:
        raise ValueError("Integer is too large")
    return int(text)


class StrictJson:
    """Stands in for the json module: `dumps` never writes NaN or Infinity; `loads` bounds integers like engine.io."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        try:
            return json.dumps(obj, *args, **{**kwargs, "allow_nan": False})
        except ValueError:
            return json.dumps(finite(obj), *args, **kwargs)

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        return json.loads(text, *args, **{"parse_int": _bounded_int, **kwargs})
