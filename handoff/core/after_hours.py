"""Business hours as the service's routing reads them: open or not at an instant, the next opening, and what a
customer kept for it is told. The rules themselves are core/business_hours.py (the assistant's too)."""
from __future__ import annotations

from datetime import datetime

from handoff.core.business_hours import DAY_NAMES, HoursStatus, describe, hours_status
from handoff.core.operations import Operations
from handoff.core.texts import text as service_text
from handoff.store.models import utcnow

ALWAYS_OPEN = HoursStatus(True, "open")


def business_clock() -> datetime:
    """The instant a handoff reads business hours at when its caller gives none: the wall clock. (The service's
    tests that are not about hours pin it inside opening hours, so they pass at any time of day.)"""
    return utcnow()


def hours_at(operations: Operations, now: datetime) -> HoursStatus:
    """Open or closed at `now` (aware), and the next opening; no `business_hours` configured: always open."""
    if not operations.business_hours:
        return ALWAYS_OPEN
    return hours_status(now, operations.hours())


def after_hours_notice(status: HoursStatus, now: datetime, language: str, tone: str = "tuteo") -> str:
    """"Ahora estamos cerrados; abrimos el lunes a las 09:00. Tu caso queda registrado…" in the customer's
    language (a holiday or a closure named as the assistant names it)."""
    lang = language if language in DAY_NAMES else "es"
    key = "handoff_after_hours" if status.next_open is not None else "handoff_after_hours_no_opening"
    return service_text(key, lang, tone, hours=describe(status, now, lang))
