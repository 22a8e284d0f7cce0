"""Which channels an agent may answer a customer on, and at which address: each channel's deliverer decides."""
import socketio

from handoff.channels.voice.assistant import VoiceDeliverer
from handoff.channels.webchat.channel import WebchatDeliverer
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer
from handoff.core.customers import resolve_customer
from handoff.core.sending import customer_address, customer_channels
from handoff.store.models import Identity


async def test_each_channel_reaches_the_identities_its_deliverer_can_write_to(sessions) -> None:
    deliverers = {"webchat": WebchatDeliverer(socketio.AsyncServer()),
                  "whatsapp": WhatsAppDeliverer(sessions, [], lambda: None), "voice": VoiceDeliverer()}
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-7")
        caller = await resolve_customer(session, "phone", "+525512345678", verified=True)
        session.add(Identity(customer_id=caller.id, kind="whatsapp", value="999123"))  # a wa_id with no phone
        await session.flush()
    async with sessions() as session:
        assert await customer_channels(session, visitor.id, deliverers) == ["webchat"]
        assert await customer_channels(session, caller.id, deliverers) == ["whatsapp"]
        assert await customer_channels(session, caller.id, {"voice": deliverers["voice"]}) == []
        assert await customer_address(session, visitor.id, "webchat", deliverers["webchat"]) == "visitor-7"
        assert await customer_address(session, visitor.id, "whatsapp", deliverers["whatsapp"]) is None
        newest = await customer_address(session, caller.id, "whatsapp", deliverers["whatsapp"])
        assert newest == "999123"  # the newest identity first
        assert await customer_address(session, caller.id, "whatsapp", None) is None  # a channel not running


async def test_a_phone_is_written_to_on_whatsapp_without_its_plus_sign(sessions) -> None:
    deliverers = {"whatsapp": WhatsAppDeliverer(sessions, [], lambda: None)}
    async with sessions() as session, session.begin():
        customer = await resolve_customer(session, "phone", "+525512345678", verified=True)
    async with sessions() as session:
        assert await customer_address(session, customer.id, "whatsapp", deliverers["whatsapp"]) == "525512345678"
