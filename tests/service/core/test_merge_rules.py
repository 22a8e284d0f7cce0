"""The pure decisions of merging: which open case stays, facts in and out, when undo is refused, suggestions."""
from __future__ import annotations

from handoff.core.merge_rules import (
    absorbs,
    combined_facts,
    facts_after_undo,
    same_person_by_name_and_order,
    undo_refusal,
)


def test_the_case_people_hold_further_stays_and_a_tie_keeps_the_first() -> None:
    assert absorbs("assigned", "queued") and absorbs("queued", "bot") and absorbs("bot", "bot")
    assert not absorbs("bot", "assigned") and not absorbs("queued", "assigned")


def test_the_survivor_keeps_its_facts_and_the_absorbed_fills_gaps() -> None:
    change = combined_facts({"order_number": "1", "email": ""}, {"order_number": "2", "email": "a@b.mx",
                                                                  "phone": "+525512345678", "name": None})
    assert change.facts == {"order_number": "1", "email": "a@b.mx", "phone": "+525512345678"}
    assert change.before == {"email": ""} and change.absent == {"phone"}


def test_undo_takes_back_only_what_the_merge_wrote_and_keeps_what_was_learnt_since() -> None:
    change = combined_facts({"order_number": "1", "email": ""}, {"email": "a@b.mx", "phone": "+525512345678"})
    merged = {key: change.facts[key] for key in (*change.before, *change.absent)}
    assert facts_after_undo(change.facts, merged, change.before, change.absent) == {"order_number": "1",
                                                                                   "email": ""}
    later = {**change.facts, "phone": "+525599999999", "language": "es"}
    assert facts_after_undo(later, merged, change.before, change.absent) == {
        "order_number": "1", "email": "", "phone": "+525599999999", "language": "es"}


def test_undo_is_refused_when_it_cannot_be_exact() -> None:
    assert undo_refusal(False, [], True) is None
    assert undo_refusal(True, [], True) == "this merge was already undone"
    refusal = undo_refusal(False, ["m2", "m1"], True)
    assert refusal is not None and "undo m1 first" in refusal
    assert undo_refusal(False, [], False) is not None


def test_same_name_and_order_is_evidence_only_with_both() -> None:
    assert same_person_by_name_and_order(" Ana  López", "100002", "ana lópez", 100002)
    assert not same_person_by_name_and_order("Ana", "100002", "Ana", "100003")
    assert not same_person_by_name_and_order("Ana", None, "Ana", None)
    assert not same_person_by_name_and_order(None, "1", "Ana", "1")
