"""A WhatsApp "stop" / "baja" is an opt-out kept on the customer: a timeline event, one confirmation, no assistant
turn; a sentence that only mentions it is an ordinary message (real database, Graph API stand-in)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff.core.consent import is_opt_out, may_message_on_whatsapp
from handoff.store.models import Customer
from tests.service.support.whatsapp_webhooks import text_webhook


@pytest.mark.parametrize("text", ["stop", "STOP", "Stop.", "baja", "Baja!", " BAJA ", "darme de baja",
                                  "Dame de baja", "unsubscribe", "No más mensajes"])
def test_a_whole_message_from_the_list_is_an_opt_out(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["", "stop sending me offers", "¿cómo me doy de baja?", "bajar precio", "stopp",
                                  "quiero darme de baja de la tarjeta ya", "basta"])
def test_a_sentence_or_another_word_is_not(text: str) -> None:
    assert not is_opt_out(text)


def test_may_message_follows_the_customers_column() -> None:
    assert may_message_on_whatsapp(Customer())
    assert not may_message_on_whatsapp(None)


async def customers(channel) -> list[Customer]:
    async with channel.sessions() as session:
        return list(await session.scalars(select(Customer)))


async def test_stop_is_recorded_confirmed_once_and_never_reaches_the_assistant(channel) -> None:
    await channel.webhook(text_webhook("hola", wamid="wamid.HI"))
    assert len(channel.rasa.asked) == 1

    await channel.webhook(text_webhook("STOP", wamid="wamid.STOP"))
    assert len(channel.rasa.asked) == 1  # the service answered it
    [customer] = await customers(channel)
    assert customer.whatsapp_opted_out_at is not None and not may_message_on_whatsapp(customer)
    [consent] = await channel.events(kind="consent")
    assert (consent.actor, consent.payload) == ("customer", {"whatsapp": "opted_out"})
    confirmation = channel.graph.sends()[-1]
    assert confirmation["type"] == "text"
    assert confirmation["text"]["body"].startswith("Listo, ya no te enviaremos mensajes por WhatsApp")
    [stop] = await channel.events(provider_id="wamid.STOP")
    assert stop.text == "STOP" and stop.payload["opt_out"] is True  # agents still see what was written

    sent = len(channel.graph.sends())
    await channel.webhook(text_webhook("Baja", wamid="wamid.BAJA"))  # already out: no second confirmation
    await channel.webhook(text_webhook("STOP", wamid="wamid.STOP"))  # Meta's retry of the same message
    assert len(channel.graph.sends()) == sent
    assert len(await channel.events(kind="consent")) == 1
    assert len(channel.rasa.asked) == 1


async def test_a_sentence_about_stopping_goes_to_the_assistant(channel) -> None:
    await channel.webhook(text_webhook("¿cómo me doy de baja del boletín?", wamid="wamid.Q"))
    assert [asked["message"] for asked in channel.rasa.asked] == ["¿cómo me doy de baja del boletín?"]
    [customer] = await customers(channel)
    assert customer.whatsapp_opted_out_at is None
    assert await channel.events(kind="consent") == []
