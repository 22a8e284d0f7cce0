"""Builds the voice channel's objects once per process and mounts its routes."""
from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.voice import notification_routes
from handoff.channels.voice import routes as voice_routes
from handoff.channels.voice.assistant import VoiceAssistant, VoiceDeliverer
from handoff.channels.voice.callbacks import CallbackCalls
from handoff.channels.voice.history import CallHistory
from handoff.channels.voice.missed_calls import MissedCalls
from handoff.channels.voice.notification_calls import NotificationCalls, NotificationCallSender
from handoff.channels.voice.rest import TwilioRest
from handoff.channels.voice.twiml import VoiceUrls
from handoff.core.callback_messages import CallbackMessages
from handoff.core.conversation import Conversations
from handoff.core.events import EventBus
from handoff.core.locks import KeyedLock
from handoff.core.messages import FollowUpChannel
from handoff.core.notification_calls import CALL_CHANNEL
from handoff.core.operations import Operations
from handoff.core.outbox import OutboxWorker
from handoff.settings import Settings


def mount_voice(api: FastAPI, settings: Settings, sessions: async_sessionmaker[AsyncSession],
                operations: Operations, conversations: Conversations, follow_up: FollowUpChannel,
                deliverer: VoiceDeliverer, calls: KeyedLock) -> tuple[VoiceAssistant, CallHistory]:
    """Twilio Voice and PBX call events share the calls table and the missed-call follow-up; the routes ask for
    the two objects returned."""
    missed = MissedCalls(operations, follow_up, conversations.deliverers)
    voice = VoiceAssistant(sessions, conversations, operations, deliverer, missed,
                           VoiceUrls.under(settings.public_base_url), calls)
    history = CallHistory(sessions, conversations.events, operations, missed)
    api.include_router(voice_routes.router)
    api.include_router(notification_routes.router)
    return voice, history


def build_callback_calls(settings: Settings, sessions: async_sessionmaker[AsyncSession], operations: Operations,
                         conversations: Conversations, rest: TwilioRest,
                         follow_up: FollowUpChannel) -> CallbackCalls:
    """Callbacks placed through the process's Twilio REST client; a missed one is followed up on WhatsApp."""
    messages = CallbackMessages(operations, follow_up, conversations.deliverers)
    return CallbackCalls(sessions, conversations.events, rest, messages, settings.public_base_url,
                         language=operations.default_language, tone=operations.tone,
                         dial_timeout=operations.voice.dial_timeout_seconds)


def build_notification_calls(settings: Settings, sessions: async_sessionmaker[AsyncSession], operations: Operations,
                             events: EventBus, rest: TwilioRest) -> tuple[OutboxWorker, NotificationCalls]:
    """Voice notifications: their own outbox worker places the calls, NotificationCalls answers Twilio about them."""
    sender = NotificationCallSender(rest, settings.public_base_url, ring_seconds=operations.voice.dial_timeout_seconds)
    worker = OutboxWorker(sessions, {CALL_CHANNEL: sender}, max_attempts=settings.outbox_max_attempts,
                          backoff=settings.outbox_backoff_seconds, backoff_max=settings.outbox_backoff_max_seconds,
                          stale_after=300.0)
    return worker, NotificationCalls(sessions, events, operations, settings.public_base_url)
