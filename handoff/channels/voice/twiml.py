"""TwiML for the service's voice replies, built with the `twilio` package's own VoiceResponse (escapes text)."""
from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from handoff.channels.voice.decisions import (
    CODE_TIMEOUT_SECONDS,
    DEFAULT_LOCALES,
    FINISH_KEY,
    VoiceLocale,
    VoiceReply,
    dial_target,
    speakable,
)
from handoff.channels.voice.twilio import public_url
from handoff.core.verification import CODE_DIGITS

BASE_PATH = "/webhooks/twilio/voice"
# Locales Twilio's <Say> speaks; <Gather> recognizes more (every es-XX), so speech and speaking may differ.
SAY_LOCALES = frozenset({"es-MX", "es-ES", "es-US", "en-US", "en-GB", "en-AU", "en-IN", "en-CA", "pt-BR"})


@dataclass(frozen=True)
class VoiceUrls:
    """Absolute callback URLs under PUBLIC_BASE_URL, the same base the signatures are checked against."""

    gather: str
    queue: str
    dialed: str
    status: str
    recording: str
    transcription: str

    @classmethod
    def under(cls, public_base_url: str) -> VoiceUrls:
        def url(name: str) -> str:
            return public_url(public_base_url, f"{BASE_PATH}/{name}")
        return cls(url("gather"), url("queue"), url("dialed"), url("status"), url("recording"), url("transcription"))


def say_locale(locale: VoiceLocale) -> str:
    """The locale <Say> speaks to this caller in: the one they are heard in, else their language's default."""
    return locale.speech if locale.speech in SAY_LOCALES else DEFAULT_LOCALES[locale.language]


def render(reply: VoiceReply, urls: VoiceUrls, *, gather_timeout: int = 6, dial_timeout: int = 25) -> str:
    """One TwiML document: <Say> inside <Gather input="speech dtmf"> to listen again (for a code: up to six keys,
    or # after fewer, with time to find it), or <Say> then <Enqueue>/<Dial>/<Hangup>."""
    response = VoiceResponse()
    if reply.record:
        response.start().recording(recording_status_callback=urls.recording,
                                   recording_status_callback_event="completed", channels="dual")
    texts = [speakable(text) for text in reply.texts if text and speakable(text)]
    say = say_locale(reply.locale)
    if reply.then == "listen":
        keys = ({"num_digits": CODE_DIGITS, "finish_on_key": FINISH_KEY,
                 "timeout": max(gather_timeout, CODE_TIMEOUT_SECONDS)} if reply.code
                else {"num_digits": reply.num_digits, "timeout": gather_timeout})
        gather = response.gather(input="speech dtmf", action=urls.gather, method="POST",
                                 language=reply.locale.speech, speech_timeout="auto", action_on_empty_result=True,
                                 **keys)
        for text in texts:
            gather.say(text, language=say)
        return str(response)
    for text in texts:
        response.say(text, language=say)
    if reply.then == "queue" and reply.target:
        response.enqueue(reply.target, action=urls.queue, method="POST")
    elif reply.then == "dial" and reply.target:
        kind, address = dial_target(reply.target)
        dial = response.dial(action=urls.dialed, method="POST", timeout=dial_timeout)
        if kind == "sip":
            dial.sip(address)
        else:
            dial.number(address)
    else:
        response.hangup()
    return str(response)


def empty() -> str:
    """An empty TwiML document: acknowledges a callback whose answer Twilio ignores."""
    return str(VoiceResponse())


def bridge(say: str, language: str, target: str, caller_id: str, status_url: str, *, timeout: int = 25) -> str:
    """To the agent who answered a callback: a word, then <Dial> the customer from our number; the customer's leg
    reports how it ended (answered or not) to `status_url`."""
    response = VoiceResponse()
    response.say(speakable(say), language=language)
    dial = response.dial(caller_id=caller_id, timeout=timeout)
    kind, address = dial_target(target)
    if kind == "sip":
        dial.sip(address, status_callback=status_url, status_callback_method="POST")
    else:
        dial.number(address, status_callback=status_url, status_callback_method="POST")
    return str(response)


def hang_up() -> str:
    """A call the service will not continue."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
