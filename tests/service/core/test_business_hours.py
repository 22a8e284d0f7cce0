"""Business hours as the service reads them: the assistant's pure rules (one module) with fixed instants, the
Spanish of the phrases, and the operations file's hours typed and checked at start-up."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from handoff.core.after_hours import after_hours_notice, hours_at
from handoff.core.business_hours import hours_status, when_phrase
from handoff.core.operations import Operations, load_operations
from handoff.settings import REPO_ROOT

MX = ZoneInfo("America/Mexico_City")
OPERATIONS = load_operations(REPO_ROOT / "operations.yml")


def at(*args: int) -> datetime:
    """A Mexico City wall-clock time."""
    return datetime(*args, tzinfo=MX)


@pytest.mark.parametrize(("now", "opening", "es", "en"), [
    (at(2026, 11, 25, 7, 45), at(2026, 11, 25, 9), "hoy a las 09:00", "today at 09:00"),
    (at(2026, 11, 24, 19, 0), at(2026, 11, 25, 9), "mañana a las 09:00", "tomorrow at 09:00"),
    (at(2026, 11, 23, 19, 0), at(2026, 11, 25, 9), "el miércoles a las 09:00", "Wednesday at 09:00"),
    (at(2026, 11, 26, 19, 0), at(2026, 11, 28, 10), "el sábado a las 10:00", "Saturday at 10:00"),
    (at(2026, 11, 20, 19, 0), at(2026, 11, 30, 9), "lunes 30/11 a las 09:00", "Monday Nov 30 at 09:00"),
])
def test_when_we_open_is_said_in_correct_spanish_and_english(now, opening, es, en) -> None:
    assert (when_phrase(opening, now, "es"), when_phrase(opening, now, "en")) == (es, en)


def test_the_service_reads_the_same_hours_as_the_assistant() -> None:
    saturday_evening = at(2026, 11, 28, 15, 0)
    status = hours_at(OPERATIONS, saturday_evening)
    assert not status.is_open and status.next_open == at(2026, 11, 30, 9, 0)
    assert after_hours_notice(status, saturday_evening, "es") == (
        "Ahora estamos cerrados; abrimos el lunes a las 09:00. Tu caso queda registrado y una persona te "
        "responderá entonces; no necesitas repetir nada.")
    assert after_hours_notice(status, saturday_evening, "en").startswith(
        "We're closed right now; we open Monday at 09:00. Your case is recorded")
    assert hours_at(OPERATIONS, at(2026, 11, 25, 11, 30)).is_open


def test_a_holiday_and_a_closure_close_the_service_too() -> None:
    independence = at(2026, 9, 16, 11, 0)
    status = hours_at(OPERATIONS, independence)
    assert (status.is_open, status.reason, status.next_open) == (False, "holiday", at(2026, 9, 17, 9, 0))
    assert after_hours_notice(status, independence, "es").startswith(
        "Hoy estamos cerrados por Día de la Independencia; abrimos mañana a las 09:00.")
    stocktaking = at(2026, 12, 31, 10, 0)
    assert hours_at(OPERATIONS, stocktaking).reason == "closure"
    assert hours_at(OPERATIONS, stocktaking).next_open == at(2027, 1, 2, 10, 0)  # Jan 1st is a holiday


def test_no_business_hours_configured_is_open_around_the_clock() -> None:
    always = Operations(timezone="America/Mexico_City")
    assert hours_at(always, at(2026, 12, 25, 3, 0)).is_open  # Christmas night: no hours, no closing


def test_the_operations_file_hours_are_checked_at_start_up() -> None:
    with pytest.raises(ValidationError, match="not one of"):
        Operations(business_hours={"munday": [("09:00", "18:00")]})
    with pytest.raises(ValidationError, match="HH:MM"):
        Operations(business_hours={"monday": [("9am", "18:00")]})
    assert Operations(business_hours={"sunday": [("00:00", "24:00")]}).hours()["business_hours"]["sunday"]


def test_the_holiday_tables_are_built_once_so_a_routing_decision_stays_cheap() -> None:
    import time
    night = at(2026, 11, 28, 20, 0)
    hours_status(night, OPERATIONS.hours())
    started = time.perf_counter()
    for _ in range(100):
        hours_status(night, OPERATIONS.hours())
    assert (time.perf_counter() - started) / 100 < 0.002  # 7 ms each when the tables were built per call
