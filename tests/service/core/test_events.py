"""The in-process event bus: listeners given at wiring time, run in order; one failing never stops the rest."""
from __future__ import annotations

from handoff.core.events import Assigned, CaseChanged, CaseEvent, EventBus, Subscription


class Notes:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(CaseChanged, self.changed)]

    async def changed(self, event: CaseChanged) -> None:
        self.log.append(f"{self.name}:{event.case_id}")
        if self.fail:
            raise RuntimeError("this reaction is broken")


async def test_each_event_reaches_its_listeners_in_order_and_a_failure_is_contained() -> None:
    log: list[str] = []
    bus = EventBus([Notes("first", log, fail=True), Notes("second", log)])
    await bus.publish(CaseChanged("c1"), Assigned("c1", "agent-1"), CaseChanged("c2"))
    assert log == ["first:c1", "second:c1", "first:c2", "second:c2"]  # nobody listens for Assigned


async def test_events_are_frozen_values() -> None:
    event: CaseEvent = CaseChanged("c1", previous_team="care")
    assert event == CaseChanged("c1", "care") and hash(event) == hash(CaseChanged("c1", "care"))
    try:
        event.case_id = "c2"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("an event changed after it was published")
