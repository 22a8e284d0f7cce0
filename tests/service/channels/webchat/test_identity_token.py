"""A site's signed identity token is checked before anything is stored (issue 13): only HS256 with the site's
secret, `exp` and `sub` required, `exp` not too far ahead, claims of the right type and size."""
from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from handoff.channels.webchat.identity_token import IdentityTokens, Refused, SiteIdentity

SECRET = "site-identity-secret-0123456789abcdef"
tokens = IdentityTokens(SECRET, max_hours=24)


def signed(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "crm-42", "exp": int(time.time()) + 3600, **extra}


def b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_a_valid_token_names_the_sites_customer_with_normalized_identities() -> None:
    identity = tokens.verify(signed(claims(email=" Ana@Example.MX ", phone="+52 55 1234 5678", name="Ana García")))
    assert identity == SiteIdentity(crm_id="crm-42", email="ana@example.mx", phone="+525512345678",
                                    name="Ana García")
    assert identity.identities() == [("crm", "crm-42"), ("phone", "+525512345678"), ("email", "ana@example.mx")]
    assert tokens.verify(signed(claims())) == SiteIdentity(crm_id="crm-42")


BAD = [
    (signed(claims(exp=int(time.time()) - 3600)), "expired"),
    (signed(claims(), secret="another-site-secret-0123456789abcdef"), "signature"),
    (signed(claims())[:-2] + ("AA" if not signed(claims()).endswith("AA") else "BB"), "signature"),
    (f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.", "algorithm"),
    (signed(claims(), algorithm="HS512", secret=SECRET + SECRET), "algorithm"),
    (signed(claims(exp=int(time.time()) + 25 * 3600)), "exp_too_far"),
    (signed({"sub": "crm-42"}), "missing_exp"),
    (signed({"exp": int(time.time()) + 3600}), "missing_sub"),
    (signed(claims(sub="")), "claim_sub"),
    (signed(claims(sub="x" * 256)), "claim_sub"),
    (signed(claims(name="n" * 201)), "claim_name"),
    (signed(claims(email="a" * 250 + "@x.mx")), "claim_email"),
    (signed(claims(phone=5512345678)), "claim_phone"),
    (signed(claims(phone="no es un teléfono")), "claim_phone"),
    (signed(claims(email="not-an-email")), "claim_email"),
    (signed(claims(name="Ana\x00")), "claim_name"),
    ("x" * 5000, "malformed"),
    ("not.a.token", "malformed"),
    (12345, "malformed"),
]


@pytest.mark.parametrize(("token", "reason"), BAD, ids=[f"{index}-{reason}" for index, (_, reason) in enumerate(BAD)])
def test_a_bad_token_is_refused_with_a_reason_that_names_no_claim(token: object, reason: str) -> None:
    refused = tokens.verify(token)
    assert refused == Refused(reason)


def test_an_altered_payload_keeps_its_signature_and_is_refused() -> None:
    header, _, signature = signed(claims()).split(".")
    assert tokens.verify(f"{header}.{b64(claims(sub='crm-1'))}.{signature}") == Refused("signature")


def test_an_rs256_token_is_refused_even_when_signed_with_the_secret_as_hs256_key() -> None:
    """The key confusion attack: a header claiming RS256 must never be checked as anything but HS256."""
    header = b64({"alg": "RS256", "typ": "JWT"})
    assert tokens.verify(f"{header}.{b64(claims())}.c2lnbmF0dXJl") == Refused("algorithm")


def test_without_a_configured_secret_every_token_is_refused() -> None:
    assert IdentityTokens(None, max_hours=24).verify(signed(claims())) == Refused("not_configured")
