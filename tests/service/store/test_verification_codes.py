"""Verification codes on SQLite and PostgreSQL: a typed code makes the visitor the phone's customer, and nothing but
the code's keyed hash is ever stored or logged; wrong, expired, replayed and too many codes never verify."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from limits.aio.storage import MemoryStorage
from sqlalchemy import select

from handoff.core.customers import resolve_customer
from handoff.core.verification import LIFETIME, MAX_TRIES, Issued, Refused, Verifications
from handoff.store.models import Case, Identity, Merge, VerificationCode, utcnow
from tests.service.support.codes import text_columns
from tests.service.support.merging import Sessions, chains_ok, two_customers

KEY = b"test-secret-key"


async def issue(sessions: Sessions, verifications: Verifications, session_key: str, customer_id: str,
                phone: str, channel: str = "whatsapp") -> Issued | Refused:
    async with sessions() as session, session.begin():
        return await verifications.issue(session, session_key=session_key, customer_id=customer_id, phone=phone,
                                         channel=channel)


async def attempt(sessions: Sessions, verifications: Verifications, session_key: str, typed: str) -> Any:
    async with sessions() as session, session.begin():
        return await verifications.attempt(session, session_key, typed)


async def test_the_right_code_verifies_the_phone_and_merges_the_visitor_into_its_customer(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    verifications = Verifications(KEY, MemoryStorage())
    with structlog.testing.capture_logs() as logs:
        issued = await issue(sessions, verifications, "web-session-1", ids["visitor"], "+52 55 1234 5678")
        assert isinstance(issued, Issued) and issued.identity_value == ids["phone"]
        wrong = "000000" if issued.code != "000000" else "111111"
        first = await attempt(sessions, verifications, "web-session-1", wrong)
        assert (first.verdict, first.step, first.tries_left) == ("wrong", "retry", MAX_TRIES - 1)
        done = await attempt(sessions, verifications, "web-session-1", f"{issued.code[:3]} {issued.code[3:]}")
    assert (done.verdict, done.step, done.verified_by) == ("verified", "carry_on", "otp_whatsapp")
    assert done.customer is not None and done.customer.id == ids["ana"]  # the visitor continues as Ana
    async with sessions() as session:
        merge = await session.scalar(select(Merge))
        assert merge is not None and merge.absorbed_customer_id == ids["visitor"]
        assert merge.evidence["verified_by"] == "otp_whatsapp"
        open_cases = list(await session.scalars(select(Case).where(Case.customer_id == ids["ana"],
                                                                   Case.status.in_(("bot", "queued", "assigned")))))
        assert [case.id for case in open_cases] == [ids["ana_open"]]  # the cases became one
        row = await session.scalar(select(VerificationCode))
        assert row is not None and (row.status, row.attempts) == ("verified", 2) and len(row.code_hash) == 32
    assert (await attempt(sessions, verifications, "web-session-1", issued.code)).verdict == "no_code"  # once
    assert not any(issued.code in value for value in await text_columns(sessions))
    assert not any(issued.code in repr(entry) for entry in logs)
    assert any(entry["event"] == "verification_code_issued" for entry in logs)
    await chains_ok(sessions)


async def test_a_phone_nobody_owns_becomes_the_visitors_verified_identity_by_voice(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-9")
    verifications = Verifications(KEY, MemoryStorage())
    issued = await issue(sessions, verifications, "s9", visitor.id, "+14155550123")
    assert isinstance(issued, Issued)
    async with sessions() as session, session.begin():
        await verifications.delivered_by(session, issued.id, "voice")  # WhatsApp could not deliver: a call
    done = await attempt(sessions, verifications, "s9", issued.code)
    assert (done.verdict, done.verified_by) == ("verified", "otp_voice") and done.customer.id == visitor.id
    async with sessions() as session:
        identity = await session.scalar(select(Identity).where(Identity.kind == "phone"))
        assert identity is not None
        assert (identity.customer_id, identity.value, identity.verified, identity.verified_by) == (
            visitor.id, "+14155550123", True, "otp_voice")


async def test_five_wrong_tries_spend_the_code_and_hand_off(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    verifications = Verifications(KEY, MemoryStorage())
    issued = await issue(sessions, verifications, "s1", ids["visitor"], ids["phone"])
    assert isinstance(issued, Issued)
    wrong = f"{(int(issued.code) + 1) % 1_000_000:06d}"
    steps = [(await attempt(sessions, verifications, "s1", wrong)).step for _ in range(MAX_TRIES)]
    assert steps == ["retry"] * (MAX_TRIES - 1) + ["handoff"]
    late = await attempt(sessions, verifications, "s1", issued.code)  # the right one, too late
    assert late.verdict == "no_code" and late.customer is None
    async with sessions() as session:
        row = await session.get_one(VerificationCode, issued.id)
        assert (row.status, row.attempts) == ("failed", MAX_TRIES)
        assert await session.scalar(select(Merge)) is None


async def test_an_expired_code_never_verifies(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    storage = MemoryStorage()
    issued = await issue(sessions, Verifications(KEY, storage), "s1", ids["visitor"], ids["phone"])
    assert isinstance(issued, Issued)
    later: datetime = utcnow() + LIFETIME + timedelta(seconds=1)
    late = await attempt(sessions, Verifications(KEY, storage, clock=lambda: later), "s1", issued.code)
    assert (late.verdict, late.step) == ("expired", "new_code")
    async with sessions() as session:
        assert (await session.get_one(VerificationCode, issued.id)).status == "expired"
        assert await session.scalar(select(Merge)) is None


async def test_a_code_replayed_on_another_session_never_verifies(sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    verifications = Verifications(KEY, MemoryStorage())
    issued = await issue(sessions, verifications, "victim-session", ids["visitor"], ids["phone"])
    assert isinstance(issued, Issued)
    async with sessions() as session, session.begin():
        attacker = await resolve_customer(session, "webchat", "attacker")
    assert (await attempt(sessions, verifications, "attacker-session", issued.code)).verdict == "no_code"
    own = await issue(sessions, verifications, "attacker-session", attacker.id, ids["phone"])
    assert isinstance(own, Issued)
    if own.code != issued.code:
        assert (await attempt(sessions, verifications, "attacker-session", issued.code)).verdict == "wrong"
    async with sessions() as session:
        assert await session.scalar(select(Merge)) is None


async def test_three_codes_per_phone_and_per_session_an_hour_and_a_new_code_replaces_the_old(
        sessions: Sessions) -> None:
    ids = await two_customers(sessions)
    verifications = Verifications(KEY, MemoryStorage())
    codes = [await issue(sessions, verifications, f"s{n}", ids["visitor"], ids["phone"]) for n in range(4)]
    assert [type(code).__name__ for code in codes] == ["Issued"] * 3 + ["Refused"]
    assert codes[3] == Refused("too_many_for_phone")
    phones = ["+14155550101", "+14155550102", "+14155550103", "+14155550104"]
    per_session = [await issue(sessions, verifications, "one-session", ids["visitor"], p) for p in phones]
    assert per_session[3] == Refused("too_many_for_session")
    first, last = per_session[0], per_session[2]
    assert isinstance(first, Issued) and isinstance(last, Issued)
    if first.code != last.code:  # the first code was replaced by the later ones
        assert (await attempt(sessions, verifications, "one-session", first.code)).verdict == "wrong"
    async with sessions() as session:
        statuses = [row.status for row in await session.scalars(
            select(VerificationCode).where(VerificationCode.session_key == "one-session")
            .order_by(VerificationCode.created_at))]
    assert statuses == ["superseded", "superseded", "pending"]
    assert await issue(sessions, verifications, "s9", ids["visitor"], "not a phone") == Refused("not_a_phone")
