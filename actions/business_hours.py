"""Opening hours for the assistant: the service's pure logic (handoff/core/business_hours.py), one source of truth.

The action server runs from the repository root, so `handoff` imports here without installing the service."""
from __future__ import annotations

from handoff.core.business_hours import (
    DAY_NAMES,
    WEEKDAYS,
    HoursStatus,
    day_plan,
    describe,
    holiday_names,
    hours_status,
    when_phrase,
)

__all__ = ["DAY_NAMES", "WEEKDAYS", "HoursStatus", "day_plan", "describe", "holiday_names", "hours_status",
           "when_phrase"]
