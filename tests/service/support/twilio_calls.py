"""Twilio's and a PBX's side of a call in tests: requests signed the way the providers sign them.

Twilio requests are signed with the `twilio` package's own RequestValidator, never with our code.
"""
from __future__ import annotations

import json
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from handoff.channels.voice.pbx import sign as sign_call_event

AUTH_TOKEN = "test-twilio-auth-token"
CALL_EVENTS_SECRET = "test-call-events-secret"
CALLER = "+525512345678"  # a Mexican mobile: the assistant speaks es-MX to an unknown caller from it
OUR_NUMBER = "+525500000000"
ACCOUNT_SID = "AC" + "0" * 32


def call_params(call_sid: str, **extra: str) -> dict[str, str]:
    """The parameters every Twilio Voice request carries, for an inbound call from CALLER."""
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "From": CALLER,
            "Caller": CALLER, "To": OUR_NUMBER, "Called": OUR_NUMBER, "Direction": "inbound",
            "CallStatus": "in-progress", **extra}


def twilio_signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_twilio_sync(public_base_url: str, path: str, params: dict[str, str], *, base_url: str | None = None,
                     token: str = AUTH_TOKEN, signed: bool = True) -> httpx.Response:
    """As Twilio posts to the URL configured in its console (`public_base_url` + path)."""
    headers = {"X-Twilio-Signature": twilio_signature(public_base_url + path, params, token)} if signed else {}
    return httpx.post(f"{base_url or public_base_url}{path}", data=params, headers=headers, timeout=90)


async def post_twilio(client: httpx.AsyncClient, public_base_url: str, path: str, params: dict[str, str], *,
                      token: str = AUTH_TOKEN, signed: bool = True) -> httpx.Response:
    headers = {"X-Twilio-Signature": twilio_signature(public_base_url + path, params, token)} if signed else {}
    return await client.post(path, data=params, headers=headers)


async def post_call_event(client: httpx.AsyncClient, event: dict[str, Any], *, secret: str = CALL_EVENTS_SECRET,
                          signed: bool = True) -> httpx.Response:
    """POST /webhooks/calls as a PBX integration does: raw JSON with X-Signature: sha256=<hex>."""
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Signature"] = sign_call_event(secret, body)
    return await client.post("/webhooks/calls", content=body, headers=headers)
