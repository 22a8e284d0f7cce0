"""The business speaks first: a notification another system asks for, sent once on the customer's own timeline.

`submit` records the request (one row per integration and idempotency key: the same key again answers the same
notification) and dispatches it when due. `dispatch` decides, in one transaction under the customer's lock:
refused when the customer opted out of WhatsApp or already got the day's maximum, held until the customer's
quiet hours end, else the approved template (or the caller's free text, inside the customer's 24-hour window:
core.notification_content) is staged on the outbox on the customer's open case (or a new case marked proactive
that stays with the assistant), with a `notification` event saying who asked, and the case remembers it for the
assistant (`case.notified`, in the turn's metadata). The sent message's
delivery status (outbox, Meta's status webhooks) is the notification's state; a customer message after it is
"answered". `release_due` is the background round that sends held and scheduled ones.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.cases import OPEN_STATUSES, continued_case, latest_case, open_case
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.customers import find_by_identity, follow_merges, resolve_contact
from handoff.core.events import CaseChanged, CaseEvent, EventBus, EventsAdded
from handoff.core.follow_up import template_values
from handoff.core.identity import InvalidIdentity, normalize_email, normalize_told_phone
from handoff.core.locks import xact_lock
from handoff.core.messages import Deliverer, OutboundMessage, TemplateUnavailable
from handoff.core.notification_calls import VOICE, stage_call
from handoff.core.notification_content import SentAs, assistant_context, content_problem, sent_as
from handoff.core.notification_rules import DAY, over_daily_cap, quiet_until, shown_state, zone_of
from handoff.core.operations import Operations
from handoff.core.outbox import aware
from handoff.core.rounds import repeat
from handoff.core.sending import deliver_staged, stage_to_customer
from handoff.core.timeline import append_event
from handoff.store.models import Case, Customer, Identity, Integration, Notification, TimelineEvent, utcnow

NOTIFICATION_KIND = "notification"  # the timeline event saying what was sent first, and for whom
CHANNEL = "whatsapp"
REASONS = {
    "opted_out": "the customer opted out of WhatsApp messages",
    "daily_limit": "the customer already got notifications.max_per_customer_per_day in the last 24 hours",
    "quiet_hours": "held until the customer's quiet hours end",
    "no_whatsapp_address": "no WhatsApp number is known for this customer",
    "window_closed": "free text only, and the customer's 24-hour WhatsApp window closed before it could go",
    "no_phone": "no phone number is known for this customer",
}
WINDOW_CLOSED = ("free text reaches the customer only inside their 24-hour WhatsApp window, which is closed (they "
                 "have not written on WhatsApp in the last 24 hours): give an approved template to send instead")


class NotificationChannel(Protocol):
    """Where notifications go (WhatsApp's follow-up over the notification templates)."""

    async def address(self, session: Any, customer_id: str) -> str | None: ...

    async def window_open(self, session: Any, customer_id: str, now: datetime) -> bool: ...

    def template(self, name: str, language: str, customer_language: str | None, values: list[str], *,
                 actor: str) -> OutboundMessage: ...


class NotificationInvalid(ValueError):
    """A request that cannot be a notification: an unknown template or customer, missing values (`field` names it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NotificationRequest:
    """What an integration asks for; `to` is one of phone, email, crm_id; a template, or free `text` it allows
    (`allow_free_text`) inside the customer's window, or both (the template when the window is closed)."""

    to: Mapping[str, str]
    template: str | None
    language: str | None
    values: Mapping[str, str]
    idempotency_key: str
    send_after: datetime | None = None
    text: str | None = None
    allow_free_text: bool = False
    channel: str = CHANNEL  # whatsapp, or voice: a call that reads it and asks for a digit (core.notification_calls)


@dataclass(frozen=True)
class Sent:
    """A notification staged in the committed transaction: what to deliver and what to tell the inbox."""

    staged: list[Any]
    events: list[CaseEvent]


@dataclass(frozen=True)
class Submitted:
    id: str
    state: str
    reason: str | None


def template_entry(templates: list[dict[str, Any]], name: str, language: str | None) -> dict[str, Any]:
    """The configured notification template by name, in `language` (es → es_MX) when approved in it."""
    named = [t for t in templates if t.get("name") == name and t.get("language")]
    if not named:
        listed = ", ".join(sorted({str(t.get("name")) for t in templates})) or "none"
        raise NotificationInvalid("template", f"no notification template {name!r} (notifications.templates: {listed})")
    wanted = (language or "").replace("-", "_").lower()
    for entry in named:
        if wanted and str(entry["language"]).lower() == wanted:
            return entry
    for entry in named:
        if wanted and str(entry["language"]).lower().startswith(wanted.split("_")[0]):
            return entry
    return named[0]


def filled(entry: dict[str, Any], values: Mapping[str, str], customer_name: str | None, language: str) -> list[str]:
    """The template's parameters in order from `values` (customer_name defaults to the customer's name)."""
    parameters = [str(p) for p in entry.get("parameters") or ()]
    defaults = template_values(parameters, customer_name=customer_name, case_id="", language=language)
    out: list[str] = []
    for name, default in zip(parameters, defaults, strict=True):
        value = values.get(name)
        if value is None and name != "customer_name":
            raise NotificationInvalid("values", f"template {entry['name']} needs values for {', '.join(parameters)}")
        out.append(str(value) if value is not None else default)
    return out


class Notifier:
    """Submits, dispatches and reports notifications; `run` releases held and scheduled ones."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], operations: Operations, via: NotificationChannel,
                 deliverers: Mapping[str, Deliverer], *, events: EventBus | None = None,
                 wake_calls: Callable[[], None] | None = None) -> None:
        self.sessions = sessions
        self.operations = operations
        self.via = via
        self.deliverers = deliverers
        self.settings = operations.notifications
        self.events = events or EventBus()  # the inbox sees a proactive case open, or the notification on a case
        self.wake_calls = wake_calls  # the voice calls' outbox worker: a call was staged

    async def submit(self, integration_id: str, request: NotificationRequest, now: datetime | None = None) -> Submitted:
        """Records the request once per idempotency key and sends it now when due; answers its state."""
        now = now or utcnow()
        existing = await self._by_key(integration_id, request.idempotency_key)
        if existing is None:
            try:
                existing = await self._record(integration_id, request, now)
            except IntegrityError:  # the same key at the same moment: the other request recorded it
                existing = await self._by_key(integration_id, request.idempotency_key)
                if existing is None:
                    raise
            else:
                await self.dispatch(existing, now)
        view = await self.view(integration_id, existing)
        assert view is not None
        return Submitted(existing, view["state"], view["reason"])

    async def _by_key(self, integration_id: str, key: str) -> str | None:
        async with self.sessions() as session:
            found: str | None = await session.scalar(select(Notification.id).where(
                Notification.integration_id == integration_id, Notification.idempotency_key == key))
            return found

    async def _record(self, integration_id: str, request: NotificationRequest, now: datetime) -> str:
        problem = content_problem(request.template, request.text, request.allow_free_text)
        if problem is not None:
            raise NotificationInvalid(*problem)
        if request.channel == VOICE and (request.template is None or request.text is not None):
            raise NotificationInvalid("template", "a voice notification reads an approved template: give a template "
                                                  "and no text")
        entry = template_entry(self.settings.templates, request.template, request.language) \
            if request.template is not None else None
        async with self.sessions() as session, session.begin():
            customer, phone = await self._customer(session, request.to)
            if entry is None and not await self.via.window_open(session, customer.id, now):
                raise NotificationInvalid("template", WINDOW_CLOSED)
            if entry is not None:
                language = str(entry["language"])
                values = filled(entry, request.values, customer.display_name, language.split("_")[0])
            else:
                language, values = request.language or self.operations.default_language, []
            due = max(aware(request.send_after), now) if request.send_after else now
            detail: dict[str, Any] = {"phone": phone} if phone else {}
            if request.values:
                detail["values"] = dict(request.values)  # the assistant's context (core.notification_content)
            if request.text is not None:
                detail["text"] = request.text  # sent inside the window; blanked by an erasure, never logged
            row = Notification(integration_id=integration_id, idempotency_key=request.idempotency_key,
                               customer_id=customer.id, channel=request.channel, template=request.template,
                               language=language, parameters=values, status="queued", due_at=due,
                               created_at=now, detail=detail)
            session.add(row)
            await session.flush()
            return row.id

    async def _customer(self, session: AsyncSession, to: Mapping[str, str]) -> tuple[Customer, str | None]:
        """The addressed customer; a phone never seen becomes a new customer (their number is the address)."""
        try:
            if to.get("phone"):
                phone = normalize_told_phone(to["phone"], self.operations.default_region)
                for kind in ("whatsapp", "phone"):
                    found = await find_by_identity(session, kind, phone)
                    if found is not None:
                        return found, phone
                return (await resolve_contact(session, "phone", phone)).customer, phone
            if to.get("email"):
                found = await find_by_identity(session, "email", normalize_email(to["email"]))
            elif to.get("crm_id"):
                found = await find_by_identity(session, "crm", to["crm_id"].strip())
            else:
                raise NotificationInvalid("to", "to needs one of phone, email, crm_id")
        except InvalidIdentity as exc:
            raise NotificationInvalid("to", str(exc)) from exc
        if found is None:
            raise NotificationInvalid("to", "no customer with that email or crm_id (send a phone, or upsert the "
                                            "contact first: PUT /api/v1/contacts/{crm_id})")
        return found, None

    async def dispatch(self, notification_id: str, now: datetime | None = None) -> None:
        """Refuses, holds or sends one due notification (under the customer's lock), then wakes the outbox."""
        now = now or utcnow()
        async with self.sessions() as session, session.begin():
            row = await session.get(Notification, notification_id)
            if row is None:
                return
            await xact_lock(session, f"notify:{row.customer_id}")  # the daily cap counts one send at a time
            await session.refresh(row)
            if row.status not in ("queued", "held") or aware(row.due_at) > now:
                return
            sent = await self._decide(session, row, now)
        if sent is not None:
            await deliver_staged(self.deliverers, sent.staged)
            if row.channel == VOICE and self.wake_calls is not None:
                self.wake_calls()
            await self.events.publish(*sent.events)

    async def _decide(self, session: AsyncSession, row: Notification, now: datetime) -> Sent | None:
        customer = await session.get(Customer, row.customer_id)
        customer = await follow_merges(session, customer) if customer is not None else None
        if customer is None or not may_message_on_whatsapp(customer):
            return self._refuse(row, "opted_out")
        phone = row.detail.get("phone") or await session.scalar(
            select(Identity.value).where(Identity.customer_id == customer.id, Identity.kind.in_(("whatsapp", "phone")))
            .order_by(Identity.id.desc()).limit(1))
        until = quiet_until(now, zone_of(phone, self.operations.timezone), self.settings.quiet_hours)
        if until is not None:
            row.status, row.reason, row.due_at = "held", "quiet_hours", until
            return None
        sent = await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.customer_id == customer.id, Notification.sent_at >= now - DAY))
        if over_daily_cap(int(sent or 0), self.settings.max_per_customer_per_day):
            return self._refuse(row, "daily_limit")
        if row.channel == VOICE:
            return await self._call(session, row, customer, phone, now)
        address = await self.via.address(session, customer.id)
        if address is None:
            return self._refuse(row, "no_whatsapp_address")
        text = row.detail.get("text")
        how = sent_as(row.template is not None, text is not None,
                      text is not None and await self.via.window_open(session, customer.id, now))
        if how is None:
            return self._refuse(row, "window_closed")
        if how == "text":
            message = OutboundMessage(actor="system", text=str(text))
        else:
            try:
                message = self.via.template(str(row.template), row.language, None, list(row.parameters),
                                            actor="system")
            except TemplateUnavailable as exc:  # the operations file changed since it was accepted
                return self._refuse(row, "template_unavailable", str(exc))
        case, opened = await self._case_for(session, customer, CHANNEL)
        noted = await self._note(session, row, case, CHANNEL, how, now)
        staged = await stage_to_customer(session, case, self.deliverers, channel=CHANNEL, address=address,
                                         message=message, actor="system", note={"notification_id": row.id})
        row.status, row.reason, row.sent_at = "sent", None, now
        row.case_id, row.event_id = case.id, staged.event_id
        row.detail = {**row.detail, "sent_as": how}
        return Sent([staged], self._told(case, opened, noted, staged.event_id))
    async def _case_for(self, session: AsyncSession, customer: Customer, channel: str) -> tuple[Case, bool]:
        """The customer's open case (moved to `channel` for WhatsApp), else a new one marked proactive."""
        latest = await continued_case(session, await latest_case(session, customer.id))
        if latest is not None and latest.status in OPEN_STATUSES:
            if latest.channel != channel and channel == CHANNEL:
                latest.channel = channel
            return latest, False
        case = await open_case(session, customer, channel,
                               follow_up_window_hours=self.operations.follow_up_window_hours)
        case.proactive = True  # opened by the business: stays with the assistant until the customer asks more
        return case, True

    async def _note(self, session: AsyncSession, row: Notification, case: Case, channel: str, how: SentAs,
                    now: datetime) -> int:
        """The `notification` event saying who asked for it, and what the assistant is told; returns its id."""
        integration = await session.get(Integration, row.integration_id)
        asker = integration.name if integration else "?"
        event = await append_event(session, case, channel=channel, direction="internal", actor="system",
                                   kind=NOTIFICATION_KIND,
                                   text=f"Notification {row.template or '(free text)'} sent for {asker}",
                                   payload={"notification_id": row.id, "template": row.template, "sent_as": how,
                                            "integration_id": row.integration_id, "integration": asker,
                                            "channel": channel})
        names = self._parameter_names(row) if how == "template" else []
        case.notified = assistant_context(row.id, row.template, names, list(row.parameters),
                                          row.detail.get("values") or {}, how, now)
        return event.id

    @staticmethod
    def _told(case: Case, opened: bool, *event_ids: int) -> list[CaseEvent]:
        """What the inbox hears after the commit: a new proactive case, or new events on an open one."""
        return [CaseChanged(case.id)] if opened else [EventsAdded(case.id, tuple(event_ids))]

    async def _call(self, session: AsyncSession, row: Notification, customer: Customer, phone: str | None,
                    now: datetime) -> Sent | None:
        """Voice: a call staged on the outbox that reads the template's text and asks for a digit."""
        if not phone:
            return self._refuse(row, "no_phone")
        try:
            entry = template_entry(self.settings.templates, str(row.template), row.language)
        except NotificationInvalid as exc:
            return self._refuse(row, "template_unavailable", str(exc))
        case, opened = await self._case_for(session, customer, VOICE)
        noted = await self._note(session, row, case, VOICE, "template", now)
        event_id = await stage_call(session, case, row, phone, entry)
        row.status, row.reason, row.sent_at = "sent", None, now
        row.case_id, row.event_id = case.id, event_id
        row.detail = {**row.detail, "sent_as": "template"}  # read out on the call
        return Sent([], self._told(case, opened, noted, event_id))

    def _parameter_names(self, row: Notification) -> list[str]:
        """The names of the sent template's parameters, in order (none when it left the operations file)."""
        try:
            return [str(p) for p in template_entry(self.settings.templates, str(row.template),
                                                   row.language).get("parameters") or ()]
        except NotificationInvalid:
            return []

    @staticmethod
    def _refuse(row: Notification, reason: str, detail: str | None = None) -> None:
        row.status, row.reason = "refused", reason
        if detail:
            row.detail = {**row.detail, "error": detail}

    async def release_due(self, now: datetime | None = None) -> int:
        """Dispatches every queued or held notification now due; returns how many were looked at."""
        now = now or utcnow()
        async with self.sessions() as session:
            due = list(await session.scalars(
                select(Notification.id).where(Notification.status.in_(("queued", "held")), Notification.due_at <= now)
                .order_by(Notification.due_at).limit(200)))
        for notification_id in due:
            await self.dispatch(notification_id, now)
        return len(due)

    async def run(self, every_seconds: float = 30.0) -> None:
        """Releases due notifications forever; a failed round is retried the next one."""
        await repeat(self.release_due, every_seconds, "notification_release_failed")

    async def view(self, integration_id: str, notification_id: str) -> dict[str, Any] | None:
        """The notification as its integration reads it (another integration's is not found)."""
        async with self.sessions() as session:
            row = await session.get(Notification, notification_id)
            if row is None or row.integration_id != integration_id:
                return None
            event = await session.get(TimelineEvent, row.event_id) if row.event_id is not None else None
            answered = False
            reason = REASONS.get(row.reason or "", row.reason)
            if event is not None:
                answered = bool(await session.scalar(select(TimelineEvent.id).where(
                    TimelineEvent.case_id == event.case_id, TimelineEvent.direction == "in",
                    TimelineEvent.kind == "message", TimelineEvent.id > event.id).limit(1)))
                if event.delivery_status == "failed":
                    reason = await session.scalar(
                        select(TimelineEvent.text).where(TimelineEvent.case_id == event.case_id,
                                                         TimelineEvent.kind == "delivery",
                                                         TimelineEvent.payload["message_event_id"].as_integer()
                                                         == event.id)
                        .order_by(TimelineEvent.id.desc()).limit(1))
            if row.status == "refused" and row.detail.get("error"):
                reason = f"{reason}: {row.detail['error']}"
            return {"id": row.id, "state": shown_state(row.status, event.delivery_status if event else None, answered),
                    "reason": reason, "template": row.template, "sent_as": row.detail.get("sent_as"),
                    "language": row.language, "channel": row.channel,
                    "customer_id": row.customer_id, "case_id": row.case_id, "created_at": aware(row.created_at),
                    "due_at": aware(row.due_at), "sent_at": aware(row.sent_at) if row.sent_at else None}
