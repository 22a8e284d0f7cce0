"""When a customer asked to be called, as a window: their choice (as soon as possible, this afternoon, tomorrow
morning) read against business hours, pure. The confirmation says the day and times the choice became, so an
afternoon asked for after closing is honestly the next working afternoon."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handoff.core.business_hours import LOOKAHEAD_DAYS, day_plan, hours_status, when_phrase

CHOICES = ("asap", "afternoon", "tomorrow_morning")
Span = tuple[time, time]


class NoWindow(ValueError):
    """No working time for that choice in the weeks ahead (e.g. every day closed)."""


@dataclass(frozen=True)
class DayParts:
    """What "morning" and "afternoon" mean to the operation (local times), and how long "as soon as possible" is."""

    morning: Span = (time(9, 0), time(12, 0))
    afternoon: Span = (time(14, 0), time(18, 0))
    asap: timedelta = timedelta(minutes=60)


def _open_around_the_clock(hours: Mapping[str, Any]) -> bool:
    return not hours.get("business_hours")


def _part_on(day: date, span: Span, hours: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """The part of `day` (local) people work in: the span cut to the day's open intervals, first start to last
    end; None when they work none of it."""
    tz = ZoneInfo(str(hours.get("timezone") or "UTC"))
    start, end = datetime.combine(day, span[0], tz), datetime.combine(day, span[1], tz)
    if _open_around_the_clock(hours):
        return start, end
    cuts = [(max(start, a), min(end, b)) for a, b in day_plan(day, hours)[0] if max(start, a) < min(end, b)]
    return (cuts[0][0], cuts[-1][1]) if cuts else None


def _first_part(span: Span, from_day: date, now: datetime, hours: Mapping[str, Any],
                minimum: timedelta) -> tuple[datetime, datetime]:
    """The first day from `from_day` whose part still has `minimum` of working time after `now`."""
    for offset in range(LOOKAHEAD_DAYS):
        part = _part_on(from_day + timedelta(days=offset), span, hours)
        if part is not None and part[1] - max(part[0], now) >= minimum:
            return max(part[0], now), part[1]
    raise NoWindow(f"no working time for a callback in the next {LOOKAHEAD_DAYS} days")


def preferred_window(choice: str, now: datetime, hours: Mapping[str, Any],
                     parts: DayParts = DayParts()) -> tuple[datetime, datetime]:
    """The window (aware, the operation's time zone) a customer's choice stands for at `now`: as soon as possible
    is now (or the next opening) for `parts.asap`; the afternoon is today's if enough of it is left, else the next
    working afternoon; tomorrow morning is the next working morning after today."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if choice not in CHOICES:
        raise ValueError(f"unknown callback window {choice!r}: one of {', '.join(CHOICES)}")
    tz = ZoneInfo(str(hours.get("timezone") or "UTC"))
    local = now.astimezone(tz)
    minimum = min(parts.asap, timedelta(minutes=30))  # a part with less left than this is not offered as today's
    if choice == "afternoon":
        return _first_part(parts.afternoon, local.date(), local, hours, minimum)
    if choice == "tomorrow_morning":
        return _first_part(parts.morning, local.date() + timedelta(days=1), local, hours, minimum)
    if _open_around_the_clock(hours):
        return local, local + parts.asap
    status = hours_status(now, hours)
    if status.is_open and status.closes_at is not None:
        if status.closes_at - local >= minimum:
            return local, min(local + parts.asap, status.closes_at)
        status = hours_status(status.closes_at, hours)  # closing in a moment: the next opening
    if status.next_open is None:
        raise NoWindow(f"no opening in the next {LOOKAHEAD_DAYS} days")
    return status.next_open, status.next_open + parts.asap


def window_phrase(start: datetime, end: datetime, now: datetime, language: str) -> str:
    """Says the window to the customer: "hoy entre las 15:00 y las 18:00", "tomorrow between 09:00 and 12:00"."""
    day = when_phrase(start, now, language)  # "mañana a las 09:00", "Monday at 09:00"
    head = day.rsplit({"es": " a las ", "pt": " às "}.get(language, " at "), 1)[0]
    if language == "es":
        return f"{head} entre las {start:%H:%M} y las {end:%H:%M}"
    if language == "pt":
        return f"{head} entre {start:%H:%M} e {end:%H:%M}"
    return f"{head} between {start:%H:%M} and {end:%H:%M}"
