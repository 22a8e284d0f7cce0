"""audit_digest: the audit log's chain covers a salted digest of each entry's detail, so an erasure can remove a
customer's values from it (a verified phone in a merge's evidence) and the log still verifies

Every entry gets a random salt and the digest of (salt, detail); the chain is recomputed. The hash form is copied
from core/hashchain.py as of this revision.

Revision ID: 0012_audit_digest
Revises: 0012_content_digest
Create Date: 2026-12-01 12:25:00
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_audit_digest"
down_revision = "0012_content_digest"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "content_digest",
          "provider_id", "prev_hash")
_AUDIT = sa.table(
    "audit_log", sa.column("id", sa.BigInteger), sa.column("seq", sa.Integer), sa.column("actor", sa.String),
    sa.column("action", sa.String), sa.column("case_id", sa.String), sa.column("detail", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)), sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String), sa.column("content_salt", sa.String), sa.column("content_digest", sa.String))


def _dumps(body: object) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _rechain(bind: sa.engine.Connection, salted: bool) -> None:
    """The audit log's chain with salted digests of each detail, or (downgrade) unsalted ones."""
    previous, pending = GENESIS, []
    for entry in bind.execute(sa.select(_AUDIT).order_by(_AUDIT.c.seq)).mappings():
        salt = secrets.token_hex(32) if salted else None
        digest = hashlib.sha256(_dumps({"payload": entry["detail"] or {}, "salt": salt, "text": None})).hexdigest()
        body: dict[str, Any] = {"case_id": entry["case_id"], "seq": entry["seq"],
                                "created_at": _iso(entry["created_at"]), "channel": None, "direction": None, "actor": entry["actor"], "kind": entry["action"],
                                "content_digest": digest, "provider_id": None, "prev_hash": previous}
        previous_was = previous
        previous = hashlib.sha256(_dumps(body)).hexdigest()
        pending.append({"entry_id": entry["id"], "salt": salt, "digest": digest if salted else None,
                        "prev": previous_was, "new_hash": previous})
    if pending:
        bind.execute(sa.update(_AUDIT).where(_AUDIT.c.id == sa.bindparam("entry_id")).values(
            content_salt=sa.bindparam("salt"), content_digest=sa.bindparam("digest"), prev_hash=sa.bindparam("prev"),
            hash=sa.bindparam("new_hash")), pending)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("content_salt", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("content_digest", sa.String(length=64), nullable=True))
    _rechain(op.get_bind(), salted=True)


def downgrade() -> None:
    _rechain(op.get_bind(), salted=False)  # the form of 0012_content_digest: detail digested unsalted
    op.drop_column("audit_log", "content_digest")
    op.drop_column("audit_log", "content_salt")
