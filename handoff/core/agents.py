"""Agent accounts, presence and load: what routing and the inbox need to know about people."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.permissions import ROLES
from handoff.core.routing import AgentLoad
from handoff.store.models import Agent, Case, PresenceChange, utcnow

PRESENCES = ("online", "away", "offline")
LOCALES = ("en", "es", "pt")  # the inbox's languages: one catalogue each in handoff/inbox/static/i18n/
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")
MIN_PASSWORD_LENGTH = 10


class AgentError(ValueError):
    """An account request that cannot be honoured (bad role, duplicate email, weak password)."""


@dataclass(frozen=True)
class NewAgent:
    email: str
    name: str
    role: str
    teams: tuple[str, ...]
    password: str
    capacity: int = 3


def hash_password(password: str) -> str:
    """An argon2id hash with its parameters and salt, as stored."""
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists."""
    try:
        _hasher.verify(stored_hash or _DUMMY_HASH, password)  # raises when the password does not match
        return stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def validate_new_agent(new: NewAgent, known_teams: Iterable[str]) -> None:
    """Refuses accounts the inbox could not use safely."""
    teams = set(known_teams)
    if new.role not in ROLES:
        raise AgentError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in new.email or len(new.email) > 320:
        raise AgentError("a valid email is required")
    if not new.name.strip():
        raise AgentError("a name is required")
    unknown = [team for team in new.teams if team not in teams]
    if unknown:
        raise AgentError(f"unknown teams: {', '.join(unknown)} (known: {', '.join(sorted(teams))})")
    if len(new.password) < MIN_PASSWORD_LENGTH:
        raise AgentError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if not 1 <= new.capacity <= 50:
        raise AgentError("capacity must be between 1 and 50")


async def create_agent(session: AsyncSession, new: NewAgent, known_teams: Iterable[str]) -> Agent:
    """Creates the account with an argon2 hash; the caller commits (and audits)."""
    validate_new_agent(new, known_teams)
    email = new.email.strip().lower()
    if await session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise AgentError("an agent with this email exists")
    agent = Agent(email=email, display_name=new.name.strip(), password_hash=hash_password(new.password),
                  role=new.role, teams=list(new.teams), skills=[], capacity=new.capacity, presence="offline",
                  active=True)
    session.add(agent)
    await session.flush()
    return agent


async def find_by_email(session: AsyncSession, email: str) -> Agent | None:
    found = await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    return found


async def set_presence(session: AsyncSession, agent: Agent, presence: str) -> None:
    """Online agents receive cases; away and offline agents keep theirs but get no new ones. A change is kept in
    the presence history (occupancy's online time, staffing's agents online); the same state again is none."""
    if presence not in PRESENCES:
        raise AgentError(f"presence must be one of {', '.join(PRESENCES)}")
    now = utcnow()
    if agent.presence != presence:
        session.add(PresenceChange(agent_id=agent.id, presence=presence, changed_at=now))
    agent.presence = presence
    agent.last_seen_at = now


ROUTED_ROLES = ("agent",)  # supervisors and admins take cases by hand, routing never fills their plate


async def loads(session: AsyncSession, *, team: str | None = None, online_only: bool = True,
                roles: tuple[str, ...] = ROUTED_ROLES, agent_ids: list[str] | None = None) -> list[AgentLoad]:
    """The active agents routing may give cases to (of `team`), with their open cases: one light query.

    Plain columns, not ORM objects, the open cases counted per agent on the (assignee, status) index, and the team
    pre-filtered in SQL on the JSON text (checked exactly below): routing runs on every handoff and must stay fast
    with hundreds of agents.
    """
    open_cases = (select(func.count()).where(Case.assignee_id == Agent.id, Case.status == "assigned")
                  .correlate(Agent).scalar_subquery())
    query = select(Agent.id, Agent.teams, Agent.presence, Agent.capacity, Agent.last_assigned_at,
                   open_cases.label("open_cases")).where(Agent.active.is_(True), Agent.role.in_(roles))
    if online_only:
        query = query.where(Agent.presence == "online")
    if team is not None:
        query = query.where(cast(Agent.teams, String).like(f'%"{team}"%'))
    if agent_ids is not None:
        query = query.where(Agent.id.in_(agent_ids))
    rows = [row for row in (await session.execute(query)).all() if team is None or team in (row.teams or [])]
    return [AgentLoad(row.id, frozenset(row.teams or []), row.presence, row.capacity, int(row.open_cases or 0),
                      row.last_assigned_at) for row in rows]


def public(agent: Agent) -> dict[str, object]:
    """What the inbox shows about an agent (never the hash)."""
    return {"id": agent.id, "email": agent.email, "name": agent.display_name, "role": agent.role,
            "teams": list(agent.teams or []), "capacity": agent.capacity, "presence": agent.presence,
            "active": agent.active, "phone": agent.phone, "locale": agent.locale}
