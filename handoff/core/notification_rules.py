"""The rules of a notification, pure: the customer's time zone, quiet hours, the daily cap, the state shown."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

DAY = timedelta(hours=24)
STATES = ("queued", "held", "sent", "delivered", "read", "failed", "refused", "answered", "confirmed")


def zone_of(phone: str | None, fallback: str) -> ZoneInfo:
    """The one time zone of an E.164 number's region (+52 55… is Mexico City), else the operation's."""
    if phone:
        try:
            zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone))
        except phonenumbers.NumberParseException:
            zones = ()
        known = [zone for zone in zones if zone != phone_timezones.UNKNOWN_TIMEZONE]
        if len(set(known)) == 1:  # a country spanning zones (+1 without a known area) keeps the operation's
            try:
                return ZoneInfo(known[0])
            except ZoneInfoNotFoundError:
                pass
    return ZoneInfo(fallback)


def _at(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    return time(0, 0) if hours == 24 else time(hours, minutes)


def quiet_until(now: datetime, zone: ZoneInfo, quiet: tuple[str, str] | None) -> datetime | None:
    """When the quiet hours around `now` end in `zone` (an aware UTC time), None outside them."""
    if quiet is None or quiet[0] == quiet[1]:
        return None
    local = now.astimezone(zone)
    start, end = _at(quiet[0]), _at(quiet[1])
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return ends.astimezone(now.tzinfo)


def over_daily_cap(sent_in_last_day: int, cap: int) -> bool:
    """The customer already got as many notifications in the last 24 hours as the operation allows."""
    return sent_in_last_day >= cap


def shown_state(status: str, delivery: str | None, answered: bool) -> str:
    """The state an integration reads: its own (queued, held, refused) until sent, then the message's delivery."""
    if status != "sent":
        return status
    if delivery == "failed":
        return "failed"
    if answered:
        return "answered"
    if delivery in ("delivered", "read"):
        return delivery
    if delivery in ("sent", "accepted"):
        return "sent"
    return "queued"  # staged on the outbox, not yet taken by the provider
