"""One-time verification codes: a visitor proves a phone is theirs by typing the code sent to it, and becomes the
customer who owns that phone.

Codes come from `secrets`, are kept only as HMAC-SHA256 under the service's secret key (keyed by the code's random
id too, so equal codes never hash equal), expire after five minutes, allow five tries, and at most three are sent
per phone and per session an hour (counted in the shared rate-limit storage, so every worker holds one count).
The decisions are pure functions; `Verifications` does the reading and writing around them.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

import structlog
from limits.aio.storage import Storage
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.customers import follow_merges
from handoff.core.identity import InvalidIdentity, normalize_phone
from handoff.core.merge_evidence import link_verified_identity
from handoff.core.ratelimit import RateLimit, hit_all
from handoff.core.signing import same_secret
from handoff.store.models import Customer, VerificationCode, new_id, utcnow

log = structlog.get_logger(__name__)

CODE_DIGITS = 6
LIFETIME = timedelta(minutes=5)
MAX_TRIES = 5
CODES_PER_HOUR = 3
HOUR = 3600.0
CHANNELS = frozenset({"whatsapp", "voice"})
VERIFIED_BY = {"whatsapp": "otp_whatsapp", "voice": "otp_voice"}
# What a customer types: six digits, maybe split in two by a space, a dash or a dot ("123 456").
TYPED_CODE_RE = re.compile(r"\s*([0-9]{3})[\s.-]?([0-9]{3})\s*")

Verdict = Literal["verified", "wrong", "expired", "exhausted", "no_code"]
Refusal = Literal["not_a_phone", "too_many_for_phone", "too_many_for_session", "unknown_channel"]
Step = Literal["carry_on", "retry", "new_code", "handoff"]


def new_code() -> str:
    """Six uniformly random digits from the operating system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: bytes, code_id: str, code: str) -> bytes:
    """What is stored instead of the code: without the service's key a stolen row gives no way to test guesses."""
    return hmac.new(key, f"{code_id}:{code}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def typed_code(text: object) -> str | None:
    """The code in a customer's message that is only a code ("123456", "123 456"), else None."""
    if not isinstance(text, str) or len(text) > 32:
        return None
    match = TYPED_CODE_RE.fullmatch(text)
    return match.group(1) + match.group(2) if match else None


@dataclass(frozen=True)
class PendingCode:
    """What an attempt is judged against: the stored row's state, never the code."""

    id: str
    code_hash: bytes = field(repr=False)
    attempts: int
    status: str
    expires_at: datetime


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back naive UTC; PostgreSQL aware: compared as aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def issue_refusal(channel: str, identity_allowed: bool, session_allowed: bool) -> Refusal | None:
    """Why no code may be sent now (the phone or the session had its three this hour), or None: send it."""
    if channel not in CHANNELS:
        return "unknown_channel"
    if not identity_allowed:
        return "too_many_for_phone"
    if not session_allowed:
        return "too_many_for_session"
    return None


def judge_attempt(key: bytes, pending: PendingCode | None, typed: str, now: datetime) -> Verdict:
    """Whether `typed` is the pending code, compared in constant time on the hashes' bytes."""
    if pending is None or pending.status != "pending":
        return "no_code"
    if as_utc(now) >= as_utc(pending.expires_at):
        return "expired"
    if pending.attempts >= MAX_TRIES:
        return "exhausted"
    return "verified" if same_secret(code_hash(key, pending.id, typed), pending.code_hash) else "wrong"


def after_attempt(verdict: Verdict, tries_used: int) -> tuple[Step, int]:
    """What happens next, and the tries left: carry on verified, try again, ask for a new code, or hand off to
    people (reason verification_failed) once the tries are spent."""
    if verdict == "verified":
        return "carry_on", 0
    if verdict == "wrong" and tries_used < MAX_TRIES:
        return "retry", MAX_TRIES - tries_used
    if verdict in ("wrong", "exhausted"):
        return "handoff", 0
    return "new_code", 0  # expired, or none pending: the customer may ask for another


@dataclass(frozen=True)
class Issued:
    """A code to deliver: the plain code exists only here, for the sender, and is never shown by repr."""

    id: str
    identity_kind: str
    identity_value: str
    channel: str
    expires_at: datetime
    code: str = field(repr=False)


@dataclass(frozen=True)
class Refused:
    """No code was issued, and why."""

    reason: Refusal


@dataclass(frozen=True)
class Attempt:
    """The outcome of a typed code: the verdict, what next, and (verified) who the visitor turned out to be."""

    verdict: Verdict
    step: Step
    tries_left: int
    customer: Customer | None = None
    verified_by: str | None = None


class Verifications:
    """Issues codes and checks typed ones; the caller delivers the code and commits the session it passes."""

    def __init__(self, key: bytes, storage: Storage, clock: Callable[[], datetime] = utcnow) -> None:
        self.key = key
        self.per_identity = RateLimit(storage, "otp-codes-per-identity", CODES_PER_HOUR, HOUR)
        self.per_session = RateLimit(storage, "otp-codes-per-session", CODES_PER_HOUR, HOUR)
        self.clock = clock

    async def issue(self, session: AsyncSession, *, session_key: str, customer_id: str, phone: str,
                    channel: str) -> Issued | Refused:
        """A new code for `phone`, replacing any the session still has pending, unless a limit refuses it."""
        try:
            value = normalize_phone(phone)
        except InvalidIdentity:
            return Refused("not_a_phone")
        identity_key = f"phone:{value}"
        refusal = issue_refusal(channel, await self.per_identity.allows(identity_key),
                                await self.per_session.allows(session_key))
        if refusal is None and not await hit_all((self.per_identity, identity_key), (self.per_session, session_key)):
            refusal = "too_many_for_phone"  # another worker took the last one between the check and the count
        if refusal is not None:
            log.info("verification_code_refused", reason=refusal, customer_id=customer_id)
            return Refused(refusal)
        now = self.clock()
        await session.execute(update(VerificationCode)
                              .where(VerificationCode.session_key == session_key,
                                     VerificationCode.status == "pending")
                              .values(status="superseded", ended_at=now))
        code, code_id = new_code(), new_id()
        row = VerificationCode(id=code_id, session_key=session_key, customer_id=customer_id, identity_kind="phone",
                               identity_value=value, channel=channel, code_hash=code_hash(self.key, code_id, code),
                               attempts=0, status="pending", created_at=now, expires_at=now + LIFETIME)
        session.add(row)
        await session.flush()
        log.info("verification_code_issued", code_id=code_id, customer_id=customer_id, channel=channel)
        return Issued(code_id, "phone", value, channel, row.expires_at, code)

    async def delivered_by(self, session: AsyncSession, code_id: str, channel: str) -> None:
        """The code went out another way (WhatsApp could not deliver: read in a call): success is verified by it."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown verification channel: {channel!r}")
        await session.execute(update(VerificationCode).where(VerificationCode.id == code_id).values(channel=channel))

    async def withdraw(self, session: AsyncSession, code_id: str) -> None:
        """No courier delivered the code: it can never be typed (status undelivered)."""
        await session.execute(update(VerificationCode)
                              .where(VerificationCode.id == code_id, VerificationCode.status == "pending")
                              .values(status="undelivered", ended_at=self.clock()))

    async def pending(self, session: AsyncSession, session_key: str) -> VerificationCode | None:
        """The session's code still waiting to be typed (expired or not), if any."""
        row: VerificationCode | None = await session.scalar(
            select(VerificationCode).where(VerificationCode.session_key == session_key,
                                           VerificationCode.status == "pending")
            .order_by(VerificationCode.created_at.desc()).limit(1))
        return row

    async def attempt(self, session: AsyncSession, session_key: str, typed: str) -> Attempt:
        """Checks a code typed in this session ("123 456" too; a code sent for another session is never found here).

        The try is counted with one conditional UPDATE before it counts as verified, so workers checking guesses
        for one code at once never get more than five between them.
        """
        now = self.clock()
        row = await self.pending(session, session_key)
        state = None if row is None else PendingCode(row.id, row.code_hash, row.attempts, row.status, row.expires_at)
        verdict = judge_attempt(self.key, state, typed_code(typed) or typed, now)
        if row is not None and verdict in ("verified", "wrong") and not await self._count_try(session, row.id):
            verdict = "exhausted"
        tries_used = 0 if row is None else row.attempts + (1 if verdict in ("verified", "wrong") else 0)
        step, tries_left = after_attempt(verdict, tries_used)
        if row is None:
            return Attempt(verdict, step, tries_left)
        ended = {"verified": "verified", "expired": "expired", "exhausted": "failed"}.get(verdict)
        if step == "handoff":
            ended = "failed"
        if ended is not None:
            await session.execute(update(VerificationCode)  # still pending: another worker's success stands
                                  .where(VerificationCode.id == row.id, VerificationCode.status == "pending")
                                  .values(status=ended, ended_at=now))
        log.info("verification_code_attempt", code_id=row.id, verdict=verdict, tries_left=tries_left)
        if verdict != "verified":
            return Attempt(verdict, step, tries_left)
        verified_by = VERIFIED_BY[row.channel]
        visitor = await follow_merges(session, await session.get_one(Customer, row.customer_id))
        continuing = await link_verified_identity(session, visitor, row.identity_kind, row.identity_value,
                                                  verified_by)
        return Attempt(verdict, step, 0, continuing, verified_by)

    async def _count_try(self, session: AsyncSession, code_id: str) -> bool:
        result = await session.execute(
            update(VerificationCode)
            .where(VerificationCode.id == code_id, VerificationCode.status == "pending",
                   VerificationCode.attempts < MAX_TRIES)
            .values(attempts=VerificationCode.attempts + 1)
            .execution_options(synchronize_session=False))
        return isinstance(result, CursorResult) and result.rowcount == 1
