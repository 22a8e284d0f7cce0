"""Verification codes' pure decisions: the code, its hash, what counts as typed, each verdict and what follows."""
from __future__ import annotations

from datetime import timedelta

from handoff.core.verification import (
    LIFETIME,
    MAX_TRIES,
    PendingCode,
    after_attempt,
    code_hash,
    issue_refusal,
    judge_attempt,
    new_code,
    typed_code,
)
from handoff.store.models import utcnow

KEY = b"test-secret-key"


def pending(code: str = "042917", **changes: object) -> PendingCode:
    now = utcnow()
    fields: dict[str, object] = {"id": "c1", "code_hash": code_hash(KEY, "c1", code), "attempts": 0,
                                 "status": "pending", "expires_at": now + LIFETIME}
    fields.update(changes)
    return PendingCode(**fields)  # type: ignore[arg-type]


def test_codes_are_six_random_digits_with_leading_zeros_kept() -> None:
    codes = {new_code() for _ in range(2000)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 1990  # 2000 draws from a million: a repeat or two at most
    assert any(code.startswith("0") for code in codes)


def test_the_hash_needs_the_key_and_differs_per_code_id() -> None:
    assert code_hash(KEY, "c1", "123456") != code_hash(b"other-key", "c1", "123456")
    assert code_hash(KEY, "c1", "123456") != code_hash(KEY, "c2", "123456")
    assert b"123456" not in code_hash(KEY, "c1", "123456")
    assert "123456" not in repr(pending("123456"))


def test_a_typed_code_is_a_message_of_six_digits_maybe_split() -> None:
    assert typed_code("042917") == "042917"
    assert typed_code(" 042 917 ") == "042917"
    assert typed_code("042-917") == "042917"
    for text in ("42917", "0429170", "mi código es 042917", "abcdef", "０４２９１７", None, "1" * 40):
        assert typed_code(text) is None, text


def test_the_right_code_verifies_a_wrong_one_does_not() -> None:
    now = utcnow()
    assert judge_attempt(KEY, pending(), "042917", now) == "verified"
    assert judge_attempt(KEY, pending(), "042918", now) == "wrong"
    assert judge_attempt(KEY, pending(), "", now) == "wrong"
    assert judge_attempt(KEY, pending(), "04291é", now) == "wrong"  # any characters: just unequal
    assert judge_attempt(b"another-key", pending(), "042917", now) == "wrong"


def test_expired_spent_settled_or_missing_codes_never_verify() -> None:
    now = utcnow()
    assert judge_attempt(KEY, pending(expires_at=now), "042917", now) == "expired"
    assert judge_attempt(KEY, pending(expires_at=now - timedelta(seconds=1)), "042917", now) == "expired"
    assert judge_attempt(KEY, pending(attempts=MAX_TRIES), "042917", now) == "exhausted"
    for status in ("verified", "failed", "superseded", "expired"):
        assert judge_attempt(KEY, pending(status=status), "042917", now) == "no_code"
    assert judge_attempt(KEY, None, "042917", now) == "no_code"


def test_after_a_failure_retry_until_the_fifth_then_hand_off() -> None:
    assert after_attempt("verified", 1) == ("carry_on", 0)
    assert [after_attempt("wrong", used) for used in range(1, 5)] == [("retry", 4), ("retry", 3), ("retry", 2),
                                                                      ("retry", 1)]
    assert after_attempt("wrong", 5) == ("handoff", 0)
    assert after_attempt("exhausted", 5) == ("handoff", 0)
    assert after_attempt("expired", 2) == ("new_code", 0)
    assert after_attempt("no_code", 0) == ("new_code", 0)


def test_may_a_code_be_issued() -> None:
    assert issue_refusal("whatsapp", True, True) is None
    assert issue_refusal("voice", True, True) is None
    assert issue_refusal("sms", True, True) == "unknown_channel"
    assert issue_refusal("whatsapp", False, True) == "too_many_for_phone"
    assert issue_refusal("whatsapp", True, False) == "too_many_for_session"
