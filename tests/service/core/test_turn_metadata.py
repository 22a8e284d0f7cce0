"""What the assistant is told about the customer on each turn (DESIGN.md's assistant contract)."""
from handoff.core.conversation import turn_metadata
from handoff.store.models import Case, Customer, Identity


def test_metadata_names_the_door_the_case_and_what_we_already_know() -> None:
    customer = Customer(id="cu1", display_name="Ana", language="es", facts={"order_id": "100002"})
    case = Case(id="ca1", customer_id="cu1", status="bot", language=None)
    identities = [Identity(kind="webchat", value="session-1", verified=False),
                  Identity(kind="phone", value="+5215512345678", verified=False),
                  Identity(kind="whatsapp", value="+5215587654321", verified=True),
                  Identity(kind="email", value="ana@example.mx", verified=False)]
    metadata = turn_metadata("webchat", case, customer, identities)
    assert metadata == {
        "channel": "webchat",
        "language": "es",  # the case has none yet: the customer's
        "customer": {"id": "cu1", "name": "Ana", "language": "es",
                     "identities": [{"kind": "phone", "value": "+5215512345678", "verified": False},
                                    {"kind": "whatsapp", "value": "+5215587654321", "verified": True},
                                    {"kind": "email", "value": "ana@example.mx", "verified": False}]},
        "case": {"id": "ca1", "status": "bot"},
        # only a verified number is known as their phone; facts told before are kept
        "known": {"order_id": "100002", "phone": "+5215587654321", "email": "ana@example.mx"},
        "commitments": [],  # nothing promised yet
        "notification": None,  # the business sent nothing on this case
    }
    case.language = "en"
    assert turn_metadata("webchat", case, customer, [])["language"] == "en"


def test_metadata_carries_the_customers_open_commitments_from_their_snapshot() -> None:
    promised = [{"id": 7, "text": "Reembolso de $450 a tu tarjeta", "due_at": "2026-12-05T18:00:00.000000Z",
                 "case_id": "ca0"}]
    customer = Customer(id="cu1", display_name="Ana", language="es", facts={}, open_commitments=promised)
    case = Case(id="ca1", customer_id="cu1", status="bot", language="es")
    assert turn_metadata("whatsapp", case, customer, [])["commitments"] == promised


def test_metadata_carries_the_cases_last_notification() -> None:
    """"¿cuándo llega?" after "tu pedido salió": the assistant reads which order the notification named."""
    notified = {"id": "n1", "template": "order_shipped", "values": {"order_number": "100002"}, "sent_as": "template",
                "sent_at": "2026-12-01T15:00:00+00:00"}
    customer = Customer(id="cu1", display_name="Ana", language="es", facts={"order_number": "100004"})
    case = Case(id="ca1", customer_id="cu1", status="bot", language="es", notified=notified)
    metadata = turn_metadata("whatsapp", case, customer, [])
    assert metadata["notification"] == notified and metadata["known"]["order_number"] == "100004"
