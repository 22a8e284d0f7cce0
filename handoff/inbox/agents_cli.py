"""`python -m handoff agents create`: the first admin (and any account) from a shell, password never in argv."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from handoff.core import audit
from handoff.core.agents import AgentError, NewAgent, create_agent
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
