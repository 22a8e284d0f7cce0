"""Verification codes read in a phone call (Twilio REST `Calls`): the code said digit by digit, twice, in the
customer's language. The TwiML travels in the request only; nothing of it is stored or logged."""
from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from handoff.channels.voice import CHANNEL
from handoff.channels.voice.decisions import DEFAULT_LOCALES
from handoff.channels.voice.rest import TwilioRest
from handoff.core.texts import text as service_text

SAYINGS = ("voice_code_said", "voice_code_again")


def code_twiml(code: str, language: str, tone: str = "tuteo") -> str:
    """<Say> the code twice, its digits apart so each is read as one digit ("4, 2, 9", not "four hundred…")."""
    lang = language if language in DEFAULT_LOCALES else "es"
    digits = ", ".join(code)
    response = VoiceResponse()
    for saying in SAYINGS:
        response.say(service_text(saying, lang, tone, digits=digits), language=DEFAULT_LOCALES[lang])
        response.pause(length=1)
    response.hangup()
    return str(response)


class TwilioCodeCourier:
    """Calls a phone from TWILIO_CALLER_ID and reads the code, through the process's Twilio REST client."""

    channel = CHANNEL

    def __init__(self, rest: TwilioRest, tone: str = "tuteo") -> None:
        self.rest = rest
        self.tone = tone  # operations.yml assistant.tone

    @property
    def configured(self) -> bool:
        return self.rest.configured

    async def deliver(self, phone: str, code: str, language: str) -> str | None:
        """None when Twilio queued the call, else Twilio's status and message."""
        placed = await self.rest.create_call(phone, Twiml=code_twiml(code, language, self.tone))
        return placed.error
