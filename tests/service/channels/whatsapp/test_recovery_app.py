"""The app starts the recovery loop with the WhatsApp channel: an abandoned website chat gets its one template
through the Graph API stand-in with no call but the settings (SQLite and PostgreSQL, the whole app served)."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handoff.core.customers import resolve_customer
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Identity, TimelineEvent, utcnow
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.merging import case_with_events
from tests.service.support.polling import until
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import served_with_assistant
from tests.service.support.whatsapp_webhooks import APP_SECRET, WA_ID


async def test_the_running_app_recovers_an_abandoned_web_chat_once(tmp_path: Any, database_url: str,
                                                                    graph: GraphStandIn) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        visitor = await resolve_customer(session, "webchat", "visitor-recovery", display_name="Vera")
        session.add(Identity(customer_id=visitor.id, kind="phone", value=f"+{WA_ID}", verified=True,
                             verified_by="otp_whatsapp"))
        case = await case_with_events(session, visitor, "webchat", "queued", team="care", texts=("¿hay alguien?",))
        case.last_customer_message_at = utcnow() - timedelta(seconds=5)
    try:
        async with served_with_assistant(tmp_path, RasaStandIn(), database_url=database_url,
                                         abandoned_chat_recovery_seconds=2, whatsapp_app_secret=APP_SECRET,
                                         whatsapp_api_base=graph.base_url, whatsapp_access_token=TOKEN,
                                         whatsapp_phone_number_id=PHONE_NUMBER_ID):
            async def sent_any() -> list[dict[str, Any]] | None:
                return graph.sends() or None
            await until(sent_any, "the recovery template at the Graph stand-in")
            await asyncio.sleep(2.5)  # more rounds of the loop: still one
        [sent] = graph.sends()
        assert sent["to"] == WA_ID and sent["template"]["name"] == "chat_recovery"
        async with sessions() as session:
            assert (await session.get_one(Case, case.id)).channel == "whatsapp"
            assert len(list(await session.scalars(select(TimelineEvent).where(
                TimelineEvent.case_id == case.id, TimelineEvent.kind == "recovery")))) == 1
    finally:
        await engine.dispose()
