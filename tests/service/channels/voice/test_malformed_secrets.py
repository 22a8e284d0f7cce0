"""Non-ASCII signatures on the phone webhooks (PBX `X-Signature`, `X-Twilio-Signature`): 403, never a 500."""
from __future__ import annotations

import json

from tests.service.channels.voice.conftest import VoiceApp
from tests.service.support.twilio_calls import call_params

NON_ASCII = ["sha256=é…".encode(), b"sha256=\xff\xfe", "ñ".encode() * 40]


async def test_a_non_ascii_pbx_signature_gets_403_and_stores_nothing(voice: VoiceApp) -> None:
    body = json.dumps({"event": "call.started", "call_id": "pbx-1", "sequence": 1, "from": "+525512345678",
                       "to": "+525500000000"}).encode()
    for header in NON_ASCII:
        response = await voice.client.post("/webhooks/calls", content=body,
                                           headers={"Content-Type": "application/json", "X-Signature": header})
        assert (response.status_code, response.json()) == (403, {"error": "missing or invalid X-Signature"})
    assert await voice.stored() == (0, 0, 0, 0)


async def test_a_non_ascii_twilio_signature_gets_403_and_stores_nothing(voice: VoiceApp) -> None:
    for header in NON_ASCII:
        response = await voice.client.post("/webhooks/twilio/voice", data=call_params("CA" + "1" * 32),
                                           headers={"X-Twilio-Signature": header})
        assert (response.status_code, response.json()) == (403, {"error": "invalid X-Twilio-Signature"})
    assert await voice.stored() == (0, 0, 0, 0)
