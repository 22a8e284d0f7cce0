"""`python -m handoff audit …` and `python -m handoff designers …`: thin wrappers over the report modules."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory


async def _export_case(settings: Settings, case_id: str, as_html: bool) -> int:
    from handoff.reports.audit_export import export_case, render_html

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            document = await export_case(session, case_id)
    finally:
        await engine.dispose()
    if document is None:
        print(f"no such case: {case_id}", file=sys.stderr)
        return 1
    print(render_html(document) if as_html else json.dumps(document, ensure_ascii=False, indent=1))
    return 0


async def _checkpoint(settings: Settings) -> int:
    from handoff.core.checkpoints import Checkpoints, load_private_key

    if not settings.audit_signing_key:
        print("AUDIT_SIGNING_KEY is not set (python -m handoff audit keygen makes a pair)", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)
    try:
        signed = await Checkpoints(session_factory(engine), load_private_key(settings.audit_signing_key)).sign_moved()
    finally:
        await engine.dispose()
    print(f"{signed} chain heads signed")
    return 0


async def _designers_export(settings: Settings, data_dir: Path, domain: Path) -> int:
    from handoff.reports.nlu_export import export_to_bot_data

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            path, added = await export_to_bot_data(session, data_dir, actor="cli", domain_file=domain)
    finally:
        await engine.dispose()
    print(f"{added} new examples written to {path}" if added else "0 new examples: nothing to write")
    return 0


async def _designers_harvest(settings: Settings) -> int:
    from handoff.core.bot_client import RasaClient
    from handoff.reports.nlu_harvest import harvest

    engine = create_engine(settings.database_url)
    bot = RasaClient(settings.rasa_replicas, timeout=settings.bot_timeout_seconds, retries=settings.bot_retries,
                     backoff=settings.bot_retry_backoff_seconds, token=settings.rasa_token)
    try:
        done = await harvest(session_factory(engine), bot)
    finally:
        await bot.aclose()
        await engine.dispose()
    print(f"{done.samples} new samples from {done.cases} cases"
          + ("" if done.complete else f"; Rasa at {', '.join(settings.rasa_replicas)} did not answer, the rest waits"))
    return 0 if done.complete else 1


def run_reports_command(settings: Settings, args: argparse.Namespace) -> int:
    """Dispatches the audit and designers sub-commands."""
    if args.command == "audit":
        if args.audit_command == "verify":
            from handoff.reports.audit_export import verify_file

            status, line = verify_file(args.file, args.public_key)
            print(line, file=sys.stdout if status == 0 else sys.stderr)
            return status
        if args.audit_command == "keygen":
            from handoff.core.checkpoints import keygen

            private, public = keygen()
            print(f"AUDIT_SIGNING_KEY={private}\nAUDIT_PUBLIC_KEY={public}")
            return 0
        if args.audit_command == "checkpoint":
            return asyncio.run(_checkpoint(settings))
        return asyncio.run(_export_case(settings, args.case_id, args.html))
    if args.designers_command == "harvest":
        return asyncio.run(_designers_harvest(settings))
    return asyncio.run(_designers_export(settings, args.data_dir, args.domain))
