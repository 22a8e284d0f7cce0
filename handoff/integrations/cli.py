"""`python -m handoff integrations create|list|revoke`: tokens for other systems, printed once, from a shell."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from handoff.core.signing import load_secret_key
from handoff.integrations.registry import Integrations
from handoff.integrations.tokens import EVENTS, SCOPES, IntegrationError
from handoff.settings import REPO_ROOT, Settings
from handoff.store.db import create_engine, session_factory

T = TypeVar("T")


def add_commands(commands: Any) -> None:
    """The `integrations` subcommands on the main parser."""
    integrations = commands.add_parser("integrations", help="other systems' API tokens and webhooks")
    sub = integrations.add_subparsers(dest="integrations_command", required=True)
    create = sub.add_parser("create", help="create an integration and print its token (shown only once)")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help=f"comma-separated: {','.join(SCOPES)}")
    create.add_argument("--webhook-url", default=None, help="where its webhooks go (needs the webhooks scope)")
    create.add_argument("--events", default="", help=f"comma-separated (default all): {','.join(EVENTS)}")
    listing = sub.add_parser("list", help="every integration, revoked ones too (never a token)")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of lines")
    webhook = sub.add_parser("webhook", help="set (or, without --url, remove) an integration's webhook")
    webhook.add_argument("integration_id")
    webhook.add_argument("--url", default=None, help="where its webhooks go (needs the webhooks scope)")
    webhook.add_argument("--events", default="", help=f"comma-separated (default all): {','.join(EVENTS)}")
    rotate = sub.add_parser("rotate-secret", help="a new webhook signing secret, printed once")
    rotate.add_argument("integration_id")
    revoke = sub.add_parser("revoke", help="refuse an integration's token from now on and stop its webhooks")
    revoke.add_argument("integration_id")


def split(values: str) -> list[str]:
    return [value.strip() for value in values.split(",") if value.strip()]


def run_with(settings: Settings, work: Callable[[Integrations], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            key = load_secret_key(settings.secret_key, REPO_ROOT / "var" / "secret_key")
            return await work(Integrations(session_factory(engine), key))
        finally:
            await engine.dispose()
    return asyncio.run(main())


def run_integrations_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.integrations_command == "create":
            created = run_with(settings, lambda registry: registry.create(
                "cli", args.name, split(args.scopes), args.webhook_url, split(args.events)))
            shown = created.integration
            print(f"created integration {shown['name']} ({shown['id']}) with scopes {','.join(shown['scopes'])}")
            print(f"token (shown only now, keep it secret): {created.token}")
            if created.webhook_secret:
                print(f"webhooks to {shown['webhook_url']} for {','.join(shown['webhook_events'])}")
                print(f"webhook signing secret (shown only now): {created.webhook_secret}")
            return 0
        if args.integrations_command == "list":
            rows = run_with(settings, lambda registry: registry.list())
            if args.json:
                print(json.dumps(rows, default=str))
            for row in rows if not args.json else []:
                state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
                print(f"{row['id']}  {row['name']}  {','.join(row['scopes'])}  {row['token_hint']}…  {state}"
                      + (f"  webhooks {row['webhook_url']}" if row["webhook_url"] else ""))
            return 0
        if args.integrations_command == "webhook":
            changed = run_with(settings, lambda registry: registry.set_webhook(
                "cli", args.integration_id, args.url, split(args.events)))
            print(f"webhooks of {changed['name']} to {changed['webhook_url']} for {','.join(changed['webhook_events'])}"
                  if changed["webhook_url"] else f"{changed['name']} gets no webhooks")
            return 0
        if args.integrations_command == "rotate-secret":
            secret = run_with(settings, lambda registry: registry.rotate_secret("cli", args.integration_id))
            print(f"webhook signing secret (shown only now): {secret}")
            return 0
        revoked = run_with(settings, lambda registry: registry.revoke("cli", args.integration_id))
        print(f"revoked integration {revoked['name']} ({revoked['id']})")
        return 0
    except IntegrationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
