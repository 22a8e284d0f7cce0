"""Pure decisions of merging: which open case stays, how facts combine and come apart, when an undo is refused."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.core.refusals import Refused

# How far people have taken an open case: the combined case stays with whoever holds the conversation.
STATUS_RANK = {"assigned": 3, "queued": 2, "bot": 1}
MERGED = "merged"  # the status of a case another open case absorbed (merged_into_case_id says which)
NAME_AND_ORDER = "name_and_order"  # suggestion evidence: same display name and same order number


class MergeRefused(Refused):
    """A merge or undo that cannot be done as asked: `status` is the HTTP answer that says why."""


def absorbs(first_status: str, second_status: str) -> bool:
    """Whether the first open case absorbs the second: the one people hold further stays; a tie keeps the first."""
    return STATUS_RANK.get(first_status, 0) >= STATUS_RANK.get(second_status, 0)


@dataclass(frozen=True)
class FactsChange:
    """The survivor's facts after a merge and, per key the merge wrote, the value before (absent: not in it)."""

    facts: dict[str, Any]
    before: dict[str, Any]
    absent: frozenset[str]


def combined_facts(survivor: Mapping[str, Any], absorbed: Mapping[str, Any]) -> FactsChange:
    """The survivor keeps what it knows; what only the absorbed customer knew fills the gaps."""
    facts = dict(survivor)
    before: dict[str, Any] = {}
    absent: set[str] = set()
    for key, value in absorbed.items():
        if value in (None, "") or facts.get(key) not in (None, ""):
            continue
        if key in facts:
            before[key] = facts[key]
        else:
            absent.add(key)
        facts[key] = value
    return FactsChange(facts, before, frozenset(absent))


def facts_after_undo(current: Mapping[str, Any], merged: Mapping[str, Any], before: Mapping[str, Any],
                     absent: Iterable[str]) -> dict[str, Any]:
    """The survivor's facts with the merge's writes taken back; a key changed since (learnt later) stays."""
    facts = dict(current)
    for key in absent:
        if key in facts and facts[key] == merged.get(key):
            del facts[key]
    for key, value in before.items():
        if facts.get(key) == merged.get(key):
            facts[key] = value
    return facts


def filled(survivor_value: str | None, absorbed_value: str | None) -> str | None:
    """A survivor's empty name or language takes the absorbed customer's."""
    return survivor_value if survivor_value else absorbed_value


def undo_refusal(undone: bool, later_merges: Iterable[str], absorbed_case_intact: bool) -> str | None:
    """Why an exact undo is impossible now, or None: undone already, a later merge of the same customers or cases
    not undone first (undo the newest first), or the absorbed case changed since (someone reopened it)."""
    if undone:
        return "this merge was already undone"
    pending = sorted(later_merges)
    if pending:
        return f"a later merge involving these customers or cases is not undone: undo {pending[0]} first"
    if not absorbed_case_intact:
        return "the absorbed case changed since the merge: it cannot be restored exactly"
    return None


def same_person_by_name_and_order(name: str | None, order: object, other_name: str | None,
                                  other_order: object) -> bool:
    """Unverified evidence of one person: the same display name (case and spaces aside) and the same order number."""
    if not name or not other_name or order in (None, "") or other_order in (None, ""):
        return False
    return " ".join(name.split()).casefold() == " ".join(other_name.split()).casefold() and \
        str(order).strip() == str(other_order).strip()
