"""Agent logins: argon2 passwords, a signed HttpOnly session cookie backed by a revocable row, CSRF tokens."""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.agents import find_by_email, password_matches, set_presence
from handoff.core.signing import issue_token, same_secret, verify_token
from handoff.inbox.login_limits import Attempt, LoginThrottle
from handoff.store.models import Agent, AgentSession, utcnow

COOKIE = "frontdoor_inbox"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The logged-in person behind a request or a socket."""

    agent: Agent
    session_id: str
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"agent:{self.agent.id}"


def session_key(cookie_value: str) -> str:
    """Only the hash of the cookie is stored."""
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def csrf_ok(principal: Principal, header: str | None) -> bool:
    """The token given at login must come back in a header a cross-site form cannot set."""
    return bool(header) and same_secret(header, principal.csrf_token)


def cookie_from_header(cookie_header: str | None) -> str | None:
    """The session cookie out of a raw Cookie header (the Socket.IO handshake has no parsed cookies)."""
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # a malformed header is no login
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


class Auth:
    """Logs agents in and out and resolves cookies to principals."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], secret: bytes, *, ttl_hours: float,
                 secure_cookie: bool, throttle: LoginThrottle) -> None:
        self.sessions = sessions
        self.secret = secret
        self.ttl = timedelta(hours=ttl_hours)
        self.secure_cookie = secure_cookie
        self.throttle = throttle

    async def attempt(self, email: str, remote: str) -> Attempt:
        """Slows password guessing per account and address, per address, and per account (see LoginThrottle)."""
        return await self.throttle.attempt(email, remote)

    async def failed(self, attempt: Attempt) -> None:
        """A wrong password: the next attempt from there waits from now."""
        await self.throttle.failed(attempt)

    async def succeeded(self, attempt: Attempt) -> None:
        """A good login forgives this address's typos on the account, on every worker."""
        await self.throttle.succeeded(attempt)

    async def login(self, email: str, password: str) -> tuple[Principal, str] | None:
        """A new session for valid credentials of an active agent; None otherwise (same work either way)."""
        async with self.sessions() as session, session.begin():
            agent = await find_by_email(session, email)
            # argon2 is deliberately slow: keep the event loop free for everyone else meanwhile.
            valid = await asyncio.to_thread(password_matches, agent.password_hash if agent else None, password)
            if agent is None or not valid or not agent.active:
                return None
            cookie_value = issue_token(self.secret)
            row = AgentSession(id=session_key(cookie_value), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                               created_at=utcnow(), expires_at=utcnow() + self.ttl)
            session.add(row)
            await audit.record(session, f"agent:{agent.id}", "login")
        return Principal(agent, row.id, row.csrf_token), cookie_value

    async def principal(self, cookie_value: str | None) -> Principal | None:
        """The live session behind a cookie: signed by us, stored, not expired, not revoked, agent active."""
        if not cookie_value or not verify_token(self.secret, cookie_value):
            return None
        async with self.sessions() as session:
            row = await session.get(AgentSession, session_key(cookie_value))
            if row is None or row.revoked_at is not None or _expired(row):
                return None
            agent = await session.get(Agent, row.agent_id)
        if agent is None or not agent.active:
            return None
        return Principal(agent, row.id, row.csrf_token)

    async def logout(self, principal: Principal) -> None:
        """Revokes the session; the cookie is worthless from now on, on every worker."""
        async with self.sessions() as session, session.begin():
            await session.execute(update(AgentSession).where(AgentSession.id == principal.session_id)
                                  .values(revoked_at=utcnow()))
            agent = await session.get(Agent, principal.agent.id)
            if agent is not None:
                await set_presence(session, agent, "offline")
            await audit.record(session, principal.actor, "logout")


def _expired(row: AgentSession) -> bool:
    expires = row.expires_at
    now = utcnow()
    if expires.tzinfo is None:
        now = now.replace(tzinfo=None)
    return expires <= now
