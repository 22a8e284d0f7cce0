"""`GET|POST /webhooks/whatsapp`: Meta's verification handshake, and signed webhooks stored then acknowledged."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from handoff.channels.whatsapp import schema
from handoff.channels.whatsapp.inbound import MalformedWebhook, read_envelope
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.signature import SignatureCheck, check_signature
from handoff.core.signing import same_secret
from handoff.web.deps import SettingsDep, provided
from handoff.web.errors import errors
from handoff.web.request_bodies import inline_schema, request_body

router = APIRouter()
MAX_BODY_BYTES = 3 * 1024 * 1024
BODY_LIMITS = {"/webhooks/whatsapp": MAX_BODY_BYTES}  # enforced while the body streams (web/body_limit.py)
MAX_CHALLENGE_CHARS = 256
IngestDep = Annotated[WhatsAppIngest, Depends(provided(WhatsAppIngest))]
# Meta's handshake parameters, documented; any value is read (a wrong one is a 403, an oversized challenge a 400).
HubMode = Annotated[str | None, Query(alias="hub.mode")]
HubVerifyToken = Annotated[str | None, Query(alias="hub.verify_token")]
HubChallenge = Annotated[str | None, Query(alias="hub.challenge")]


class Refusal(BaseModel):
    error: str


def _webhook_body() -> dict[str, object]:
    """A webhook as Meta sends it: the envelope, and in each change's value the items checked one by one."""
    def items(model: type[schema.Part]) -> dict[str, object]:
        return {"type": "array", "items": inline_schema(model)}
    value = {"type": "object", "properties": {"messages": items(schema.Message), "statuses": items(schema.Status),
                                              "errors": items(schema.MetaError),
                                              "contacts": {"type": "array", "items": {"type": "object"}}}}
    change = {"type": "object", "required": ["value"], "properties": {"field": {"type": "string"}, "value": value}}
    entry = {"type": "object", "required": ["changes"],
             "properties": {"id": {"type": "string"}, "changes": {"type": "array", "items": change}}}
    return {"type": "object", "required": ["object", "entry"],
            "properties": {"object": {"const": "whatsapp_business_account"},
                           "entry": {"type": "array", "items": entry}}}


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse,
            responses=errors(400, 403, model=Refusal))
async def verify(settings: SettingsDep, mode: HubMode = None, verify_token: HubVerifyToken = None,
                 hub_challenge: HubChallenge = None) -> Response:
    """Echoes `hub.challenge` when Meta subscribes with our verify token; anything else is 403."""
    expected = settings.whatsapp_verify_token
    token, challenge = verify_token or "", hub_challenge or ""
    if not expected or mode != "subscribe" or not same_secret(token, expected):
        return _refuse(403, "verification failed")
    if not challenge or len(challenge) > MAX_CHALLENGE_CHARS:
        return _refuse(400, "missing or oversized hub.challenge")
    return PlainTextResponse(challenge)


@router.post("/webhooks/whatsapp", response_class=Response,  # 200 with an empty body, as Meta expects
             responses={status: {"model": Refusal} for status in (400, 401, 403, 413, 503)},
             openapi_extra=request_body(_webhook_body()))
async def receive(request: Request, settings: SettingsDep, ingest: IngestDep) -> Response:
    """Signature first, then a shape check, then the raw body stored; processing happens after the 200."""
    secret = settings.whatsapp_app_secret
    if not secret:
        return _refuse(503, "WhatsApp channel not configured (WHATSAPP_APP_SECRET)")
    body = await request.body()  # at most MAX_BODY_BYTES: past it the app's body limit answered 413
    check = check_signature(secret, body, request.headers.get("x-hub-signature-256"))
    if check is SignatureCheck.MISSING:
        return _refuse(401, "missing X-Hub-Signature-256")
    if check is SignatureCheck.INVALID:
        return _refuse(403, "invalid X-Hub-Signature-256")
    try:
        read_envelope(body)  # a bad entry, change, message or status is kept by the ingest, not refused here
    except MalformedWebhook as exc:
        return _refuse(400, f"malformed webhook: {exc}")
    await ingest.accept(body)
    return Response(status_code=200)
