"""Getting a verification code to a phone: WhatsApp first, a phone call that reads it when WhatsApp cannot.

The doors implement `CodeCourier`; the code is handed to them in memory and never stored, logged or put on the
timeline (a courier's error says what failed, never what was sent).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.verification import Issued, Refused, Verifications

log = structlog.get_logger(__name__)

PREFERENCE = ("whatsapp", "voice")  # a message the customer can copy the code from, else a call that reads it


class CodeCourier(Protocol):
    """One way to reach a phone with a code (a door's adapter)."""

    @property
    def channel(self) -> str: ...

    @property
    def configured(self) -> bool: ...

    async def deliver(self, phone: str, code: str, language: str) -> str | None:
        """None when the provider accepted it, else why not (without the code)."""


def delivery_order(couriers: Sequence[CodeCourier]) -> list[CodeCourier]:
    """The configured couriers, WhatsApp before voice (any other after, in the order given)."""
    ready = [courier for courier in couriers if courier.configured]
    return sorted(ready, key=lambda c: PREFERENCE.index(c.channel) if c.channel in PREFERENCE else len(PREFERENCE))


@dataclass(frozen=True)
class CodeSent:
    """The code went out: how, to which phone, until when it may be typed."""

    code_id: str
    channel: str
    phone: str


@dataclass(frozen=True)
class CodeNotSent:
    """No code went out: a limit or a bad phone refused it, or no courier could deliver it (`errors`)."""

    reason: str
    errors: tuple[str, ...] = ()


class CodeDispatch:
    """Issues a code for a session and delivers it; a code no courier delivered can never be typed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], verifications: Verifications,
                 couriers: Sequence[CodeCourier]) -> None:
        self.sessions = sessions
        self.verifications = verifications
        self.couriers = delivery_order(couriers)

    async def send(self, *, session_key: str, customer_id: str, phone: str, language: str,
                   spared: frozenset[str] = frozenset()) -> CodeSent | CodeNotSent:
        """One code to `phone` for `session_key`, in the customer's language, by no courier of a `spared` channel."""
        couriers = [courier for courier in self.couriers if courier.channel not in spared]
        if not couriers:
            return CodeNotSent("no_courier")
        async with self.sessions() as session, session.begin():
            issued: Issued | Refused = await self.verifications.issue(
                session, session_key=session_key, customer_id=customer_id, phone=phone, channel=couriers[0].channel)
        if isinstance(issued, Refused):
            return CodeNotSent(issued.reason)
        errors: list[str] = []
        for courier in couriers:
            error = await courier.deliver(issued.identity_value, issued.code, language)
            error = error.replace(issued.code, "[code]") if error is not None else None  # a provider's echo
            if error is None:
                if courier.channel != issued.channel:
                    async with self.sessions() as session, session.begin():
                        await self.verifications.delivered_by(session, issued.id, courier.channel)
                log.info("verification_code_sent", code_id=issued.id, channel=courier.channel)
                return CodeSent(issued.id, courier.channel, issued.identity_value)
            log.warning("verification_code_not_delivered", code_id=issued.id, channel=courier.channel, error=error)
            errors.append(f"{courier.channel}: {error}")
        async with self.sessions() as session, session.begin():
            await self.verifications.withdraw(session, issued.id)
        return CodeNotSent("undelivered", tuple(errors))
