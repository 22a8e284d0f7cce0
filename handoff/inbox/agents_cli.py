"""`python -m handoff agents create`: the first admin (and any account) from a shell, password never in argv."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from handoff.core import audit
from handoff.core.agents import AgentError, NewAgent, create_agent, find_by_email
from handoff.core.callbacks import CallbackError, check_agent_phone
from handoff.core.operations import load_operations
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory


def read_password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise AgentError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def store_agent(settings: Settings, new: NewAgent) -> str:
    """Creates the account and its audit entry in one transaction; returns its id."""
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            agent = await create_agent(session, new, load_operations(settings.operations_file).teams)
            await audit.record(session, "cli", "create_agent", agent_id=agent.id, role=agent.role,
                               teams=list(agent.teams))
            return agent.id
    finally:
        await engine.dispose()


def create_agent_command(settings: Settings, args: argparse.Namespace) -> int:
    teams = tuple(team.strip() for team in args.teams.split(",") if team.strip())
    try:
        new = NewAgent(args.email, args.name, args.role, teams, read_password(), args.capacity)
        agent_id = asyncio.run(store_agent(settings, new))
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {args.role} {args.email} ({agent_id})")
    return 0


async def store_phone(settings: Settings, email: str, phone: str) -> str | None:
    """Sets (or, empty, clears) the agent's callback phone with its audit entry; returns the stored value."""
    value = check_agent_phone(phone, load_operations(settings.operations_file).default_region) if phone.strip() \
        else None
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            agent = await find_by_email(session, email)
            if agent is None:
                raise AgentError(f"no agent with email {email}")
            agent.phone = value
            await audit.record(session, "cli", "agent_phone", agent_id=agent.id, cleared=value is None)
            return value
    finally:
        await engine.dispose()


def phone_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        value = asyncio.run(store_phone(settings, args.email, args.phone))
    except (AgentError, CallbackError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.email}: callbacks ring {value}" if value else f"{args.email}: no callback phone")
    return 0
