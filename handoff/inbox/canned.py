"""Canned responses: pick those of the case's team and fill their variables (pure)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from handoff.core.operations import CannedResponse

VARIABLE = re.compile(r"\{([a-z_]+)\}")


def fill(template: str, values: Mapping[str, object]) -> str:
    """Replaces `{name}` with its value; an unknown value stays visible as `[name]` for the agent to complete."""
    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return str(found) if found not in (None, "") else f"[{match.group(1)}]"
    return VARIABLE.sub(value, template)


def for_case(responses: Iterable[CannedResponse], team: str | None, language: str,
             values: Mapping[str, object]) -> list[dict[str, str]]:
    """The responses an agent may use on this case, filled in the customer's language."""
    usable = []
    for response in responses:
        if response.teams and team not in response.teams:
            continue
        template = response.text.get(language) or next(iter(response.text.values()), "")
        usable.append({"key": response.key, "title": response.title, "text": fill(template, values)})
    return usable
