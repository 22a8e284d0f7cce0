"""Verification codes read in a phone call (Twilio REST `Calls`): the code said digit by digit, twice, in the
customer's language. The TwiML travels in the request only; nothing of it is stored or logged."""
from __future__ import annotations

import httpx
from twilio.twiml.voice_response import VoiceResponse

from handoff.channels.voice import CHANNEL
from handoff.channels.voice.decisions import DEFAULT_LOCALES

SAYINGS = {
    "es": ("Hola. Tu código de verificación es: {digits}.", "Repito, tu código es: {digits}."),
    "en": ("Hello. Your verification code is: {digits}.", "Again, your code is: {digits}."),
}


def code_twiml(code: str, language: str) -> str:
    """<Say> the code twice, its digits apart so each is read as one digit ("4, 2, 9", not "four hundred…")."""
    lang = language if language in SAYINGS else "es"
    digits = ", ".join(code)
    response = VoiceResponse()
    for saying in SAYINGS[lang]:
        response.say(saying.format(digits=digits), language=DEFAULT_LOCALES[lang])
        response.pause(length=1)
    response.hangup()
    return str(response)


class TwilioCodeCourier:
    """Calls a phone from TWILIO_CALLER_ID and reads the code; configured with the account, token and caller id."""

    channel = CHANNEL

    def __init__(self, api_base: str, account_sid: str | None, auth_token: str | None, caller_id: str | None, *,
                 timeout: float = 15.0, client: httpx.AsyncClient | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.caller_id = caller_id
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.caller_id)

    async def deliver(self, phone: str, code: str, language: str) -> str | None:
        """None when Twilio queued the call (201), else Twilio's status and message."""
        if not (self.account_sid and self.auth_token and self.caller_id):
            return "Twilio calls are not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_CALLER_ID)"
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        form = {"To": phone, "From": self.caller_id, "Twiml": code_twiml(code, language)}
        try:
            response = await self._client.post(url, data=form, auth=(self.account_sid, self.auth_token))
        except httpx.HTTPError as exc:
            return f"Twilio unreachable: {type(exc).__name__}"
        if response.status_code in (200, 201):
            return None
        try:
            body = response.json()
        except ValueError:
            body = {}
        detail = body.get("message") if isinstance(body, dict) else None
        return f"Twilio answered HTTP {response.status_code}" + (f": {detail}" if detail else "")

    async def aclose(self) -> None:
        await self._client.aclose()
