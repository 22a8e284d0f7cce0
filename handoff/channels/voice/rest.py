"""Twilio's REST API for the calls the service places (`POST /2010-04-01/Accounts/{AccountSid}/Calls.json`): one
client per process, shared by verification codes read in a call and callbacks; TWILIO_API_BASE points tests at a
loopback stand-in. Nothing of a request's TwiML is logged."""
from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class PlacedCall:
    """Twilio's answer: the new call's sid when it queued the call, else why not."""

    sid: str | None
    error: str | None = None


class TwilioRest:
    """Creates calls from TWILIO_CALLER_ID with the account's sid and auth token (HTTP basic)."""

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

    async def create_call(self, to: str, **form: str) -> PlacedCall:
        """A call to `to` from the caller id; `form` adds Twiml or Url, StatusCallback… as Twilio names them."""
        if not (self.account_sid and self.auth_token and self.caller_id):
            return PlacedCall(None, "Twilio calls are not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
                                    "TWILIO_CALLER_ID)")
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        try:
            response = await self._client.post(url, data={"To": to, "From": self.caller_id, **form},
                                               auth=(self.account_sid, self.auth_token))
        except httpx.HTTPError as exc:
            return PlacedCall(None, f"Twilio unreachable: {type(exc).__name__}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code in (200, 201):
            sid = body.get("sid") if isinstance(body, dict) else None
            return PlacedCall(str(sid) if sid else None, None if sid else "Twilio answered without a call sid")
        detail = body.get("message") if isinstance(body, dict) else None
        return PlacedCall(None, f"Twilio answered HTTP {response.status_code}" + (f": {detail}" if detail else ""))

    async def aclose(self) -> None:
        await self._client.aclose()
