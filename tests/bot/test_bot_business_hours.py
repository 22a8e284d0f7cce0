"""Opening hours: the pure decision with fixed datetimes, and the action's answer in both languages."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions.business_hours import describe, hours_status
from actions.hours_action import ActionBusinessHours
from actions.operations import load_operations

MX = ZoneInfo("America/Mexico_City")


def at(*args: int) -> datetime:
    """A Mexico City wall-clock time."""
    return datetime(*args, tzinfo=MX)


@pytest.fixture
def ops() -> dict:
    return load_operations()


def test_weekday_open_until_closing(ops: dict) -> None:
    now = at(2026, 11, 25, 11, 30)  # Wednesday
    status = hours_status(now, ops)
    assert status.is_open and status.reason == "open"
    assert status.closes_at.strftime("%H:%M") == "18:00"
    assert describe(status, now, "en") == "We're open now until 18:00."
    assert describe(status, now, "es") == "Estamos abiertos ahora, hasta las 18:00."


def test_utc_input_is_converted_to_business_timezone(ops: dict) -> None:
    now = datetime(2026, 11, 25, 17, 30, tzinfo=ZoneInfo("UTC"))  # 11:30 in Mexico City
    assert hours_status(now, ops).is_open


def test_after_hours_opens_tomorrow(ops: dict) -> None:
    now = at(2026, 11, 25, 19, 0)
    status = hours_status(now, ops)
    assert not status.is_open and status.reason == "closed"
    assert status.next_open == at(2026, 11, 26, 9, 0)
    assert describe(status, now, "en") == "We're closed right now; we open tomorrow at 09:00."
    assert describe(status, now, "es") == "Ahora estamos cerrados; abrimos mañana a las 09:00."


def test_before_opening_opens_today(ops: dict) -> None:
    now = at(2026, 11, 25, 7, 45)
    assert describe(hours_status(now, ops), now, "en") == "We're closed right now; we open today at 09:00."


def test_weekend_sunday_opens_monday(ops: dict) -> None:
    now = at(2026, 11, 29, 12, 0)  # Sunday
    status = hours_status(now, ops)
    assert not status.is_open
    assert status.next_open == at(2026, 11, 30, 9, 0)
    assert describe(status, now, "en") == "We're closed right now; we open tomorrow at 09:00."
    saturday_evening = at(2026, 11, 28, 15, 0)
    assert describe(hours_status(saturday_evening, ops), saturday_evening, "en") == (
        "We're closed right now; we open Monday at 09:00."
    )
    assert describe(hours_status(saturday_evening, ops), saturday_evening, "es") == (
        "Ahora estamos cerrados; abrimos el lunes a las 09:00."
    )


def test_saturday_short_hours(ops: dict) -> None:
    now = at(2026, 11, 28, 10, 30)
    status = hours_status(now, ops)
    assert status.is_open and status.closes_at.strftime("%H:%M") == "14:00"


def test_mexican_holiday_names_the_holiday(ops: dict) -> None:
    now = at(2026, 9, 16, 11, 0)  # Dia de la Independencia, a Wednesday
    status = hours_status(now, ops)
    assert not status.is_open and status.reason == "holiday"
    assert status.next_open == at(2026, 9, 17, 9, 0)
    assert describe(status, now, "en") == "We're closed today for Independence Day; we open tomorrow at 09:00."
    assert describe(status, now, "es") == (
        "Hoy estamos cerrados por Día de la Independencia; abrimos mañana a las 09:00."
    )


def test_whole_day_special_closure(ops: dict) -> None:
    now = at(2026, 12, 31, 10, 0)
    status = hours_status(now, ops)
    assert not status.is_open and status.reason == "closure"
    assert "Year-end stocktaking" in describe(status, now, "en")
    assert "Inventario de fin de año" in describe(status, now, "es")
    # Jan 1st is a holiday and Jan 2nd 2027 a Saturday.
    assert status.next_open == at(2027, 1, 2, 10, 0)


def test_partial_day_closure(ops: dict) -> None:
    morning = at(2026, 12, 24, 11, 0)
    status = hours_status(morning, ops)
    assert status.is_open and status.closes_at.strftime("%H:%M") == "14:00"
    afternoon = at(2026, 12, 24, 15, 0)
    closed = hours_status(afternoon, ops)
    assert not closed.is_open and closed.reason == "closure"
    assert closed.names["en"] == "Christmas Eve"
    # Dec 25 is Navidad (holiday), Dec 26 2026 is a Saturday.
    assert closed.next_open == at(2026, 12, 26, 10, 0)
    assert describe(closed, afternoon, "en") == "We're closed for Christmas Eve; we open Saturday at 10:00."


def test_naive_datetime_is_rejected(ops: dict) -> None:
    with pytest.raises(ValueError):
        hours_status(datetime(2026, 11, 25, 11, 0), ops)


def test_action_answers_in_customer_language(dispatcher, make_tracker, run_action) -> None:
    action = ActionBusinessHours(clock=lambda: at(2026, 11, 25, 11, 30))
    assert run_action(action, dispatcher, make_tracker({"language": "en"}, "are you open?", "ask_hours")) == []
    run_action(action, dispatcher, make_tracker({"language": "es"}, "estan abiertos?", "ask_hours"))
    assert [m["text"] for m in dispatcher.messages] == [
        "We're open now until 18:00.",
        "Estamos abiertos ahora, hasta las 18:00.",
    ]


def test_the_assistant_and_the_service_share_one_implementation() -> None:
    import handoff.core.business_hours as service_hours

    assert hours_status is service_hours.hours_status and describe is service_hours.describe
