"""Callbacks: a customer asks to be called back in a time window; it is a queued task of the case's team until an
agent places it, and its outcome (answered, no answer, busy, failed) is recorded on the callback and the timeline.

Decisions (the window, who asked, what a provider's status means) are pure; the rest reads and writes in the
caller's transaction. The call itself is the voice channel's (channels/voice/callbacks.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.case_scope import readable
from handoff.core.hashchain import utc_iso
from handoff.core.identity import InvalidIdentity, normalize_phone, normalize_told_phone
from handoff.core.permissions import Reader, sees_all_teams
from handoff.core.timeline import append_event
from handoff.store.models import Callback, Case, Identity, utcnow

CHANNEL = "voice"  # the channel a callback's timeline events are on (the door the call goes through)
STATUSES = ("requested", "placing", "answered", "no_answer", "busy", "failed", "cancelled")
OPEN = ("requested", "placing")
OUTCOMES = ("answered", "no_answer", "busy", "failed")
MISSED = frozenset({"no_answer", "busy"})  # the customer did not take the call: one WhatsApp message
MAX_DAYS_AHEAD = 14
MAX_WINDOW = timedelta(hours=24)
LIST_LIMIT = 200
UNHEARD_AFTER = timedelta(minutes=15)  # a placed call's statuses come within seconds; none by then: never placed


class CallbackError(ValueError):
    """A callback request or action that cannot be honoured; the message says why."""


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_window(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The preferred window in UTC: with a time zone, ending after it starts and in the future, at most a day long
    and starting within MAX_DAYS_AHEAD days."""
    if start.tzinfo is None or end.tzinfo is None:
        raise CallbackError("window_start and window_end need a time zone (e.g. 2026-12-01T16:00:00Z)")
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if end <= start:
        raise CallbackError("window_end must be after window_start")
    if end <= now:
        raise CallbackError("the window has already passed")
    if end - start > MAX_WINDOW:
        raise CallbackError("the window may be at most 24 hours long")
    if start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise CallbackError(f"the window must start within {MAX_DAYS_AHEAD} days")
    return start, end


def check_phone(raw: str, region: str | None) -> str:
    """E.164 of the number to call (as a person writes it: without '+', `region`'s numbering)."""
    try:
        return normalize_told_phone(raw, region) if region else normalize_phone(raw)
    except InvalidIdentity as exc:
        raise CallbackError(f"not a phone number we can call: {raw!r}") from exc


SIP_RE = re.compile(r"^sips?:[A-Za-z0-9._~%!$&'*+,;=-]+@[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def check_agent_phone(raw: str, region: str | None) -> str:
    """Where an agent takes callbacks: a phone (E.164) or a SIP address (sip:user@host)."""
    value = raw.strip()
    if value.lower().startswith(("sip:", "sips:")):
        if len(value) > 320 or not SIP_RE.match(value):
            raise CallbackError(f"not a SIP address: {raw!r} (sip:user@host)")
        return value
    return check_phone(value, region)


def requester(actor: str) -> tuple[str, str | None]:
    """(requested_by, agent id) from the actor who asked: `customer`, `agent:<id>`, anything else the system."""
    if actor == "customer":
        return "customer", None
    if actor.startswith("agent:"):
        return "agent", actor.removeprefix("agent:")
    return "system", None


def outcome_of(provider_status: str) -> str:
    """A dialed customer's final call status as a callback's outcome."""
    return {"completed": "answered", "answered": "answered", "in-progress": "answered", "busy": "busy",
            "no-answer": "no_answer"}.get(provider_status, "failed")


def window_state(start: datetime, end: datetime, now: datetime) -> str:
    """open (now within the window), upcoming or past: how the team's list orders and labels it."""
    start, end = _utc(start), _utc(end)
    return "open" if start <= now < end else "upcoming" if now < start else "past"


async def customer_phone(session: AsyncSession, customer_id: str) -> str | None:
    """The customer's newest phone (verified first): a phone or WhatsApp identity."""
    rows = await session.execute(
        select(Identity.value).where(Identity.customer_id == customer_id, Identity.kind.in_(("phone", "whatsapp")))
        .order_by(Identity.verified.desc(), Identity.id.desc()).limit(1))
    return rows.scalar()


async def callback_event(session: AsyncSession, callback: Callback, case: Case, event: str, text: str, *,
                         actor: str = "system", **detail: Any) -> None:
    """One line of the callback's story on the case's timeline (kind `callback`)."""
    await append_event(session, case, channel=CHANNEL, direction="internal", actor=actor, kind="callback", text=text,
                       payload={"callback": callback.id, "event": event, "status": callback.status,
                                **{key: value for key, value in detail.items() if value is not None}})


async def request_callback(session: AsyncSession, case: Case, *, phone: str | None, window_start: datetime,
                           window_end: datetime, actor: str, region: str | None = None,
                           now: datetime | None = None, team: str | None = None) -> Callback:
    """Queues a callback for the case's team (or `team`, for a case no team holds yet) in the customer's window;
    the caller commits.

    `phone` None: the customer's own phone. An open callback of the case is answered as it is (a repeated choice
    is one request). Raises CallbackError for a bad window or phone.
    """
    moment = now or utcnow()
    start, end = check_window(window_start, window_end, moment)
    existing = await session.scalar(select(Callback).where(Callback.case_id == case.id, Callback.status.in_(OPEN))
                                    .order_by(Callback.id.desc()).limit(1))
    if existing is not None:
        return existing
    raw = phone if phone and phone.strip() else await customer_phone(session, case.customer_id)
    if not raw:
        raise CallbackError("the customer has no phone number: give one")
    number = check_phone(raw, region)
    requested_by, agent_id = requester(actor)
    callback = Callback(case_id=case.id, customer_id=case.customer_id, phone=number, window_start=start,
                        window_end=end, team=case.team or team, status="requested", requested_by=requested_by,
                        requested_by_agent_id=agent_id, attempts=0)
    session.add(callback)
    await session.flush()
    await callback_event(session, callback, case, "requested",
                         f"Callback requested to {number}, {start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC", actor=actor,
                         phone=number, window_start=utc_iso(start), window_end=utc_iso(end), team=callback.team)
    return callback


def _visible(reader: Reader) -> Any:
    """The reading rule over the callback's case; an agent sees their teams' callbacks and their own cases'."""
    rule = readable(reader)
    if sees_all_teams(reader.role):
        return rule
    return and_(rule, or_(Callback.team.in_(list(reader.teams or ())), Case.assignee_id == reader.id))


async def team_callbacks(session: AsyncSession, reader: Reader, status: str = "requested",
                         now: datetime | None = None, limit: int = LIST_LIMIT) -> list[tuple[Callback, Case]]:
    """The reader's callbacks of `status`: windows open now first, then upcoming, then past, each by time."""
    moment = now or utcnow()
    order = when((and_(Callback.window_start <= moment, Callback.window_end > moment), 0),
                 (Callback.window_start > moment, 1), else_=2)
    rows = await session.execute(
        select(Callback, Case).join(Case, Case.id == Callback.case_id)
        .where(Callback.status == status, _visible(reader))
        .order_by(order, Callback.window_start, Callback.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


async def readable_callback(session: AsyncSession, reader: Reader, callback_id: int) -> tuple[Callback, Case] | None:
    """The callback and its case when the reader may see it, else None."""
    row = (await session.execute(select(Callback, Case).join(Case, Case.id == Callback.case_id)
                                 .where(Callback.id == callback_id, _visible(reader)))).first()
    return (row[0], row[1]) if row else None


async def claim(session: AsyncSession, callback_id: int, agent_id: str, now: datetime | None = None) -> bool:
    """requested → placing for this agent, in one statement: two agents pressing "Call now" place it once."""
    moment = now or utcnow()
    result = await session.execute(
        update(Callback).where(Callback.id == callback_id, Callback.status == "requested")
        .values(status="placing", agent_id=agent_id, attempts=Callback.attempts + 1, placed_at=moment,
                bridged_at=None, provider_call_id=None, updated_at=moment)
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


async def finish(session: AsyncSession, callback: Callback, case: Case, outcome: str, *, actor: str = "system",
                 now: datetime | None = None, **detail: Any) -> bool:
    """An open callback's outcome (answered, no_answer, busy, failed; or cancelled) and its timeline line; False
    when it had one already (a repeated provider callback changes nothing)."""
    if callback.status not in OPEN:
        return False
    callback.status = outcome
    callback.ended_at = now or utcnow()
    label = {"answered": "answered", "no_answer": "not answered", "busy": "busy", "failed": "failed",
             "cancelled": "cancelled"}.get(outcome, outcome)
    await callback_event(session, callback, case, "outcome", f"Callback {label}", actor=actor, outcome=outcome,
                         attempts=callback.attempts, **detail)
    return True


async def unplaced(session: AsyncSession, callback: Callback, case: Case, why: str) -> None:
    """The call did not reach the customer's side (the agent's phone did not answer, the provider refused): the
    callback is the team's queued task again."""
    callback.status = "requested"
    callback.provider_call_id = None
    await callback_event(session, callback, case, "unplaced", f"Callback not placed: {why}", why=why,
                         attempts=callback.attempts)


async def release_unheard(session: AsyncSession, placed_before: datetime) -> list[str]:
    """Callbacks still "placing" with no word from the provider since `placed_before` (its status callbacks lost)
    are the team's queued task again, so none is forgotten; returns their cases."""
    rows = (await session.execute(
        select(Callback, Case).join(Case, Case.id == Callback.case_id)
        .where(Callback.status == "placing", Callback.placed_at < placed_before)
        .limit(LIST_LIMIT).with_for_update(of=Callback, skip_locked=True))).all()
    for callback, case in rows:
        await unplaced(session, callback, case, "no word from the provider")
    return [case.id for _callback, case in rows]


@dataclass(frozen=True)
class CallbackView:
    """A callback as the inbox lists it."""

    callback: Callback
    case: Case
    customer_name: str | None

    def as_dict(self, now: datetime) -> dict[str, Any]:
        item = self.callback
        return {"id": item.id, "case_id": item.case_id, "customer_id": item.customer_id,
                "customer_name": self.customer_name, "phone": item.phone, "team": item.team, "status": item.status,
                "window_start": utc_iso(_utc(item.window_start)), "window_end": utc_iso(_utc(item.window_end)),
                "window": window_state(item.window_start, item.window_end, now), "requested_by": item.requested_by,
                "agent_id": item.agent_id, "attempts": item.attempts,
                "placed_at": utc_iso(_utc(item.placed_at)) if item.placed_at else None,
                "ended_at": utc_iso(_utc(item.ended_at)) if item.ended_at else None,
                "missed_message": item.missed_message, "created_at": utc_iso(_utc(item.created_at))}
