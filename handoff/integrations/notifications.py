"""`POST /api/v1/notifications` and `GET /api/v1/notifications/{id}`: other systems write to customers first
(scope `notifications:send`), through core.notifications (templates, consent, quiet hours, the daily cap)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    template: str = Field(max_length=100, description="A name under notifications.templates in operations.yml")
    language: str | None = Field(None, max_length=16, description="es, en, es_MX…; else the template's first")
    values: dict[str, str] = Field(default_factory=dict, description="The template's parameters by name")
    channel: Literal["whatsapp"] = "whatsapp"
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
    template: str
    language: str
    channel: str
    customer_id: str
    case_id: str | None
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None


@router.post("/notifications", response_model=NotificationAccepted, status_code=202,
             responses={**TOO_LARGE, **TOKEN_REFUSALS, **errors(409)})
async def send(body: NotificationIn, caller: NotificationSender, notifier: NotifierDep) -> NotificationAccepted:
    """Accepted (202) with its id and state; 409 when refused (opted out, daily limit), the same answer again for
    the same idempotency_key."""
    request = NotificationRequest(to=body.to.model_dump(exclude_none=True), template=body.template,
                                  language=body.language, values=body.values, idempotency_key=body.idempotency_key,
                                  send_after=body.send_after)
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
