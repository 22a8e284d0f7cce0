"""Command line: `python -m handoff db upgrade`, `python -m handoff stack`, ..."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from handoff.core.permissions import ROLES
from handoff.settings import REPO_ROOT, get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m handoff", description="Front door service commands")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate to the latest schema")
    down = db_commands.add_parser("downgrade", help="migrate back to a revision")
    down.add_argument("revision")
    rev = db_commands.add_parser("revision", help="autogenerate a migration from the models")
    rev.add_argument("-m", "--message", required=True)
    commands.add_parser("stack", help="run Rasa, the action server and the service, restarting any that crashes")
    commands.add_parser("cluster", help="run the production topology: PostgreSQL, Redis, CLUSTER_WORKERS workers, "
                                        "CLUSTER_RASA Rasa replicas, the action server, HAProxy on PORT")
    agents = commands.add_parser("agents", help="inbox accounts")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = agent_commands.add_parser("create", help="create an account; the password is read from stdin or a prompt")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=list(ROLES))
    create.add_argument("--teams", default="", help="comma-separated team keys of operations.yml, e.g. care,returns")
    create.add_argument("--capacity", type=int, default=3, help="cases at once (default 3)")
    phone = agent_commands.add_parser("phone", help="where an agent takes the callbacks they place")
    phone.add_argument("--email", required=True)
    phone.add_argument("--phone", required=True, help="E.164 (+525512345678) or sip:agent@pbx.example.com; '' clears")
    audit = commands.add_parser("audit", help="case exports and their verification")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check an exported case (JSON) against its hash chain")
    verify.add_argument("file")
    verify.add_argument("--public-key", help="the service's Ed25519 public key (base64 of 32 raw bytes, PEM, or a "
                                            "file holding either): the chain must pass its signed checkpoint")
    audit_commands.add_parser("keygen", help="print a new Ed25519 key pair for AUDIT_SIGNING_KEY (base64, raw)")
    audit_commands.add_parser("checkpoint", help="sign the heads of the chains that moved now (AUDIT_SIGNING_KEY)")
    export = audit_commands.add_parser("export", help="write a case's verifiable transcript to stdout")
    export.add_argument("case_id")
    export.add_argument("--html", action="store_true", help="the printable page instead of JSON")
    designers = commands.add_parser("designers", help="the conversation designers' NLU review loop")
    designer_commands = designers.add_subparsers(dest="designers_command", required=True)
    export_nlu = designer_commands.add_parser("export", help="merge annotated examples into bot/data/nlu/reviewed.yml")
    export_nlu.add_argument("--data-dir", type=Path, default=REPO_ROOT / "bot" / "data",
                            help="the Rasa training data directory (default bot/data)")
    export_nlu.add_argument("--domain", type=Path, default=REPO_ROOT / "domain.yml",
                            help="the domain whose intents may be exported (default domain.yml)")
    contacts = commands.add_parser("contacts", help="customers from the CRM")
    contact_commands = contacts.add_subparsers(dest="contacts_command", required=True)
    contacts_import = contact_commands.add_parser(
        "import", help="import customers from a CSV (name, phone, email, crm_id, language); never a duplicate")
    contacts_import.add_argument("file")
    contacts_import.add_argument("--dry-run", action="store_true", help="report new, matched and conflicting rows "
                                                                        "and write nothing")
    designer_commands.add_parser("harvest", help="read Rasa's trackers once for unsure or fallback predictions")
    from handoff.integrations.cli import add_commands as add_integration_commands

    add_integration_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    if args.command == "db":
        from handoff.store import migrate

        if args.db_command == "upgrade":
            migrate.upgrade(settings.database_url)
        elif args.db_command == "downgrade":
            migrate.downgrade(settings.database_url, args.revision)
        else:
            migrate.revision(settings.database_url, args.message)
        return 0
    if args.command == "agents":
        from handoff.inbox.agents_cli import create_agent_command, phone_command

        return phone_command(settings, args) if args.agents_command == "phone" else create_agent_command(settings, args)
    if args.command == "integrations":
        from handoff.integrations.cli import run_integrations_command

        return run_integrations_command(settings, args)
    if args.command == "contacts":
        from handoff.inbox.contacts_cli import import_command

        return import_command(settings, args)
    if args.command in ("audit", "designers"):
        from handoff.reports.cli import run_reports_command

        return run_reports_command(settings, args)
    if args.command == "cluster":
        from handoff.cluster.run import run_cluster

        return run_cluster()
    from handoff import stack

    return stack.run_stack(settings)


if __name__ == "__main__":
    sys.exit(main())
