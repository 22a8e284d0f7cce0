"""Call records from provider callbacks (status, recording and transcription updates) and PBX events.

Providers' callbacks arrive here as provider-neutral updates (updates.py; Twilio's are read in twilio.py).
Each is applied in one transaction with its timeline event, whose provider id makes a repeated callback
(a provider retrying, a PBX resending an event) a no-op; a missed inbound call is followed up once.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.voice import CHANNEL, pbx
from handoff.channels.voice.calls import (
    call_event,
    change_status,
    find_call,
    set_agent,
    set_recording,
    set_transcript,
    start_call,
)
from handoff.channels.voice.decisions import TERMINAL, pbx_final_status
from handoff.channels.voice.missed_calls import MissedCalls
from handoff.channels.voice.updates import CallParty, RecordingChange, StatusChange, TranscriptChange
from handoff.core.events import CaseChanged, EventBus
from handoff.core.operations import Operations
from handoff.core.timeline import DuplicateProviderMessage, provider_id_seen
from handoff.store.models import Call, Case

Apply = Callable[[AsyncSession, Call, Case], Awaitable[Any]]


class CallHistory:
    """Keeps the calls table and the call cards of the timeline up to date; one instance per process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus, operations: Operations,
                 missed: MissedCalls) -> None:
        self.sessions = sessions
        self.events = events
        self.operations = operations
        self.missed = missed

    async def _apply(self, provider: str, call_id: str, provider_id: str, first: dict[str, Any] | None,
                     apply: Apply) -> bool:
        """Finds (or, from `first`, starts) the call and applies one change; False for a repeat."""
        for attempt in (1, 2):
            try:
                staged: list[Any] = []
                async with self.sessions() as session, session.begin():
                    if await provider_id_seen(session, CHANNEL, provider_id):
                        return False
                    call = await find_call(session, provider, call_id)
                    if call is None:
                        if first is None:
                            raise LookupError(f"unknown call {call_id}")
                        call, case, _ = await start_call(
                            session, provider=provider, provider_call_id=call_id,
                            follow_up_window_hours=self.operations.follow_up_window_hours, **first)
                    else:
                        case = await session.get_one(Case, call.case_id)
                    await apply(session, call, case)
                    staged = await self.missed.recover(session, call, case)
                    case_id = case.id
                break
            except DuplicateProviderMessage:
                return False
            except IntegrityError:  # two first events of one new call at once: the other one created it
                if attempt == 2:
                    raise
        await self.missed.deliver(staged)
        await self.events.publish(CaseChanged(case_id))
        return True

    # ---- provider callbacks ------------------------------------------------------------------------------
    @staticmethod
    def _first(party: CallParty, status: str) -> dict[str, Any]:
        """A call we did not answer ourselves (an outbound call, a callback before the call webhook)."""
        return {"direction": party.direction, "from_number": party.from_number, "to_number": party.to_number,
                "status": status if status not in TERMINAL else "ringing"}

    async def status(self, party: CallParty, change: StatusChange) -> bool:
        """The call's new status; False for a repeat."""
        async def apply(session: AsyncSession, call: Call, case: Case) -> None:
            await change_status(session, call, case, change.status, duration=change.duration, provider_id=change.key)
        return await self._apply(party.provider, party.call_id, change.key, self._first(party, change.status), apply)

    async def recording(self, party: CallParty, change: RecordingChange) -> bool:
        """A finished recording on the call's card (other states as a line); False for a repeat."""
        async def apply(session: AsyncSession, call: Call, case: Case) -> None:
            if change.status == "completed" and change.url:
                await set_recording(session, call, case, change.url, change.duration, provider_id=change.key)
            else:
                await call_event(session, call, case, "recording", f"Recording {change.status}",
                                 provider_id=change.key)
        return await self._apply(party.provider, party.call_id, change.key, self._first(party, "in-progress"), apply)

    async def transcript(self, party: CallParty, change: TranscriptChange) -> bool:
        """A finished transcript on the call's card (other states as a line); False for a repeat."""
        async def apply(session: AsyncSession, call: Call, case: Case) -> None:
            if change.status == "completed" and change.text:
                if change.recording_url and not call.recording_url:
                    call.recording_url = change.recording_url
                await set_transcript(session, call, case, change.text, provider_id=change.key)
            else:
                await call_event(session, call, case, "transcript", f"Transcription {change.status}",
                                 provider_id=change.key)
        return await self._apply(party.provider, party.call_id, change.key, self._first(party, "in-progress"), apply)

    # ---- PBX events --------------------------------------------------------------------------------------
    async def pbx_event(self, event: pbx.CallEvent) -> bool:
        """Applies one signed PBX event; False when (call id, event, sequence) was already stored."""
        key = event.idempotency_key
        first = None
        if event.customer_number:
            first = {"direction": event.direction, "from_number": event.from_number, "to_number": event.to_number,
                     "status": "ringing", "at": event.occurred_at,
                     "provider_id": key if event.event == "call.started" else None}

        async def apply(session: AsyncSession, call: Call, case: Case) -> None:
            if event.event == "call.started":
                if not await provider_id_seen(session, CHANNEL, key):  # not the event that created the call
                    await call_event(session, call, case, "started", "Call started", provider_id=key)
            elif event.event == "call.answered":
                if event.agent:
                    await set_agent(session, call, case, event.agent, provider_id=key)
                elif not await change_status(session, call, case, "in-progress", provider_id=key, at=event.occurred_at):
                    await call_event(session, call, case, "answered", "Call answered", provider_id=key)
            elif event.event == "call.ended":
                status = pbx_final_status(event.status, answered=call.answered_at is not None)
                if event.agent and not call.agent_name:
                    call.agent_name = event.agent
                ended = await change_status(session, call, case, status, provider_id=key, duration=event.duration,
                                            at=event.occurred_at)
                if ended is None:
                    await call_event(session, call, case, "ended", f"Call ended: {status}", provider_id=key)
            elif event.event == "call.recording":
                await set_recording(session, call, case, event.recording_url, event.recording_duration,
                                    provider_id=key)
            else:
                await set_transcript(session, call, case, event.transcript, list(event.segments), provider_id=key)
        try:
            return await self._apply(pbx.PROVIDER, event.call_id, key, first, apply)
        except LookupError as exc:
            raise pbx.MalformedCallEvent("the first event of a call needs from and to numbers") from exc
