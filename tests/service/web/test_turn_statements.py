"""A customer turn asks the database no more than it did when its round trips were counted (issue 20: on
PostgreSQL each one costs a service worker CPU): the served app on both databases, its statements and transactions
counted by the code path that issued them (tests/service/support/statements.py, also bench/statements.py)."""
from __future__ import annotations

from pathlib import Path

import httpx

from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import served_with_assistant
from tests.service.support.stack import always_open_operations
from tests.service.support.statements import WEBCHAT, Meter, Tally, webchat_turns, whatsapp_turns
from tests.service.support.whatsapp_webhooks import APP_SECRET

# A later message's turn (the customer and case exist), per channel: (statements, transactions), PostgreSQL's
# figures (SQLite's are lower: no advisory lock, the head read by the case's write). Each webhook's sends are counted
# (its answer and read receipt: claim and record each), not the outbox's scans, whose number depends on timing.
WEBCHAT_BOUND = (9, 2)
WHATSAPP_BOUND = (18, 8)
WHATSAPP_PATHS = ("channels/whatsapp/ingest:_guarded", "core/webhook_store:_write", "core/outbox:_send_in_order")


def counted(tallies: list[Tally], activities: tuple[str, ...]) -> tuple[int, int]:
    """The most statements and transactions one of these turns cost in these activities (each of which must have
    asked something: a renamed one would otherwise pass unseen)."""
    figures = [[tally.count(activity) for activity in activities] for tally in tallies]
    assert all(turn[n][0] > 0 for turn in figures for n in range(len(activities))), (activities, figures)
    return (max(sum(statements for statements, _ in turn) for turn in figures),
            max(sum(begins for _, begins in turn) for turn in figures))


async def test_a_turn_stays_within_its_statements(tmp_path: Path, database_url: str, graph: GraphStandIn) -> None:
    meter = Meter()
    with meter.listening():
        async with served_with_assistant(tmp_path, RasaStandIn(), database_url=database_url,
                                         operations_file=always_open_operations(tmp_path),
                                         whatsapp_app_secret=APP_SECRET, whatsapp_api_base=graph.base_url,
                                         whatsapp_access_token=TOKEN, whatsapp_phone_number_id=PHONE_NUMBER_ID,
                                         media_dir=tmp_path / "media") as served, \
                httpx.AsyncClient(timeout=60) as client:
            _first, *webchat = await webchat_turns(meter, served.base_url, 3, quiet=0.3)
            _first, *whatsapp = await whatsapp_turns(meter, client, served.base_url, graph, APP_SECRET,
                                                     "17775550123", 3, quiet=0.3)
    webchat_cost, whatsapp_cost = counted(webchat, (WEBCHAT,)), counted(whatsapp, WHATSAPP_PATHS)
    assert all(n > 0 for n in (*webchat_cost, *whatsapp_cost)), "nothing counted: the meter saw no turn"
    assert webchat_cost[0] <= WEBCHAT_BOUND[0] and webchat_cost[1] <= WEBCHAT_BOUND[1], webchat_cost
    assert whatsapp_cost[0] <= WHATSAPP_BOUND[0] and whatsapp_cost[1] <= WHATSAPP_BOUND[1], whatsapp_cost
    print(database_url.split(":", 1)[0], "webchat", webchat_cost, "whatsapp", whatsapp_cost)
