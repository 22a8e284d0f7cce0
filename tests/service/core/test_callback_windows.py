"""A customer's callback choice as a window, against the operation's hours (Mexico City, 09–18 weekdays, 10–14
Saturdays, closed Sundays and holidays), and how the customer is told it."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.core.callback_windows import DayParts, NoWindow, preferred_window, window_phrase
from handoff.core.operations import CallbackOperations, load_operations
from handoff.settings import REPO_ROOT

MX = ZoneInfo("America/Mexico_City")
HOURS = load_operations(REPO_ROOT / "operations.yml").hours()


def mx(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MX)


@pytest.mark.parametrize(
    "choice,now,start,end",
    [
        # Wednesday 25 November 2026
        ("afternoon", mx(25, 11, 30), mx(25, 14), mx(25, 18)),
        ("afternoon", mx(25, 15, 10), mx(25, 15, 10), mx(25, 18)),  # from now, the rest of this afternoon
        ("afternoon", mx(25, 17, 45), mx(26, 14), mx(26, 18)),  # 15 minutes left: tomorrow's
        ("afternoon", mx(27, 19), mx(30, 14), mx(30, 18)),  # Friday evening: Saturday closes at 14, Sunday closed
        ("tomorrow_morning", mx(25, 11, 30), mx(26, 9), mx(26, 12)),
        ("tomorrow_morning", mx(27, 16), mx(28, 10), mx(28, 12)),  # Saturday opens at 10
        ("tomorrow_morning", mx(28, 12), mx(30, 9), mx(30, 12)),  # Saturday: Sunday is closed, Monday then
        ("asap", mx(25, 11, 30), mx(25, 11, 30), mx(25, 12, 30)),
        ("asap", mx(25, 17, 25), mx(25, 17, 25), mx(25, 18)),  # cut at the closing
        ("asap", mx(25, 17, 50), mx(26, 9), mx(26, 10)),  # closing in 10 minutes: the next opening
        ("asap", mx(25, 22), mx(26, 9), mx(26, 10)),
        ("tomorrow_morning", mx(24, 20, month=12), mx(26, 10, month=12), mx(26, 12, month=12)),  # Christmas Day
    ],
)
def test_each_choice_is_the_next_working_part_of_the_day(choice: str, now: datetime, start: datetime,
                                                         end: datetime) -> None:
    assert preferred_window(choice, now, HOURS) == (start, end)


def test_around_the_clock_the_parts_are_taken_as_they_are() -> None:
    hours = {"timezone": "America/Bogota"}
    bogota = ZoneInfo("America/Bogota")
    now = datetime(2026, 11, 29, 23, 0, tzinfo=bogota)  # a Sunday night
    assert preferred_window("asap", now, hours) == (now, now + timedelta(hours=1))
    assert preferred_window("tomorrow_morning", now, hours) == (
        datetime(2026, 11, 30, 9, tzinfo=bogota), datetime(2026, 11, 30, 12, tzinfo=bogota))


def test_the_operation_says_what_morning_and_afternoon_mean() -> None:
    parts = CallbackOperations(morning=("08:00", "11:00"), afternoon=("15:00", "17:30")).day_parts(
        timedelta(minutes=30))
    assert parts == DayParts((time(8), time(11)), (time(15), time(17, 30)), timedelta(minutes=30))
    assert preferred_window("tomorrow_morning", mx(25, 11), HOURS, parts) == (mx(26, 9), mx(26, 11))
    assert preferred_window("asap", mx(25, 11), HOURS, parts) == (mx(25, 11), mx(25, 11, 30))
    with pytest.raises(ValueError, match="not a span"):
        CallbackOperations(afternoon=("18:00", "14:00"))


def test_no_working_time_ahead_and_unknown_choices_are_refused() -> None:
    closed = {"timezone": "UTC", "business_hours": {"monday": []}}
    with pytest.raises(NoWindow):
        preferred_window("afternoon", mx(25, 11), closed)
    with pytest.raises(ValueError, match="unknown callback window"):
        preferred_window("tonight", mx(25, 11), HOURS)
    with pytest.raises(ValueError, match="timezone-aware"):
        preferred_window("asap", datetime(2026, 11, 25, 11), HOURS)


@pytest.mark.parametrize(
    "start,end,language,said",
    [(mx(25, 14), mx(25, 18), "es", "hoy entre las 14:00 y las 18:00"),
     (mx(26, 9), mx(26, 12), "es", "mañana entre las 09:00 y las 12:00"),
     (mx(30, 9), mx(30, 12), "es", "el lunes entre las 09:00 y las 12:00"),
     (mx(26, 9), mx(26, 12), "en", "tomorrow between 09:00 and 12:00"),
     (mx(28, 10), mx(28, 12), "en", "Saturday between 10:00 and 12:00")],
)
def test_the_window_as_the_customer_reads_it(start: datetime, end: datetime, language: str, said: str) -> None:
    assert window_phrase(start, end, mx(25, 11, 30), language) == said
