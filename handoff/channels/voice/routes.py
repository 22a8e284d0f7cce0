"""`POST /webhooks/twilio/voice[/…]` (Twilio Voice) and `POST /webhooks/calls` (signed PBX call events).

Thin: the signature is checked before anything is read into the service or stored; refused requests store nothing.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from handoff.channels.voice import pbx, twilio, twiml
from handoff.channels.voice.assistant import VoiceAssistant
from handoff.channels.voice.callbacks import CallbackCalls
from handoff.channels.voice.history import CallHistory
from handoff.settings import Settings
from handoff.web.deps import SettingsDep, provided
from handoff.web.errors import errors
from handoff.web.params import CallbackId
from handoff.web.request_bodies import inline_schema, request_body

router = APIRouter()
# Enforced while the body streams (web/body_limit.py): past its limit a request gets 413 and is not read further.
BODY_LIMITS = {"/webhooks/twilio": twilio.MAX_BODY_BYTES, "/webhooks/calls": pbx.MAX_BODY_BYTES}
VoiceDep = Annotated[VoiceAssistant, Depends(provided(VoiceAssistant))]
CallHistoryDep = Annotated[CallHistory, Depends(provided(CallHistory))]
CallbacksDep = Annotated[CallbackCalls, Depends(provided(CallbackCalls))]


class TwiML(Response):
    """A TwiML document: what Twilio does next on the call."""

    media_type = "application/xml"


class Refusal(BaseModel):
    error: str


class CallEventAck(BaseModel):
    ok: bool
    duplicate: bool  # the PBX sent this event before: acknowledged, stored once


REFUSALS = errors(400, 403, 413, 503, model=Refusal)
# The bodies the routes read themselves, after the signature (Twilio: form parameters; a PBX: one JSON event).
TWILIO_FORM = request_body(inline_schema(twilio.VoiceForm), "application/x-www-form-urlencoded")
CALL_EVENT = request_body(inline_schema(pbx.EventBody))


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def signed_twilio(request: Request, settings: Settings,
                         handle: Callable[[dict[str, str]], Awaitable[Response]]) -> Response:
    """X-Twilio-Signature over PUBLIC_BASE_URL + path + query and the form parameters, then `handle`."""
    if not settings.twilio_auth_token:
        return _refuse(503, "Twilio Voice not configured (TWILIO_AUTH_TOKEN)")
    try:
        params = twilio.parse_form(await request.body())
    except twilio.MalformedVoiceRequest:
        return _refuse(403, "invalid X-Twilio-Signature")  # an unreadable body cannot carry a valid signature
    url = twilio.public_url(settings.public_base_url, request.url.path, request.url.query)
    if not twilio.check_signature(settings.twilio_auth_token, url, params,
                                  request.headers.get("x-twilio-signature")):
        return _refuse(403, "invalid X-Twilio-Signature")
    try:
        return await handle(params)
    except twilio.MalformedVoiceRequest as exc:
        return _refuse(400, str(exc))


def _twiml(document: str) -> Response:
    return TwiML(document)


@router.post("/webhooks/twilio/voice", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def incoming_call(request: Request, settings: SettingsDep, voice: VoiceDep) -> Response:
    """A call to our number: greeted and listened to by the assistant (or sent to the people holding the case)."""
    async def handle(params: dict[str, str]) -> Response:
        return _twiml(await voice.incoming(twilio.parse_call(params)))
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/gather", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def gathered(request: Request, settings: SettingsDep, voice: VoiceDep) -> Response:
    async def handle(params: dict[str, str]) -> Response:
        return _twiml(await voice.gather(twilio.parse_call(params), twilio.parse_gather(params)))
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/queue", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def left_queue(request: Request, settings: SettingsDep, voice: VoiceDep) -> Response:
    async def handle(params: dict[str, str]) -> Response:
        result, waited = twilio.parse_queue_result(params)
        return _twiml(await voice.queue_result(twilio.parse_call(params), result, waited))
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/dialed", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def dialed(request: Request, settings: SettingsDep, voice: VoiceDep) -> Response:
    async def handle(params: dict[str, str]) -> Response:
        status, duration = twilio.parse_dial_result(params)
        return _twiml(await voice.dial_result(twilio.parse_call(params), status, duration))
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/status", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def status_callback(request: Request, settings: SettingsDep, history: CallHistoryDep) -> Response:
    async def handle(params: dict[str, str]) -> Response:
        call = twilio.parse_call(params)
        await history.status(twilio.call_party(call), twilio.status_change(call, twilio.parse_status(params)))
        return _twiml(twiml.empty())
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/recording", response_class=TwiML, responses=REFUSALS, openapi_extra=TWILIO_FORM)
async def recording_callback(request: Request, settings: SettingsDep, history: CallHistoryDep) -> Response:
    async def handle(params: dict[str, str]) -> Response:
        call = twilio.parse_call(params)
        await history.recording(twilio.call_party(call),
                                twilio.recording_change(call, twilio.parse_recording(params)))
        return _twiml(twiml.empty())
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/transcription", response_class=TwiML, responses=REFUSALS,
             openapi_extra=TWILIO_FORM)
async def transcription_callback(request: Request, settings: SettingsDep, history: CallHistoryDep) -> Response:
    async def handle(params: dict[str, str]) -> Response:
        call = twilio.parse_call(params)
        await history.transcript(
            twilio.call_party(call), twilio.transcript_change(call, twilio.parse_transcription(params)))
        return _twiml(twiml.empty())
    return await signed_twilio(request, settings, handle)


# ---- callbacks placed from the inbox (channels/voice/callbacks.py) ------------------------------------------
@router.post("/webhooks/twilio/voice/callbacks/{callback_id}/bridge", response_class=TwiML, responses=REFUSALS,
             openapi_extra=TWILIO_FORM)
async def callback_bridge(callback_id: CallbackId, request: Request, settings: SettingsDep,
                          callbacks: CallbacksDep) -> Response:
    """The agent answered a callback's call: dial the customer."""
    async def handle(params: dict[str, str]) -> Response:
        return _twiml(await callbacks.bridge(callback_id, twilio.parse_call(params)))
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/callbacks/{callback_id}/agent", response_class=TwiML, responses=REFUSALS,
             openapi_extra=TWILIO_FORM)
async def callback_agent_status(callback_id: CallbackId, request: Request, settings: SettingsDep,
                                callbacks: CallbacksDep) -> Response:
    """The call to the agent ended: unanswered, the callback waits for the team again."""
    async def handle(params: dict[str, str]) -> Response:
        await callbacks.agent_leg(callback_id, twilio.parse_call(params), twilio.parse_status(params))
        return _twiml(twiml.empty())
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/twilio/voice/callbacks/{callback_id}/customer", response_class=TwiML, responses=REFUSALS,
             openapi_extra=TWILIO_FORM)
async def callback_customer_status(callback_id: CallbackId, request: Request, settings: SettingsDep,
                                   callbacks: CallbacksDep) -> Response:
    """The customer's leg ended: the callback's outcome (a repeat is acknowledged and changes nothing)."""
    async def handle(params: dict[str, str]) -> Response:
        await callbacks.customer_leg(callback_id, twilio.parse_call(params), twilio.parse_status(params))
        return _twiml(twiml.empty())
    return await signed_twilio(request, settings, handle)


@router.post("/webhooks/calls", response_model=CallEventAck, responses=REFUSALS, openapi_extra=CALL_EVENT)
async def pbx_call_event(request: Request, settings: SettingsDep,
                         history: CallHistoryDep) -> CallEventAck | JSONResponse:
    """One call event from any PBX, signed `X-Signature: sha256=<hex>`; a repeated event is acknowledged."""
    secret = settings.call_events_secret
    if not secret:
        return _refuse(503, "call events not configured (CALL_EVENTS_SECRET)")
    body = await request.body()
    if not pbx.check_signature(secret, body, request.headers.get(pbx.SIGNATURE_HEADER)):
        return _refuse(403, f"missing or invalid {pbx.SIGNATURE_HEADER}")
    try:
        event = pbx.parse_event(body)
        stored = await history.pbx_event(event)
    except pbx.MalformedCallEvent as exc:
        return _refuse(400, f"malformed call event: {exc}")
    return CallEventAck(ok=True, duplicate=not stored)
