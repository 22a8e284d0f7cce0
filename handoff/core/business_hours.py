"""Opening hours, pure: one source of truth for the assistant (actions/business_hours.py re-exports it) and the
service's routing (core/opening.py). No Rasa, no database, no clock: `now` is always given.

It imports only the standard library and `holidays`, so the action server (.venv-bot, run from the repo root)
imports it as the service does."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from holidays.utils import list_localized_countries

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = {
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"),
}
HOLIDAY_LANGUAGES = {"es": "es", "en": "en_US", "pt": "pt_BR"}
LOOKAHEAD_DAYS = 21

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class HoursStatus:
    """The answer to "are we open?" at one instant, with what a customer needs to hear."""

    is_open: bool
    reason: str  # open | closed | holiday | closure
    closes_at: datetime | None = None
    next_open: datetime | None = None
    names: dict[str, str] = field(default_factory=dict)  # holiday/closure name per language


def parse_time(value: str) -> time:
    """Turns "09:00" into a time; "24:00" means end of day."""
    if value in ("24:00", "24:00:00"):
        return time(23, 59, 59, 999999)
    hour, minute = value.split(":")[:2]
    return time(int(hour), int(minute))


def _tz(ops: Mapping[str, Any]) -> ZoneInfo:
    """The business timezone from the operations file."""
    return ZoneInfo(str(ops.get("timezone") or "UTC"))


@lru_cache(maxsize=64)
def _holiday_table(country: str, subdivision: str | None, year: int, language: str | None) -> dict[date, str]:
    """A country's holidays of one year by date, built once per process (building one costs milliseconds)."""
    table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, language=language)
    return {day: str(name) for day, name in table.items()}


def holiday_names(day: date, ops: Mapping[str, Any]) -> dict[str, str]:
    """Names of the public holiday on `day` per language, or {} when it is a working day."""
    conf = ops.get("holidays") or {}
    country = conf.get("country")
    if not country:
        return {}
    names: dict[str, str] = {}
    localized = list_localized_countries().get(country, [])
    for lang, hol_lang in HOLIDAY_LANGUAGES.items():
        # Countries without a translation give their holidays' names in their own language.
        name = _holiday_table(str(country), conf.get("subdivision"), day.year,
                              hol_lang if hol_lang in localized else None).get(day)
        if name:
            names[lang] = name
    return names


def _closures_on(day: date, ops: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Special closures configured for `day`."""
    return [c for c in ops.get("closures") or [] if str(c.get("date")) == day.isoformat()]


def _closure_names(closure: Mapping[str, Any]) -> dict[str, str]:
    """A closure's name per language (a plain string counts for every language)."""
    name = closure.get("name") or ""
    if isinstance(name, Mapping):
        return {str(k): str(v) for k, v in name.items()}
    return {"es": str(name), "en": str(name), "pt": str(name)}


def _subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    """Removes the span `cut` from each interval."""
    result: list[Interval] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            result.append((start, end))
            continue
        if start < cut[0]:
            result.append((start, cut[0]))
        if cut[1] < end:
            result.append((cut[1], end))
    return result


Closures = list[tuple[Interval, dict[str, str]]]


def day_plan(day: date, ops: Mapping[str, Any]) -> tuple[list[Interval], Closures, dict[str, str]]:
    """Open intervals of `day`, its partial closures, and the reason it is closed all day (if any)."""
    tz = _tz(ops)
    hol = holiday_names(day, ops)
    if hol:
        return [], [], hol
    spans: Closures = []
    for closure in _closures_on(day, ops):
        if not closure.get("from") and not closure.get("until"):
            return [], [], _closure_names(closure)
        start = datetime.combine(day, parse_time(str(closure.get("from") or "00:00")), tz)
        end = datetime.combine(day, parse_time(str(closure.get("until") or "24:00")), tz)
        spans.append(((start, end), _closure_names(closure)))
    schedule = (ops.get("business_hours") or {}).get(WEEKDAYS[day.weekday()]) or []
    intervals: list[Interval] = [
        (datetime.combine(day, parse_time(str(a)), tz), datetime.combine(day, parse_time(str(b)), tz))
        for a, b in schedule
    ]
    for span, _ in spans:
        intervals = _subtract(intervals, span)
    return intervals, spans, {}


def hours_status(now: datetime, ops: Mapping[str, Any]) -> HoursStatus:
    """Decides whether we are open at `now` (aware datetime) and when we close or open next."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(_tz(ops))
    today = local.date()
    intervals, spans, closed_all_day = day_plan(today, ops)
    for start, end in intervals:
        if start <= local < end:
            return HoursStatus(True, "open", closes_at=end)
    next_open = _next_opening(local, ops)
    if closed_all_day:
        reason = "holiday" if holiday_names(today, ops) else "closure"
        return HoursStatus(False, reason, next_open=next_open, names=closed_all_day)
    for (start, end), names in spans:
        if start <= local < end:
            return HoursStatus(False, "closure", next_open=next_open, names=names)
    return HoursStatus(False, "closed", next_open=next_open)


def _next_opening(local: datetime, ops: Mapping[str, Any]) -> datetime | None:
    """The first opening time after `local`, looking a few weeks ahead."""
    for offset in range(LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        for start, _ in day_plan(day, ops)[0]:
            if start > local:
                return start
    return None


def when_phrase(moment: datetime, now: datetime, lang: str) -> str:
    """Says when we open, relative to now: "today at 09:00", "tomorrow at 09:00", "Monday at 09:00"."""
    local_now = now.astimezone(moment.tzinfo)
    days = (moment.date() - local_now.date()).days
    hhmm = moment.strftime("%H:%M")
    if lang == "es":
        if days == 0:
            return f"hoy a las {hhmm}"
        if days == 1:
            return f"mañana a las {hhmm}"
        prefix = "el " if days < 7 else ""
        suffix = "" if days < 7 else f" {moment.day}/{moment.month}"
        return f"{prefix}{DAY_NAMES['es'][moment.weekday()]}{suffix} a las {hhmm}"
    if lang == "pt":
        return _when_in_portuguese(moment, days, hhmm)
    if days == 0:
        return f"today at {hhmm}"
    if days == 1:
        return f"tomorrow at {hhmm}"
    suffix = "" if days < 7 else f" {moment.strftime('%b')} {moment.day}"
    return f"{DAY_NAMES['en'][moment.weekday()]}{suffix} at {hhmm}"


def _when_in_portuguese(moment: datetime, days: int, hhmm: str) -> str:
    """When we open, in Portuguese: "hoje às 09:00", "na segunda-feira às 09:00", "no sábado 13/12 às 10:00"."""
    if days == 0:
        return f"hoje às {hhmm}"
    if days == 1:
        return f"amanhã às {hhmm}"
    weekday = moment.weekday()
    article = "no " if weekday >= 5 else "na "
    suffix = "" if days < 7 else f" {moment.day}/{moment.month}"
    return f"{article}{DAY_NAMES['pt'][weekday]}{suffix} às {hhmm}"


def _describe_in_portuguese(status: HoursStatus, name: str, when: str) -> str:
    """The hours answer as a Brazilian brand writes it."""
    if status.is_open and status.closes_at:
        return f"Estamos abertos agora, até as {status.closes_at.strftime('%H:%M')}."
    head = {"holiday": f"Hoje estamos fechados por causa do feriado: {name}",
            "closure": f"Estamos fechados por causa de: {name}"}.get(status.reason, "Agora estamos fechados")
    return f"{head}; abrimos {when}." if when else f"{head}."


def describe(status: HoursStatus, now: datetime, lang: str) -> str:
    """A one-line customer-facing answer in Spanish, English or Portuguese."""
    lang = lang if lang in DAY_NAMES else "es"
    name = status.names.get(lang) or next(iter(status.names.values()), "")
    when = when_phrase(status.next_open, now, lang) if status.next_open else ""
    if lang == "pt":
        return _describe_in_portuguese(status, name, when)
    if lang == "es":
        if status.is_open and status.closes_at:
            return f"Estamos abiertos ahora, hasta las {status.closes_at.strftime('%H:%M')}."
        head = {"holiday": f"Hoy estamos cerrados por {name}", "closure": f"Estamos cerrados por {name}"}.get(
            status.reason, "Ahora estamos cerrados"
        )
        return f"{head}; abrimos {when}." if when else f"{head}."
    if status.is_open and status.closes_at:
        return f"We're open now until {status.closes_at.strftime('%H:%M')}."
    head = {"holiday": f"We're closed today for {name}", "closure": f"We're closed for {name}"}.get(
        status.reason, "We're closed right now"
    )
    return f"{head}; we open {when}." if when else f"{head}."
