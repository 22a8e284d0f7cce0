"""The ASGI application: FastAPI routes with the Socket.IO server in front, wired once per process."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import socketio
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from handoff.channels.voice import routes as voice_routes
from handoff.channels.voice.assistant import VoiceDeliverer
from handoff.channels.voice.codes import TwilioCodeCourier
from handoff.channels.voice.rest import TwilioRest
from handoff.channels.voice.wiring import build_callback_calls, build_notification_calls, mount_voice
from handoff.channels.webchat.channel import WebchatChannel, WebchatDeliverer
from handoff.channels.webchat.identity_token import IdentityTokens
from handoff.channels.webchat.limits import WebchatLimits
from handoff.channels.whatsapp import routes as whatsapp_routes
from handoff.channels.whatsapp.codes import WhatsAppCodeCourier
from handoff.channels.whatsapp.runtime import WhatsAppRuntime, WhatsAppSending
from handoff.core.assistant_trackers import AssistantTrackers, tracker_url
from handoff.core.bot_client import RasaClient
from handoff.core.checkpoints import Checkpoints, load_private_key
from handoff.core.code_delivery import CodeCourier
from handoff.core.erasure import Erasures
from handoff.core.locks import KeyedLock
from handoff.core.messages import Deliverer
from handoff.core.notifications import Notifier
from handoff.core.operations import load_operations
from handoff.core.ratelimit import limit_storage
from handoff.core.retention import Retention
from handoff.core.signing import load_secret_key
from handoff.core.verification import Verifications
from handoff.inbox import contact_routes, erasure_routes
from handoff.inbox import routes as inbox_routes
from handoff.inbox.callbacks import InboxCallbacks
from handoff.inbox.wiring import build_inbox, build_live
from handoff.integrations import contacts as contact_api
from handoff.integrations import notifications as notification_api
from handoff.integrations import routes as integration_routes
from handoff.integrations.registry import Integrations
from handoff.integrations.webhook_delivery import Webhooks
from handoff.logs import configure_logging
from handoff.reports import qa_routes, refused_items
from handoff.reports import routes as report_routes
from handoff.reports.nlu_harvest import NluHarvester
from handoff.services import build_services
from handoff.settings import REPO_ROOT, Settings, get_settings
from handoff.store.db import away_error_types, create_engine, database_away, session_factory
from handoff.store.models import utcnow
from handoff.web import health, metrics, pages
from handoff.web.body_limit import BodyLimitMiddleware, BodyLimits
from handoff.web.deps import Services
from handoff.web.socket_json import StrictJson

log = structlog.get_logger(__name__)


def create_socketio(settings: Settings) -> socketio.AsyncServer:
    """With REDIS_URL, emits travel through Redis so any worker reaches any visitor."""
    manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
    return socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=settings.allowed_origins,
        client_manager=manager,
        max_http_buffer_size=256 * 1024,
        json=StrictJson,  # a NaN in a stored row goes out as null: the browser's JSON.parse refuses NaN
        logger=False,
        engineio_logger=False,
    )


def create_app(settings: Settings | None = None) -> socketio.ASGIApp:
    """Builds the object graph: store, assistant client, channels, routes."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    operations = load_operations(settings.operations_file)
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = session_factory(engine)
    bot = RasaClient(settings.rasa_replicas, timeout=settings.bot_timeout_seconds, retries=settings.bot_retries,
                     backoff=settings.bot_retry_backoff_seconds, token=settings.rasa_token)
    sio = create_socketio(settings)
    whatsapp_sending = WhatsAppSending(settings, sessions, operations)
    voice = VoiceDeliverer()
    deliverers: dict[str, Deliverer] = {"webchat": WebchatDeliverer(sio), "whatsapp": whatsapp_sending.deliverer,
                                        "voice": voice}
    secret = load_secret_key(settings.secret_key, REPO_ROOT / "var" / "secret_key")
    limits = limit_storage(settings.redis_url)  # one storage (one Redis pool) for every rate limit
    call_lock = KeyedLock.for_url("voice-call", settings.redis_url)
    live = build_live(settings, sessions, sio, deliverers, secret, limits)
    # Verification codes: WhatsApp's authentication template first, else a Twilio call that reads the code.
    # One Twilio REST client for the calls the service places: verification codes read out, and callbacks.
    twilio_rest = TwilioRest(settings.twilio_api_base, settings.twilio_account_sid, settings.twilio_auth_token,
                             settings.twilio_caller_id)
    code_call = TwilioCodeCourier(twilio_rest, operations.tone)
    couriers: list[CodeCourier] = [
        WhatsAppCodeCourier(whatsapp_sending.graph, operations.verification_code, operations.default_language),
        code_call]
    # Outgoing webhooks: a listener stages deliveries on the outbox, their own worker sends them.
    webhooks = Webhooks.build(sessions, secret, max_attempts=settings.webhook_max_attempts,
                              backoff=settings.webhook_backoff_seconds,
                              backoff_max=settings.webhook_backoff_max_seconds,
                              timeout=settings.webhook_timeout_seconds)
    instruments = metrics.Metrics.from_environment(sessions)  # GET /metrics: turn latencies, handoffs, queues
    core = build_services(sessions, operations, bot, deliverers,
                          listeners=[live.pushes, webhooks.listener, instruments], timings=instruments,
                          verifications=Verifications(secret, limits), couriers=couriers,
                          follow_up=whatsapp_sending.follow_up,
                          lease=timedelta(seconds=settings.work_lease_seconds))
    conversations = core.conversations
    whatsapp = WhatsAppRuntime(settings, sessions, whatsapp_sending, conversations)
    inbox = build_inbox(settings, sessions, operations, deliverers, live, core.events, core.queues,
                        whatsapp_sending.follow_up)
    callback_calls = build_callback_calls(settings, sessions, operations, conversations, twilio_rest,
                                          whatsapp_sending.follow_up)
    WebchatChannel(
        sio, conversations, sessions, secret,
        max_chars=settings.webchat_max_message_chars,
        limits=WebchatLimits.build(limits, messages=settings.webchat_rate_limit_messages,
                                   new_sessions=settings.webchat_rate_limit_new_sessions,
                                   address_factor=settings.webchat_rate_limit_address_factor,
                                   window=settings.webchat_rate_limit_window_seconds),
        default_language=operations.default_language,
        identities=IdentityTokens(settings.webchat_identity_secret, max_hours=settings.webchat_identity_max_hours),
        tone=operations.tone,
    )

    # Other systems write first: WhatsApp templates, or a call (its own outbox worker) that asks for a digit.
    call_outbox, notification_calls = build_notification_calls(settings, sessions, operations, core.events,
                                                               twilio_rest)
    notifier = Notifier(sessions, operations, whatsapp_sending.notifications, deliverers, events=core.events,
                        wake_calls=call_outbox.wake)
    harvester = NluHarvester(sessions, bot, settings.nlu_harvest_interval_seconds,  # designers' review list
                             lease=timedelta(seconds=settings.work_lease_seconds))
    # Background rounds of the audit trail: old content erased by operations.yml's retention, moved chains signed.
    retention = Retention(sessions, operations.retention, settings.media_dir)
    checkpoints = Checkpoints(sessions, load_private_key(settings.audit_signing_key)) \
        if settings.audit_signing_key else None

    readiness = health.ReadinessProbe(settings, sessions)  # the balancer's probe, every second

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        replay = asyncio.create_task(conversations.run_replays())  # pending turns nobody holds (a dead worker's)
        whatsapp.start(started_at=utcnow())
        inbox.start()
        harvester.start()
        webhooks.start()
        rounds = []
        if retention.active and settings.retention_interval_seconds > 0:
            rounds.append(asyncio.create_task(retention.run_forever(settings.retention_interval_seconds)))
        if checkpoints is not None and settings.audit_checkpoint_minutes > 0:
            rounds.append(asyncio.create_task(checkpoints.run_forever(settings.audit_checkpoint_minutes * 60)))
        # held and scheduled notifications, when due
        notifying = asyncio.create_task(notifier.run(settings.notification_release_seconds))
        calling = asyncio.create_task(call_outbox.run())  # voice notifications' calls
        log.info("service_started", port=settings.port, redis=bool(settings.redis_url))
        yield
        replay.cancel()
        notifying.cancel()
        calling.cancel()
        for task in rounds:
            task.cancel()
        await whatsapp.stop()
        await inbox.stop()
        await harvester.stop()
        await webhooks.stop()
        await bot.aclose()
        await readiness.aclose()
        await twilio_rest.aclose()
        await call_lock.aclose()
        await engine.dispose()

    api = FastAPI(title="Front door", lifespan=lifespan)
    for error in away_error_types():
        api.add_exception_handler(error, database_away_answer)
    # Each door's body limits in one table, enforced while bodies stream (Socket.IO has max_http_buffer_size).
    api.add_middleware(BodyLimitMiddleware, limits=BodyLimits(
        {**whatsapp_routes.BODY_LIMITS, **voice_routes.BODY_LIMITS, **inbox_routes.BODY_LIMITS,
         **integration_routes.BODY_LIMITS, **contact_routes.BODY_LIMITS}))
    api.include_router(health.router)
    api.include_router(metrics.router)
    api.include_router(pages.router)
    api.include_router(whatsapp_routes.router)
    voice_assistant, call_history = mount_voice(api, settings, sessions, operations, conversations,
                                               whatsapp_sending.follow_up, voice, call_lock)
    inbox.mount(api)
    api.include_router(report_routes.router)  # supervisors' and designers' reports
    api.include_router(refused_items.router)  # provider items that failed their schema
    api.include_router(integration_routes.router)  # other systems, with their tokens
    api.include_router(qa_routes.router)  # quality review of whole cases
    api.include_router(contact_api.router)  # a CRM's customers, scope contacts:write
    api.include_router(erasure_routes.router)  # admins erase a customer on request
    api.include_router(notification_api.router)  # other systems' notifications, scope notifications:send
    api.state.services = Services(settings, sessions, operations, conversations, whatsapp_sending.deliverer,
                                  whatsapp.ingest, inbox.auth, inbox.live, inbox.actions, inbox.merging, inbox.people,
                                  inbox.commitments,
                                  voice_assistant, call_history, callback_calls,
                                  InboxCallbacks(sessions, operations, core.events, callback_calls),
                                  Integrations(sessions, secret),
                                  Erasures(sessions, settings.media_dir, AssistantTrackers(
                                      tracker_url(settings.rasa_tracker_db_url, settings.rasa_tracker_db))),
                                  instruments, notifier, notification_calls, readiness)
    return socketio.ASGIApp(sio, other_asgi_app=api, socketio_path="socket.io")


async def database_away_answer(request: Request, error: Exception) -> Response:
    """503 with Retry-After while the database is away (a provider retries, nothing was acknowledged), so a
    restart of PostgreSQL is not a burst of 500s; any other error stays a 500."""
    if database_away(error):
        log.warning("database_away", path=request.url.path, error=type(error).__name__)
        return JSONResponse({"detail": "The database is away for a moment: retry"}, status_code=503,
                            headers={"Retry-After": "5"})
    raise error  # a bug or a refused write: the server's 500, logged with its traceback


def app() -> socketio.ASGIApp:
    """Factory for `uvicorn --factory handoff.app:app`."""
    return create_app()
