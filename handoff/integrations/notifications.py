"""`POST /api/v1/notifications` and `GET /api/v1/notifications/{id}`: other systems write to customers first
(scope `notifications:send`), through core.notifications (templates, consent, quiet hours, the daily cap)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from handoff.core.notification_content import FREE_TEXT_LIMIT, VALUES_LIMIT
from handoff.core.notifications import NotificationInvalid, NotificationRequest, Notifier
from handoff.integrations.deps import TOKEN_REFUSALS, NotificationSender
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import provided
from handoff.web.errors import errors, invalid

router = APIRouter(prefix="/api/v1", tags=["notifications"])
NotifierDep = Annotated[Notifier, Depends(provided(Notifier))]
NotificationId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-zA-Z]+$")]


class Recipient(BaseModel):
    """Exactly one of phone (E.164, or national in the operation's region), email, crm_id."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=320)
    crm_id: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one(self) -> Recipient:
        if sum(value is not None for value in (self.phone, self.email, self.crm_id)) != 1:
            raise ValueError("give exactly one of phone, email, crm_id")
        return self


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Recipient
    template: str | None = Field(None, max_length=100, description=(
        "A name under notifications.templates in operations.yml; with text: sent when the window is closed"))
    text: str | None = Field(None, max_length=FREE_TEXT_LIMIT, description=(
        "Free text, sent instead of the template while the customer's 24-hour WhatsApp window is open (needs "
        "allow_free_text); without a template and the window closed: 422"))
    allow_free_text: bool = Field(False, description="The caller allows text instead of an approved template")
    language: str | None = Field(None, max_length=16, description="es, en, es_MX…; else the template's first")
    values: dict[str, str] = Field(default_factory=dict, max_length=VALUES_LIMIT, description=(
        "The template's parameters by name; with free text too, the assistant's context (order_number…)"))
    channel: Literal["whatsapp", "voice"] = Field(
        "whatsapp", description="whatsapp: the template; voice: a call that reads it and asks 1 confirm, 2 a person")
    idempotency_key: str = Field(min_length=1, max_length=200, description="The same key again sends nothing more")
    send_after: datetime | None = Field(None, description="Not before this time (with its offset)")


class NotificationAccepted(BaseModel):
    id: str
    state: str
    reason: str | None


class NotificationView(BaseModel):
    """queued, held (quiet hours, send_after), sent, delivered, read, answered, failed or refused, with the reason."""

    id: str
    state: str
    reason: str | None
    template: str | None
    sent_as: Literal["text", "template"] | None = Field(description="What went out: free text or the template")
    language: str
    channel: str
    customer_id: str
    case_id: str | None
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None


@router.post("/notifications", response_model=NotificationAccepted, status_code=202,
             responses={**TOO_LARGE, **TOKEN_REFUSALS, **errors(400, 409)})
async def send(body: NotificationIn, caller: NotificationSender, notifier: NotifierDep) -> NotificationAccepted:
    """Accepted (202) with its id and state; 409 when refused (opted out, daily limit), the same answer again for
    the same idempotency_key; 422 for free text alone while the customer's 24-hour window is closed."""
    request = NotificationRequest(to=body.to.model_dump(exclude_none=True), template=body.template,
                                  language=body.language, values=body.values, idempotency_key=body.idempotency_key,
                                  send_after=body.send_after, text=body.text, allow_free_text=body.allow_free_text,
                                  channel=body.channel)
    try:
        done = await notifier.submit(caller.id, request)
    except NotificationInvalid as exc:
        raise invalid(("body", exc.field), str(exc)) from exc
    if done.state == "refused":
        raise HTTPException(409, f"notification {done.id} refused: {done.reason}")
    return NotificationAccepted(id=done.id, state=done.state, reason=done.reason)


@router.get("/notifications/{notification_id}", response_model=NotificationView,
            responses={**TOKEN_REFUSALS, **errors(404)})
async def state(notification_id: NotificationId, caller: NotificationSender,
                notifier: NotifierDep) -> dict[str, Any]:
    """One of the calling integration's notifications and where it stands."""
    found = await notifier.view(caller.id, notification_id)
    if found is None:
        raise HTTPException(404, "no such notification")
    return found
