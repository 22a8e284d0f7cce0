"""`POST /webhooks/twilio/voice/notifications/{id}/…`: Twilio's requests about a voice notification's call, each
signed as every Twilio Voice request (channels/voice/routes.py checks X-Twilio-Signature before anything)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from handoff.channels.voice import twilio, twiml
from handoff.channels.voice.notification_calls import TRIES, NotificationCalls
from handoff.channels.voice.routes import REFUSALS, TWILIO_FORM, TwiML, signed_twilio
from handoff.web.deps import SettingsDep, provided

router = APIRouter(prefix="/webhooks/twilio/voice/notifications")
CallsDep = Annotated[NotificationCalls, Depends(provided(NotificationCalls))]
NotificationId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-zA-Z]+$")]


@router.post("/{notification_id}/answer", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def answered(notification_id: NotificationId, request: Request, settings: SettingsDep,
                   calls: CallsDep) -> Response:
    """The customer picked up: the notification is read and one key is listened for."""
    async def handle(params: dict[str, str]) -> Response:
        return TwiML(await calls.answer(notification_id, twilio.parse_call(params)))
    return await signed_twilio(request, settings, handle)


@router.post("/{notification_id}/gather", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def gathered(notification_id: NotificationId, request: Request, settings: SettingsDep, calls: CallsDep,
                   attempt: Annotated[int, Query(alias="try", ge=1, le=TRIES)] = 1) -> Response:
    """The key pressed (1 confirm, 2 a person), or none."""
    async def handle(params: dict[str, str]) -> Response:
        return TwiML(await calls.gather(notification_id, twilio.parse_call(params), twilio.parse_gather(params),
                                        attempt))
    return await signed_twilio(request, settings, handle)


@router.post("/{notification_id}/status", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def ended(notification_id: NotificationId, request: Request, settings: SettingsDep,
                calls: CallsDep) -> Response:
    """How the call ended (a repeat is acknowledged and changes nothing)."""
    async def handle(params: dict[str, str]) -> Response:
        await calls.status(notification_id, twilio.parse_call(params), twilio.parse_status(params))
        return TwiML(twiml.empty())
    return await signed_twilio(request, settings, handle)
