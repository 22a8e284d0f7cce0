"""Pure decisions of the voice channel: which language a caller hears, what is read out, how a call ended."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from handoff.core.messages import QuickReply
from handoff.core.texts import text as service_text
from handoff.core.verification import CODE_DIGITS

# Where a caller with no known language most likely speaks Spanish, English or Portuguese (phonenumbers regions).
SPANISH_REGIONS = frozenset({"MX", "ES", "AR", "BO", "CL", "CO", "CR", "CU", "DO", "EC", "GQ", "GT", "HN", "NI",
                             "PA", "PE", "PR", "PY", "SV", "UY", "VE"})
ENGLISH_REGIONS = frozenset({"US", "CA", "GB", "AU", "NZ", "IE", "IN", "ZA", "JM", "BS", "BB", "TT", "PH", "SG"})
PORTUGUESE_REGIONS = frozenset({"BR"})  # Brazilian Portuguese: Twilio's pt-BR voices and recognition
DEFAULT_LOCALES = {"es": "es-MX", "en": "en-US", "pt": "pt-BR"}
REGIONS = {"es": SPANISH_REGIONS | {"US"}, "en": ENGLISH_REGIONS, "pt": PORTUGUESE_REGIONS}
MAX_OPTIONS = 9
CODE_TIMEOUT_SECONDS = 15  # while a code is awaited: time to find it in WhatsApp, and between its keys
FINISH_KEY = "#"
DIGIT_WORDS = {"cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
               "seis": "6", "siete": "7", "ocho": "8", "nueve": "9", "zero": "0", "oh": "0", "one": "1", "two": "2",
               "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
               # Brazilian Portuguese ("meia" is six when reading numbers out; not "um", an English filler)
               "dois": "2", "duas": "2", "três": "3", "quatro": "4", "meia": "6", "sete": "7",
               "oito": "8", "nove": "9"}

CALL_STATUSES = ("ringing", "in-progress", "queued", "completed", "busy", "no-answer", "canceled", "failed",
                 "abandoned")
TERMINAL = frozenset({"completed", "busy", "no-answer", "canceled", "failed", "abandoned"})
MISSED = frozenset({"busy", "no-answer", "canceled", "abandoned"})  # the caller never reached anyone
# A withheld caller id: the words carriers and PBXs send, and Twilio's stand-in numbers (their digits spell
# ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE on a keypad), some of which parse as real numbers.
WITHHELD_WORDS = frozenset({"anonymous", "restricted", "blocked", "unknown", "unavailable", "private", "withheld"})
WITHHELD_NUMBERS = frozenset({"266696687", "7378742833", "17378742833", "2562533", "8656696", "86282452253"})


@dataclass(frozen=True)
class VoiceLocale:
    """The caller's language and the locale their speech is recognized in (a BCP 47 tag: es-CO, en-US…)."""

    language: str
    speech: str


@dataclass(frozen=True)
class VoiceReply:
    """What the service says on a call and what happens next: listen again, wait for a person, or hang up."""

    texts: tuple[str, ...]
    locale: VoiceLocale
    then: str  # listen, queue, dial, hangup
    target: str | None = None  # the queue name, or the number / SIP address to dial
    num_digits: int | None = None  # 1 while numbered options are offered
    record: bool = False  # start recording the call (first answer only)
    code: bool = False  # a verification code is awaited: six keys, or # after them


def withheld(number: str | None) -> bool:
    """Whether a caller id says the caller withheld their number (then no phone may be read from it)."""
    text = (number or "").strip().lower()
    if not text or text in WITHHELD_WORDS or text.startswith("sip:anonymous@"):
        return True
    return re.sub(r"[\s()+.-]", "", text) in WITHHELD_NUMBERS


def region_of(e164: str | None) -> str | None:
    """The phonenumbers region of an E.164 number (+52… → MX), None when it cannot be placed."""
    if not e164:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def locale_for(language: str, region: str | None) -> VoiceLocale:
    """es-<region> for Spanish callers of Spanish-speaking countries, en-<region> and pt-BR likewise, else the
    default."""
    default = DEFAULT_LOCALES.get(language, DEFAULT_LOCALES["es"])
    regions = REGIONS.get(language, frozenset())
    speech = f"{language}-{region}" if region in regions else default
    return VoiceLocale(language if language in DEFAULT_LOCALES else "es", speech)


def voice_locale(customer_language: str | None, e164: str | None, default_language: str = "es") -> VoiceLocale:
    """The known customer's language, else the one of the number's country, else the operations default."""
    region = region_of(e164)
    if customer_language in DEFAULT_LOCALES:
        return locale_for(str(customer_language), region)
    if region in SPANISH_REGIONS:
        return locale_for("es", region)
    if region in ENGLISH_REGIONS:
        return locale_for("en", region)
    if region in PORTUGUESE_REGIONS:
        return locale_for("pt", region)
    return locale_for(default_language if default_language in DEFAULT_LOCALES else "es", region)


def locale_from_tag(tag: str | None, default_language: str = "es") -> VoiceLocale:
    """The VoiceLocale stored on a call as its speech tag (es-MX, en-US, es-CO…)."""
    language, _, region = (tag or "").partition("-")
    return locale_for(language if language in DEFAULT_LOCALES else default_language, region or None)


_ACCENTS = {"\u0300", "\u0301", "\u0308"}  # grave, acute, diaeresis; the tilde of ñ stays


def speech_for_assistant(text: str) -> str:
    """A transcript as customers type: no accents or inverted marks, which the assistant was trained without."""
    decomposed = unicodedata.normalize("NFD", text)
    plain = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _ACCENTS))
    return re.sub(r"\s+", " ", plain.replace("¿", "").replace("¡", "")).strip()


def speakable(text: str) -> str:
    """Text for text-to-speech: no markdown marks or emoji, one line."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Cs", "Co"))
    cleaned = re.sub(r"[*_~`]+", "", cleaned)
    return re.sub(r"\s+", " ", cleaned).strip()


def numbered_options(replies: Iterable[QuickReply], language: str,
                     tone: str = "tuteo") -> tuple[str, list[dict[str, Any]]]:
    """The assistant's buttons read out as "for X press 1", and the digit → payload map kept on the call."""
    options = [{"digit": str(number), "title": reply.title, "payload": reply.payload or reply.title}
               for number, reply in enumerate(list(replies)[:MAX_OPTIONS], start=1)]
    line = service_text("voice_option_line", language, tone, title="{title}", digit="{digit}")
    return " ".join(line.format(title=speakable(o["title"]), digit=o["digit"]) for o in options), options


def choose_option(options: list[dict[str, Any]] | None, digits: str | None) -> dict[str, Any] | None:
    """The option a caller pressed, if the digits name one."""
    if not digits or not options:
        return None
    return next((option for option in options if option.get("digit") == digits.strip().rstrip("#")), None)


def keyed_code(digits: str | None) -> str | None:
    """The six digits a caller keyed in (with the finish key, or * fumbled after them), else None."""
    keys = (digits or "").strip().rstrip(FINISH_KEY + "*")
    return keys if len(keys) == CODE_DIGITS and keys.isascii() and keys.isdigit() else None


def spoken_digits(speech: str | None) -> str:
    """The digits in what a caller said: numerals, and digit words said in a row ("uno dos tres"; a lone "una"
    is a word, not a 1)."""
    if not speech or len(speech) > 400:
        return ""
    digits, run = "", ""
    for token in [*re.split(r"[\s,.;:-]+", unicodedata.normalize("NFC", speech).lower()), ""]:
        if token.isascii() and token.isdigit() and token:
            digits, run = digits + (run if len(run) > 1 else "") + token, ""
        elif token in DIGIT_WORDS:
            run += DIGIT_WORDS[token]
        else:
            digits, run = digits + (run if len(run) > 1 else ""), ""
    return digits


def awaited_code(digits: str | None, speech: str | None,
                 options: list[dict[str, Any]] | None) -> tuple[str | None, bool]:
    """While a code is awaited: (the code, when six digits were keyed or said; whether the caller fumbled it: keys
    that are neither six digits nor an option, or speech with digits but not six). Speech without digits is for the
    assistant; no digit of a code attempt ever is."""
    if digits:
        code = keyed_code(digits)
        return code, code is None and choose_option(options, digits) is None
    heard = spoken_digits(speech)
    if not heard:
        return None, False
    return (heard, False) if len(heard) == CODE_DIGITS else (None, True)


def after_silence(silences: int, reprompts: int) -> str:
    """`reprompt` while the caller has had fewer than `reprompts` second chances, then `to_people`."""
    return "reprompt" if silences <= reprompts else "to_people"


def next_status(current: str | None, reported: str) -> str:
    """How a call ended never goes back; only a queue hang-up refines `completed` into `abandoned`."""
    if reported not in CALL_STATUSES:
        return current or "in-progress"
    if current in TERMINAL:
        return "abandoned" if current == "completed" and reported == "abandoned" else current
    return reported


def pbx_final_status(reported: str | None, answered: bool) -> str:
    """A PBX call that ended `completed` without anyone answering was hung up while ringing: canceled."""
    status = reported if reported in TERMINAL else "completed"
    return "canceled" if status == "completed" and not answered else status


def is_missed(status: str | None) -> bool:
    """Busy, not answered, canceled, or hung up while waiting for a person."""
    return status in MISSED


def dial_target(target: str) -> tuple[str, str]:
    """("sip", uri) for a SIP address, ("number", e164) for a phone number."""
    value = target.strip()
    return ("sip", value) if value.lower().startswith("sip:") else ("number", value)


def template_values(parameters: list[str], *, customer_name: str | None, case_id: str, phone: str | None,
                    language: str) -> list[str]:
    """The missed-call template's parameters, filled from the case (a template refuses empty values)."""
    fallback = {"es": "cliente", "en": "there", "pt": "cliente"}.get(language, "cliente")
    known = {"customer_name": customer_name or fallback, "case_id": case_id, "phone": phone or ""}
    return [known.get(name) or fallback for name in parameters]
