"""The operations file (operations.yml) as the service sees it: teams, routing map, SLAs, languages."""
from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handoff.core.business_hours import WEEKDAYS, parse_time
from handoff.core.callback_windows import DayParts
from handoff.core.qa import QaOperations
from handoff.core.routing_policy import OFFERS, Offer, RoutingRules

Tone = Literal["tuteo", "usted", "voseo"]  # how Spanish addresses customers: tú, usted, vos


class AssistantOperations(BaseModel):
    """How the assistant and the service speak to customers (README: Tone and languages)."""

    model_config = ConfigDict(extra="forbid")

    tone: Tone = "tuteo"  # picks the variant of every Spanish text; the actions validate the same key


class ChannelSla(BaseModel):
    first_response: int = 300
    answer: int = 900
    # Staffing (reports/staffing.py): the share of contacts people should answer within first_response seconds.
    service_level: float = Field(default=0.8, gt=0, lt=1)


class StaffingOperations(BaseModel):
    """The staffing report's settings (README: Staffing)."""

    max_occupancy: float = Field(default=0.85, gt=0, le=1)  # no agent busier than this on average
    forecast_weeks: int = Field(default=4, ge=1, le=26)  # weeks the forecast averages


class RetentionOperations(BaseModel):
    """Days content is kept before the retention round erases it (core/retention.py); none: kept (README:
    Erasure and retention)."""

    model_config = ConfigDict(extra="forbid")

    message_text: int | None = Field(default=None, ge=1)  # timeline events' text and payload: messages, media
    recordings: int | None = Field(default=None, ge=1)  # calls' recording and transcript
    webhook_bodies: int | None = Field(default=None, ge=1)  # stored provider webhook bodies, once processed


class CannedResponse(BaseModel):
    """A prepared answer; `{customer_name}`-style variables are filled from the case (handoff/inbox/canned.py)."""

    key: str
    title: str
    text: dict[str, str]  # per language
    teams: list[str] = Field(default_factory=list)  # empty: every team


class InboxOperations(BaseModel):
    average_handle_seconds: int = 300  # for the customer's estimated wait
    dispositions: list[str] = Field(default_factory=lambda: ["resolved", "information_given", "no_response"])
    canned_responses: list[CannedResponse] = Field(default_factory=list)


class VoiceTeam(BaseModel):
    """Where a handed-off call of a team goes: a call queue (default: the team's name) or a number/SIP address."""

    queue: str | None = None
    dial: str | None = None  # "+525555555555" or "sip:care@pbx.example.com"; wins over the queue


class FollowUpTemplate(BaseModel):
    """An approved WhatsApp template the service writes first with; `parameters` name the values, in order."""

    name: str
    language: str
    parameters: list[str] = Field(default_factory=list)  # customer_name, case_id (missed calls: phone too)


class MissedCallTemplate(FollowUpTemplate):
    """The approved WhatsApp template a missed caller gets once."""


class ChatRecoveryOperations(BaseModel):
    """An abandoned website chat continued on WhatsApp (core/recovery.py): the template outside the window."""

    template: FollowUpTemplate | None = None


class VoiceOperations(BaseModel):
    """The voice channel (channels/voice/assistant.py)."""

    silence_reprompts: int = 1  # prompts repeated after silence before the call goes to a person
    gather_timeout_seconds: int = 6
    record_calls: bool = False  # record every call from its answer; recordings land on the call card
    dial_timeout_seconds: int = 25
    teams: dict[str, VoiceTeam] = Field(default_factory=dict)
    missed_call_template: MissedCallTemplate | None = None


class CallbackOperations(BaseModel):
    """Callbacks (core/callbacks.py): the one WhatsApp message a customer gets when the callback found no one."""

    missed_template: MissedCallTemplate | None = None  # outside the 24-hour window; free text inside it
    # What a customer means by "tomorrow morning" and "this afternoon" when they ask for a call (local times, cut
    # to business hours; core/callback_windows.py).
    morning: tuple[str, str] = ("09:00", "12:00")
    afternoon: tuple[str, str] = ("14:00", "18:00")

    @field_validator("morning", "afternoon")
    @classmethod
    def _a_span(cls, value: tuple[str, str]) -> tuple[str, str]:
        """HH:MM times, the first before the second."""
        if not (HHMM.match(value[0]) and HHMM.match(value[1])) or parse_time(value[0]) >= parse_time(value[1]):
            raise ValueError(f"{value[0]!r}-{value[1]!r} is not a span of HH:MM times")
        return value

    def day_parts(self, asap: timedelta) -> DayParts:
        """The spans as the pure window logic takes them."""
        return DayParts(morning=(parse_time(self.morning[0]), parse_time(self.morning[1])),
                        afternoon=(parse_time(self.afternoon[0]), parse_time(self.afternoon[1])), asap=asap)


class VerificationCodeOperations(BaseModel):
    """Verification codes on WhatsApp: an approved authentication template (copy-code button), by language."""

    whatsapp_template: str = "verification_code"
    languages: list[str] = Field(default_factory=list)  # es_MX, en_US…; none: codes go by phone call only


class Holidays(BaseModel):
    """The country whose holidays close the operation; also where local phone numbers are read."""

    country: str = "MX"
    subdivision: str | None = None  # e.g. CMX: its own holidays too


HHMM = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$|^24:00$")


class OpeningTemplate(BaseModel):
    """The approved WhatsApp template a customer kept after hours gets at the opening when their 24-hour window
    has closed; `parameters` name the values, in order (customer_name, case_id)."""

    name: str = "after_hours_opening"
    language: str = "es_MX"
    parameters: list[str] = Field(default_factory=lambda: ["customer_name"])


class RoutingOperations(BaseModel):
    """The routing policy's settings (core/routing_policy.py)."""

    sticky_seconds: int = Field(default=120, ge=0)  # a follow-up waits this long for its busy agent, then the team
    overflow_offers: list[Offer] = Field(default_factory=lambda: list(OFFERS))
    identity_intents: list[str] = Field(default_factory=list)  # agents verify the customer first on these
    opening_template: OpeningTemplate | None = Field(default_factory=OpeningTemplate)  # None: no template
    # Overflow (core/overflow_answers.py): the approved template that continues a case on WhatsApp (always
    # allowed, the 24-hour window open or not), and how long "call me as soon as possible" lasts.
    overflow_whatsapp_template: FollowUpTemplate | None = None
    overflow_callback_minutes: int = Field(default=60, ge=5)

    def rules(self) -> RoutingRules:
        """The settings as the pure policy takes them."""
        return RoutingRules(self.sticky_seconds, tuple(self.overflow_offers), frozenset(self.identity_intents))

    def callback_window(self) -> timedelta:
        """An overflowed customer's callback: from now until this much later."""
        return timedelta(minutes=self.overflow_callback_minutes)


class NotificationOperations(BaseModel):
    """What other systems may send first (core/notifications.py): approved templates, quiet hours, a daily cap."""

    # Approved WhatsApp templates for notifications (name, language, category, parameters, body), as in
    # whatsapp_templates; only these can be asked for.
    templates: list[dict[str, Any]] = Field(default_factory=list)
    quiet_hours: tuple[str, str] | None = None  # [from, until] in the customer's local time: held until it ends
    max_per_customer_per_day: int = Field(3, ge=0)  # sent in the last 24 hours, per customer

    @field_validator("quiet_hours")
    @classmethod
    def _times(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is not None and not all(HHMM.match(part) for part in value):
            raise ValueError(f"notifications.quiet_hours: {value!r} are not HH:MM times")
        return value


class Operations(BaseModel):
    """Only the keys the service uses are typed; the actions read the same file for business hours."""

    timezone: str = "UTC"
    # Opening hours (core/business_hours.py, the assistant's too): weekday → [[from, until]] local times. None
    # configured: open around the clock (holidays and closures then close nothing either).
    business_hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    closures: list[dict[str, Any]] = Field(default_factory=list)  # {date, from?, until?, name}
    default_language: str = "es"
    languages: list[str] = Field(default_factory=lambda: ["es", "en", "pt"])
    assistant: AssistantOperations = Field(default_factory=AssistantOperations)
    teams: dict[str, dict[str, Any]] = Field(default_factory=dict)
    intent_teams: dict[str, str] = Field(default_factory=dict)
    sla: dict[str, ChannelSla] = Field(default_factory=dict)
    follow_up_window_hours: int = 72
    short_abandon_seconds: int = Field(10, ge=0)  # a customer who left people's queue sooner is a short abandon
    assistant_silence_minutes: int = Field(30, ge=1)  # silent this long while the assistant holds the case: left
    whatsapp_templates: list[dict[str, Any]] = Field(default_factory=list)
    inbox: InboxOperations = Field(default_factory=InboxOperations)
    voice: VoiceOperations = Field(default_factory=VoiceOperations)
    verification_code: VerificationCodeOperations = Field(default_factory=VerificationCodeOperations)
    callbacks: CallbackOperations = Field(default_factory=CallbackOperations)
    holidays: Holidays = Field(default_factory=Holidays)
    routing: RoutingOperations = Field(default_factory=RoutingOperations)
    chat_recovery: ChatRecoveryOperations = Field(default_factory=ChatRecoveryOperations)
    qa: QaOperations = Field(default_factory=QaOperations)  # quality review scorecards (core/qa.py)
    staffing: StaffingOperations = Field(default_factory=StaffingOperations)
    retention: RetentionOperations = Field(default_factory=RetentionOperations)
    notifications: NotificationOperations = Field(default_factory=NotificationOperations)

    @field_validator("business_hours")
    @classmethod
    def _known_days_and_times(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        """A misspelt weekday or time stops start-up instead of closing the operation silently."""
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"business_hours: {day!r} is not one of {', '.join(WEEKDAYS)}")
            for start, end in spans:
                if not (HHMM.match(start) and HHMM.match(end)):
                    raise ValueError(f"business_hours.{day}: {start!r}-{end!r} are not HH:MM times")
        return value

    @model_validator(mode="after")
    def _qa_teams_exist(self) -> Operations:
        """A scorecard for a misspelt team would silently score that team's cases with the default."""
        unknown = self.qa.unknown_teams(self.teams)
        if unknown:
            raise ValueError(f"qa.scorecards: unknown teams {', '.join(unknown)} (not under teams:)")
        return self

    def hours(self) -> dict[str, Any]:
        """The hours keys as the pure logic reads them: the same mapping the assistant reads from the file."""
        return {"timezone": self.timezone, "business_hours": self.business_hours,
                "holidays": self.holidays.model_dump(), "closures": self.closures}

    def team_for(self, intent: str | None, requested: str | None = None) -> str:
        """The team named by the assistant if we know it, else the one mapped to the intent."""
        if requested and requested in self.teams:
            return requested
        return self.intent_teams.get(intent or "", self.intent_teams.get("default", "care"))

    @property
    def default_region(self) -> str:
        """Where a phone number typed without its country code is read (as the actions read it)."""
        return self.holidays.country.upper()

    @property
    def tone(self) -> str:
        """How Spanish texts address customers (tuteo, usted, voseo): passed with the language to texts.text."""
        return self.assistant.tone

    def language_or_default(self, language: str | None) -> str:
        """A language we have texts for."""
        return language if language in self.languages else self.default_language


def load_operations(path: Path) -> Operations:
    """Parses and validates the file; a broken file stops start-up with a clear error."""
    with open(path, encoding="utf-8") as handle:
        return Operations.model_validate(yaml.safe_load(handle) or {})


@lru_cache
def cached_operations(path: Path) -> Operations:
    """Read once per process."""
    return load_operations(path)
