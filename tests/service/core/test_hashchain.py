from datetime import datetime, timedelta, timezone

from handoff.core.hashchain import GENESIS, event_hash, utc_iso, verify_chain


def make_chain(count: int) -> list[dict]:
    events, previous = [], GENESIS
    start = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    for seq in range(1, count + 1):
        event = {"case_id": "c1", "seq": seq, "created_at": start + timedelta(seconds=seq), "channel": "webchat",
                 "direction": "in", "actor": "customer", "kind": "message", "text": f"mensaje {seq}",
                 "payload": {"n": seq}, "provider_id": None, "prev_hash": previous}
        event["hash"] = event_hash(event)
        previous = event["hash"]
        events.append(event)
    return events


def test_intact_chain_verifies() -> None:
    check = verify_chain(make_chain(5))
    assert check.ok and check.checked == 5


def test_one_altered_character_is_detected() -> None:
    events = make_chain(5)
    events[2]["text"] = "mensaje 4"
    check = verify_chain(events)
    assert not check.ok and check.seq == 3 and "altered" in check.problem


def test_removed_event_is_detected() -> None:
    events = make_chain(5)
    del events[1]
    assert not verify_chain(events).ok


def test_removed_last_event_is_not_detectable_without_the_head_but_a_middle_one_is() -> None:
    events = make_chain(5)
    assert verify_chain(events[:4]).ok  # a prefix is a valid chain: exports carry the head hash
    assert not verify_chain(events[:2] + events[3:]).ok


def test_swapped_events_are_detected() -> None:
    events = make_chain(5)
    events[1], events[2] = events[2], events[1]
    assert not verify_chain(events).ok


def test_naive_and_aware_times_hash_alike() -> None:
    aware = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    assert utc_iso(aware) == utc_iso(aware.replace(tzinfo=None)) == "2026-01-02T03:04:05.678901Z"
