"""The customer-message service when Rasa is down: nothing lost, the customer told, the case queued."""
from sqlalchemy import select

from handoff.core.bot_client import RasaClient
from handoff.core.claims import LEASE
from handoff.core.messages import InboundMessage, OutboundMessage
from handoff.core.operations import load_operations
from handoff.core.timeline import verify_case
from handoff.services import build_services
from handoff.settings import REPO_ROOT
from handoff.store.models import Case, Handoff, PendingTurn, TimelineEvent, utcnow
from tests.service.support.processes import free_port

OPERATIONS = load_operations(REPO_ROOT / "operations.yml")


class RecordingDeliverer:
    """Collects what the service would emit to a visitor."""

    staged_status = None

    def __init__(self) -> None:
        self.delivered: list[tuple[str, OutboundMessage]] = []
        self.typing_states: list[bool] = []
        self.staged: list[int] = []

    def address_for(self, identity_kind: str, value: str) -> str | None:
        return value if identity_kind == "webchat" else None

    async def stage(self, session, event, address: str, message: OutboundMessage) -> None:
        self.staged.append(event.id)

    async def deliver(self, address: str, message: OutboundMessage) -> None:
        self.delivered.append((address, message))

    async def typing(self, address: str, actor: str, on: bool) -> None:
        self.typing_states.append(on)


def inbound(text: str, provider_id: str | None = None, language: str | None = None) -> InboundMessage:
    return InboundMessage(channel="webchat", identity_kind="webchat", identity_value="visitor-1",
                          address="visitor-1", text=text, bot_input=text, provider_id=provider_id,
                          language=language)


async def test_rasa_down_keeps_the_message_tells_the_customer_and_queues(sessions) -> None:
    deliverer = RecordingDeliverer()
    bot = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, retries=1, backoff=0.01)
    conversations = build_services(sessions, OPERATIONS, bot, {"webchat": deliverer}).conversations
    received = await conversations.receive(inbound("hi, where is my order?", language="en"))
    assert received.to_bot
    await conversations.process(received.event_id)
    await bot.aclose()

    async with sessions() as session:
        case = await session.get(Case, received.case_id)
        events = list(await session.scalars(select(TimelineEvent).order_by(TimelineEvent.seq)))
        handoff = (await session.scalars(select(Handoff))).one()
        assert (await session.scalars(select(PendingTurn))).all() == []
        assert (await verify_case(session, case.id)).ok
    assert case.status == "queued" and case.handoff_count == 1
    assert handoff.reason == "bot_unavailable" and handoff.bot_turns == 1
    assert [(e.actor, e.kind) for e in events] == [("customer", "message"), ("system", "message"),
                                                   ("system", "handoff"), ("system", "routing"),
                                                   ("system", "message")]
    assert events[0].text == "hi, where is my order?"
    assert "person" in deliverer.delivered[0][1].text  # told in English, the language the page declared
    assert "number 1 in line" in deliverer.delivered[1][1].text  # then where they wait
    assert deliverer.typing_states == [True, False]
    assert deliverer.staged == [events[1].id, events[4].id]  # staged inside the transaction that stored them


async def test_after_a_handoff_messages_wait_for_people_while_the_bot_is_down(sessions) -> None:
    bot = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, retries=0, backoff=0.01)
    conversations = build_services(sessions, OPERATIONS, bot, {}).conversations
    first = await conversations.receive(inbound("hola"))
    await conversations.process(first.event_id)
    second = await conversations.receive(inbound("sigo esperando"))
    assert second.to_bot and second.turn is not None and second.turn.resuming  # the assistant may be back
    await conversations.process(second.event_id, second.turn)
    await bot.aclose()
    assert second.case_id == first.case_id
    async with sessions() as session:
        case = await session.get(Case, first.case_id)
        handoffs = (await session.scalars(select(Handoff))).all()
    assert case.status == "queued" and [(h.reason, h.outcome) for h in handoffs] == [("bot_unavailable", None)]


async def test_an_unprocessed_message_is_replayed_after_a_restart(sessions) -> None:
    deliverer = RecordingDeliverer()
    bot = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, retries=0, backoff=0.01)
    before_crash = build_services(sessions, OPERATIONS, bot, {"webchat": deliverer}).conversations
    await before_crash.receive(inbound("hola?"))  # stored and acknowledged, then the process "dies"
    after_restart = build_services(sessions, OPERATIONS, bot, {"webchat": deliverer}).conversations
    assert await after_restart.replay_pending() == 0  # the dead worker's lease on the turn still holds
    assert await after_restart.replay_pending(now=utcnow() + LEASE) == 1  # lapsed: taken over
    assert await after_restart.replay_pending(now=utcnow() + LEASE) == 0
    await bot.aclose()
    told = [message.text for _address, message in deliverer.delivered]  # answered once: Rasa is down, place in line
    assert len(told) == 2 and "asistente no está disponible" in told[0] and "número 1 en la fila" in told[1]


async def test_a_repeated_provider_message_is_acknowledged_and_ignored(sessions) -> None:
    bot = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, retries=0, backoff=0.01)
    conversations = build_services(sessions, OPERATIONS, bot, {}).conversations
    first = await conversations.receive(inbound("hola", provider_id="m-1"))
    again = await conversations.receive(inbound("hola", provider_id="m-1"))
    await bot.aclose()
    assert not first.duplicate and again.duplicate and again.event_id is None
    async with sessions() as session:
        assert len((await session.scalars(select(TimelineEvent))).all()) == 1
