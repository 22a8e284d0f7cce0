"""Secrets compared on bytes: a value from a client, whatever its characters, is unequal, never an exception."""
from __future__ import annotations

import pytest

from handoff.core.signing import issue_token, same_secret, verify_token

KEY = b"k" * 32
MALFORMED = ["sha256=é…", "\ud800", "é", "ñ" * 64, "", "a\x00b"]


def test_same_secret_compares_utf8_bytes_of_any_text() -> None:
    assert same_secret("sha256=ab", "sha256=ab") and same_secret("é", "é".encode())
    assert not same_secret("sha256=ab", "sha256=ac")
    assert not same_secret(None, "x")
    for value in MALFORMED:
        assert not same_secret(value, "sha256=0123")
        assert not same_secret("sha256=0123", value)


@pytest.mark.parametrize("value", MALFORMED + ["x.é", "é.x", "x.\ud800", "a.b.c", "x." + "y" * 200, 12])
def test_a_malformed_token_is_not_ours(value: object) -> None:
    assert not verify_token(KEY, value)


def test_an_issued_token_still_verifies_and_a_forged_one_does_not() -> None:
    token = issue_token(KEY)
    raw, signature = token.split(".")
    assert verify_token(KEY, token)
    assert not verify_token(b"another key", token)
    assert not verify_token(KEY, f"{raw}.{signature[:-1]}é")
