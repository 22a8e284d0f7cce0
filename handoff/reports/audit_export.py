"""A case's whole transcript as a self-verifying document (JSON, printable HTML) and its offline verifier."""
from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.checkpoints import BadKey, check_against, checkpoint_record, latest, load_public_key
from handoff.core.hashchain import GENESIS, HASHED_FIELDS, event_hash, legacy_event_hash, utc_iso, verify_chain
from handoff.core.json_values import finite, is_finite
from handoff.store.models import Call, Case, Customer, Handoff, TimelineEvent, utcnow

FORMAT = "frontdoor-case-export/2"  # 2: the chain covers salted content digests; 1 (before): the content
LEGACY_FORMAT = "frontdoor-case-export/1"


def _iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment is not None else None


def event_record(event: TimelineEvent) -> dict[str, Any]:
    """The hashed fields exactly as hashed (times in the chain's textual form), plus the hash.

    A payload holding NaN or an infinity (stored before the door refused them) has no strict JSON form: it is
    exported readable (those numbers as null) and exact, as the JSON text that was hashed (`payload_exact`).
    """
    record: dict[str, Any] = {name: getattr(event, name) for name in HASHED_FIELDS}
    record["created_at"] = utc_iso(event.created_at)
    record["hash"] = event.hash
    record["delivery_status"] = event.delivery_status  # not hashed: it changes after the fact
    if not is_finite(event.payload):
        record["payload"] = finite(event.payload)
        record["payload_exact"] = json.dumps(event.payload, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False, default=str)
    return record


def _as_hashed(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event as it was hashed: its exact payload when the export carries one (and the readable copy agrees)."""
    exact = event.get("payload_exact")
    if not isinstance(exact, str):
        return event
    try:
        payload = json.loads(exact)
    except ValueError:
        return {**event, "payload": None}  # an unreadable exact payload cannot match the hash
    if finite(payload) != event.get("payload"):
        return {**event, "payload": None}  # the readable copy was changed: the event does not verify
    return {**event, "payload": payload}


async def export_case(session: AsyncSession, case_id: str) -> dict[str, Any] | None:
    """Everything recorded on the case, ordered, with the chain's head so a dropped last event shows too."""
    case = await session.get(Case, case_id)
    if case is None:
        return None
    customer = await session.get(Customer, case.customer_id)
    events = [event_record(e) for e in await session.scalars(
        select(TimelineEvent).where(TimelineEvent.case_id == case_id).order_by(TimelineEvent.seq))]
    handoffs = list(await session.scalars(select(Handoff).where(Handoff.case_id == case_id).order_by(Handoff.id)))
    calls = list(await session.scalars(select(Call).where(Call.case_id == case_id).order_by(Call.started_at)))
    document: dict[str, Any] = finite({  # every other number the database holds (a confidence) as strict JSON
        "format": FORMAT,
        "exported_at": utc_iso(utcnow()),
        "case": {"id": case.id, "status": case.status, "channel": case.channel, "team": case.team,
                 "created_at": _iso(case.created_at), "resolved_at": _iso(case.resolved_at),
                 "disposition": case.disposition, "csat": case.csat, "previous_case_id": case.previous_case_id},
        "customer": {"id": customer.id, "display_name": customer.display_name} if customer else None,
        "transitions": [{"id": h.id, "direction": h.direction, "reason": h.reason, "intent": h.intent,
                         "confidence": h.confidence, "team": h.team, "queued_at": _iso(h.queued_at),
                         "accepted_at": _iso(h.accepted_at), "ended_at": _iso(h.ended_at), "outcome": h.outcome,
                         "review_tag": h.review_tag} for h in handoffs],
        "calls": [{"id": c.id, "direction": c.direction, "status": c.status, "started_at": _iso(c.started_at),
                   "ended_at": _iso(c.ended_at), "duration_seconds": c.duration_seconds,
                   "recording_url": c.recording_url, "transcript": c.transcript} for c in calls],
        "events": events,
        "head": {"count": len(events), "hash": events[-1]["hash"] if events else GENESIS},
    })
    signed = await latest(session, case_id)  # the latest signed head of this case's chain (core/checkpoints.py)
    document["checkpoint"] = checkpoint_record(signed) if signed is not None else None
    return document


@dataclass(frozen=True)
class ExportCheck:
    """The verdict on an exported transcript; `position` is the 1-based place of the first bad event."""

    ok: bool
    checked: int
    problem: str | None = None
    position: int | None = None


def verify_export(document: Mapping[str, Any], public_key: Ed25519PublicKey | None = None) -> ExportCheck:
    """Re-hashes the chain, then checks it ends where the recorded head says (count and last hash); with the
    service's public key, also that the chain passes through the head its signed checkpoint fixed."""
    events = document.get("events")
    head = document.get("head")
    if not isinstance(events, list) or not isinstance(head, Mapping):
        return ExportCheck(False, 0, "not a case export (no events or head)", 1)
    hash_of = legacy_event_hash if document.get("format") == LEGACY_FORMAT else event_hash
    check = verify_chain((_as_hashed(event) if isinstance(event, Mapping) else event for event in events), hash_of)
    if not check.ok:
        return ExportCheck(False, check.checked, check.problem, check.checked)
    count, last = head.get("count"), events[-1]["hash"] if events else GENESIS
    if count != len(events):
        missing = min(len(events), count if isinstance(count, int) else 0) + 1
        return ExportCheck(False, len(events), f"the head records {count} events, the export holds {len(events)}",
                           missing)
    if last != head.get("hash"):
        return ExportCheck(False, len(events), "the last event is not the recorded head", len(events) or 1)
    if public_key is not None:
        case = document.get("case")
        chain = case.get("id") if isinstance(case, Mapping) else None
        checkpoint = document.get("checkpoint")
        problem = check_against(checkpoint if isinstance(checkpoint, Mapping) else None, str(chain),
                                [str(event.get("hash")) if isinstance(event, Mapping) else "" for event in events],
                                public_key)
        if problem is not None:
            seq = checkpoint.get("seq") if isinstance(checkpoint, Mapping) else None
            return ExportCheck(False, len(events), problem, seq if isinstance(seq, int) else len(events) or 1)
    return ExportCheck(True, len(events))


def _cell(value: Any) -> str:
    """Customer text is never HTML: everything is escaped."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return html.escape("" if value is None else str(value))


def render_html(document: Mapping[str, Any]) -> str:
    """A printable page of the same export; the JSON stays the verifiable original."""
    case = document["case"]
    rows = "".join(
        f"<tr><td>{_cell(e['seq'])}</td><td>{_cell(e['created_at'])}</td><td>{_cell(e['channel'])}</td>"
        f"<td>{_cell(e['actor'])}</td><td>{_cell(e['kind'])}</td><td class=text>{_cell(e['text'])}</td>"
        f"<td class=hash>{_cell(e['hash'])}</td></tr>" for e in document["events"])
    transitions = "".join(
        f"<li>{_cell(t['direction'])} · {_cell(t['reason'])} · {_cell(t['intent'])} · {_cell(t['team'])} · "
        f"{_cell(t['queued_at'])} → {_cell(t['outcome'])}</li>" for t in document["transitions"])
    calls = "".join(f"<li>{_cell(c['direction'])} · {_cell(c['status'])} · {_cell(c['started_at'])} · "
                    f"{_cell(c['duration_seconds'])} s · {_cell(c['transcript'])}</li>" for c in document["calls"])
    head = document["head"]
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>Case {_cell(case['id'])}</title><style>body{{font:12px sans-serif}}table{{border-collapse:collapse}}"
        "td,th{border:1px solid #999;padding:2px 4px;vertical-align:top}.hash{font:9px monospace}"
        ".text{white-space:pre-wrap}</style></head><body>"
        f"<h1>Case {_cell(case['id'])}</h1><p>Status {_cell(case['status'])}, team {_cell(case['team'])}, "
        f"opened {_cell(case['created_at'])}, closed {_cell(case['resolved_at'])}. Exported "
        f"{_cell(document['exported_at'])}.</p><h2>Transitions</h2><ul>{transitions}</ul><h2>Calls</h2><ul>{calls}</ul>"
        "<h2>Timeline</h2><table><tr><th>#</th><th>time (UTC)</th><th>channel</th><th>actor</th><th>kind</th>"
        f"<th>text</th><th>hash</th></tr>{rows}</table><p>Chain head: {_cell(head['count'])} events, "
        f"<span class=hash>{_cell(head['hash'])}</span>. Verify the JSON export with "
        "<code>python -m handoff audit verify FILE</code>.</p></body></html>"
    )


def public_key_from(value: str) -> Ed25519PublicKey:
    """`--public-key`: the key itself (base64 of the raw 32 bytes, or PEM) or a file holding it."""
    if not value.lstrip().startswith("-----BEGIN") and Path(value).is_file():
        value = Path(value).read_text(encoding="utf-8")
    return load_public_key(value)


def verify_file(path: str, public_key: str | None = None) -> tuple[int, str]:
    """The command line's answer: exit status and one line saying what is wrong, where."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        return 2, f"cannot read {path}: {exc}"
    try:
        key = public_key_from(public_key) if public_key is not None else None
    except (BadKey, ValueError, OSError) as exc:
        return 2, f"cannot read the public key: {exc}"
    check = verify_export(document, key)
    if check.ok:
        signed = document.get("checkpoint") if key is not None else None
        suffix = f"; signed checkpoint at event #{signed['seq']} ({signed['signed_at']}) holds" if signed else ""
        return 0, f"OK: {check.checked} events, chain intact{suffix}"
    return 1, f"FAILED at event position {check.position}: {check.problem}"
