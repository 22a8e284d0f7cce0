"""Call updates in the service's terms: what a provider's callbacks become before the call history applies them.

Each carries its provider's idempotency key, the provider id of the timeline event it becomes, so a repeated
callback is a no-op whatever the provider.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallParty:
    """A provider's call and who is on it: enough to start its record when a callback is the first news of it."""

    provider: str
    call_id: str
    direction: str  # inbound, outbound
    from_number: str | None
    to_number: str | None


@dataclass(frozen=True)
class StatusChange:
    """The call's new status and, when it ended, how long it lasted."""

    key: str
    status: str
    duration: int | None = None


@dataclass(frozen=True)
class RecordingChange:
    """A recording's progress: its URL and length once it is `completed`."""

    key: str
    status: str
    url: str | None = None
    duration: int | None = None


@dataclass(frozen=True)
class TranscriptChange:
    """A transcription's progress: its text once it is `completed`, and the recording it was made from."""

    key: str
    status: str
    text: str | None = None
    recording_url: str | None = None
