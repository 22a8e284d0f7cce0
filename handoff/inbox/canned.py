"""Canned responses: pick those of the case's team and fill their variables (pure)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from handoff.core.operations import CannedResponse
from handoff.store.models import Case, Customer

VARIABLE = re.compile(r"\{([a-z_]+)\}")


def case_values(case: Case, customer: Customer | None, agent_name: str | None) -> dict[str, object]:
    """What a canned response's `{name}` or a template's parameter may be filled with: the case and its customer."""
    facts = (customer.facts or {}) if customer else {}
    return {"customer_name": customer.display_name if customer else None, "agent_name": agent_name,
            "case_id": case.id, "team": case.team, **facts}


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
