"""Signed audit checkpoints: every AUDIT_CHECKPOINT_MINUTES the heads of the chains that moved (each case's
timeline, the audit log) are signed with the service's Ed25519 key, so someone with write access to the database
cannot rewrite a chain end to end: the signed head no longer matches, and they cannot sign a new one.

The key comes from AUDIT_SIGNING_KEY (base64 of the raw 32-byte private key, or a PKCS#8 PEM) and is never
stored; `python -m handoff audit keygen` makes a pair. The signing, the statement and its check are pure; the
round reads heads and writes rows under one lock, so two workers never sign one head twice.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.hashchain import utc_iso
from handoff.core.locks import xact_lock
from handoff.core.rounds import repeat
from handoff.store.models import AuditCheckpoint, AuditEntry, TimelineEvent, utcnow

log = structlog.get_logger(__name__)

FORMAT = "frontdoor-checkpoint/1"
AUDIT_CHAIN = "audit_log"
LOCK_KEY = "audit_checkpoints"
SLACK = timedelta(minutes=10)  # a transaction that committed late is still seen by the next round


class BadKey(ValueError):
    """A key that is neither base64 of 32 raw bytes nor a PEM Ed25519 key."""


def _raw(value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadKey("not base64") from exc
    if len(raw) != 32:
        raise BadKey(f"an Ed25519 key has 32 bytes, this one {len(raw)}")
    return raw


def load_private_key(value: str) -> Ed25519PrivateKey:
    """AUDIT_SIGNING_KEY: base64 of the raw 32 bytes, or a PKCS#8 PEM."""
    if value.lstrip().startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(value.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise BadKey("the PEM key is not an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw(value))


def load_public_key(value: str) -> Ed25519PublicKey:
    """What `audit verify --public-key` takes: base64 of the raw 32 bytes, or a SubjectPublicKeyInfo PEM."""
    if value.lstrip().startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(value.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise BadKey("the PEM key is not an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(_raw(value))


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """Which key signed: the first 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def keygen() -> tuple[str, str]:
    """A new pair as (private, public), each base64 of the raw 32 bytes."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return base64.b64encode(raw).decode(), base64.b64encode(public_raw(private.public_key())).decode()


def statement(chain: str, seq: int, head_hash: str, signed_at: str) -> bytes:
    """The exact bytes signed: sorted, compact JSON."""
    return json.dumps({"chain": chain, "format": FORMAT, "hash": head_hash, "seq": seq, "signed_at": signed_at},
                      sort_keys=True, separators=(",", ":")).encode()


def sign_head(key: Ed25519PrivateKey, chain: str, seq: int, head_hash: str, signed_at: datetime) -> dict[str, Any]:
    """A checkpoint record: the head, when, which key, the signature."""
    moment = utc_iso(signed_at)
    signature = key.sign(statement(chain, seq, head_hash, moment))
    return {"chain": chain, "seq": seq, "hash": head_hash, "signed_at": moment,
            "key_id": key_id(key.public_key()), "signature": base64.b64encode(signature).decode()}


def checkpoint_record(row: AuditCheckpoint) -> dict[str, Any]:
    """A stored checkpoint as exports carry it."""
    return {"chain": row.chain, "seq": row.seq, "hash": row.hash, "signed_at": utc_iso(row.signed_at),
            "key_id": row.key_id, "signature": row.signature}


def signature_ok(checkpoint: Mapping[str, Any], key: Ed25519PublicKey) -> bool:
    """Whether this public key signed exactly this head."""
    try:
        signature = base64.b64decode(str(checkpoint.get("signature")), validate=True)
        key.verify(signature, statement(str(checkpoint.get("chain")), int(checkpoint.get("seq")),  # type: ignore[arg-type]
                                        str(checkpoint.get("hash")), str(checkpoint.get("signed_at"))))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True


def check_against(checkpoint: Mapping[str, Any] | None, chain: str, hashes: list[str],
                  key: Ed25519PublicKey) -> str | None:
    """Why this chain (its events' hashes in order) does not end where the signed checkpoint says it did; None
    when it does. Events appended after the checkpoint are fine: the checkpoint fixes the prefix."""
    if not isinstance(checkpoint, Mapping):
        return "no signed checkpoint covers this chain"
    if not signature_ok(checkpoint, key):
        return "the checkpoint's signature is not valid for this public key"
    if checkpoint.get("chain") != chain:
        return f"the checkpoint signs chain {checkpoint.get('chain')}, not {chain}"
    seq = checkpoint.get("seq")
    if not isinstance(seq, int) or seq < 1 or seq > len(hashes):
        return f"the signed checkpoint says the chain had {seq} events, the export holds {len(hashes)}"
    if hashes[seq - 1] != checkpoint.get("hash"):
        return f"event #{seq} is not the one signed at {checkpoint.get('signed_at')}: the chain was rewritten"
    return None


async def latest(session: AsyncSession, chain: str) -> AuditCheckpoint | None:
    """The chain's most recent checkpoint."""
    found: AuditCheckpoint | None = await session.scalar(
        select(AuditCheckpoint).where(AuditCheckpoint.chain == chain)
        .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc()).limit(1))
    return found


async def moved_heads(session: AsyncSession, since: datetime | None) -> list[tuple[str, int, str]]:
    """(chain, seq, hash) of every chain whose head is past its latest checkpoint: cases written since `since`
    (all when None) and the audit log."""
    events = TimelineEvent.__table__.c
    recent = select(events.case_id, func.max(events.seq).label("seq"))
    if since is not None:
        recent = recent.where(events.created_at >= since)
    recent_heads = recent.group_by(events.case_id).subquery()
    signed = (select(AuditCheckpoint.chain, func.max(AuditCheckpoint.seq).label("seq"))
              .group_by(AuditCheckpoint.chain).subquery())
    heads = (select(events.case_id, events.seq, events.hash)
             .join(recent_heads, and_(recent_heads.c.case_id == events.case_id, recent_heads.c.seq == events.seq))
             .outerjoin(signed, signed.c.chain == events.case_id)
             .where(or_(signed.c.seq.is_(None), signed.c.seq < events.seq)))
    found = [(row.case_id, row.seq, row.hash) for row in await session.execute(heads)]
    last = (await session.execute(select(AuditEntry.seq, AuditEntry.hash)
                                  .order_by(AuditEntry.seq.desc()).limit(1))).first()
    done = await latest(session, AUDIT_CHAIN)
    if last is not None and (done is None or done.seq < last.seq):
        found.append((AUDIT_CHAIN, last.seq, last.hash))
    return found


class Checkpoints:
    """The signing round: the moved heads signed, one row each, under one lock across workers."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], key: Ed25519PrivateKey) -> None:
        self.sessions = sessions
        self.key = key

    async def sign_moved(self) -> int:
        """Signs every chain that moved since the last round; how many heads were signed."""
        async with self.sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                await xact_lock(session, LOCK_KEY)
            else:  # SQLite's write lock, held to the commit
                await session.execute(text("UPDATE audit_checkpoints SET seq = seq WHERE 1 = 0"))
            previous = await session.scalar(select(func.max(AuditCheckpoint.signed_at)))
            now = utcnow()
            heads = await moved_heads(session, previous - SLACK if previous is not None else None)
            for chain, seq, head_hash in heads:
                record = sign_head(self.key, chain, seq, head_hash, now)
                session.add(AuditCheckpoint(chain=chain, seq=seq, hash=head_hash, signed_at=now,
                                            key_id=record["key_id"], signature=record["signature"]))
        if heads:
            log.info("audit_checkpoint_signed", chains=len(heads))
        return len(heads)

    async def run_forever(self, every_seconds: float) -> None:
        await repeat(self.sign_moved, every_seconds, "audit_checkpoint_failed")
