"""`python -m handoff contacts import FILE [--dry-run]`: the contacts CSV from a shell, as the inbox's upload does."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from handoff.core.contact_import import ImportReport, import_contacts
from handoff.core.contact_plan import CONFLICT, INVALID
from handoff.core.contact_rows import CsvRefused, read_contacts
from handoff.core.operations import load_operations
from handoff.settings import Settings
from handoff.store.db import create_engine, session_factory


async def run_import(settings: Settings, data: bytes, *, dry_run: bool, source: str) -> ImportReport:
    rows, bad = read_contacts(data, load_operations(settings.operations_file).default_region)
    engine = create_engine(settings.database_url)
    try:
        return await import_contacts(session_factory(engine), rows, bad, actor="cli", dry_run=dry_run, source=source)
    finally:
        await engine.dispose()


def print_report(report: ImportReport) -> None:
    """The counts, then every conflicting or invalid row with its number and reason."""
    counts = report.counts
    head = "dry run: nothing written" if report.dry_run else \
        f"imported: {report.created} customers created, {report.updated} updated"
    print(f"{head}\nnew {counts['new']} · matched {counts['matched']} · conflict {counts['conflict']} · "
          f"invalid {counts['invalid']}")
    for row in report.rows:
        if row.outcome in (CONFLICT, INVALID):
            print(f"row {row.row}: {row.outcome}: {row.reason}")


def import_command(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        report = asyncio.run(run_import(settings, path.read_bytes(), dry_run=args.dry_run, source=path.name))
    except (OSError, CsvRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    return 0
