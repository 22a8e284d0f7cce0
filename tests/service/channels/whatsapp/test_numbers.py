"""WhatsApp's numbers: a wa_id and the customer's phone, caller id and typed number are the same E.164."""
import pytest

from handoff.channels.whatsapp.numbers import phone_of, wa_id_of
from handoff.core.identity import InvalidIdentity, normalize_phone


@pytest.mark.parametrize("wa_id", ["5215512345678", "525512345678", "+5215512345678"])
def test_a_wa_id_is_the_customers_phone_even_with_mexicos_legacy_mobile_one(wa_id: str) -> None:
    assert phone_of(wa_id) == "+525512345678" == normalize_phone("55 1234 5678", "MX")


@pytest.mark.parametrize(("wa_id", "phone"), [("16505551234", "+16505551234"), ("34612345678", "+34612345678"),
                                              ("5215512345", "+5215512345")])  # too short for the legacy "1"
def test_other_wa_ids_only_gain_their_plus_sign(wa_id: str, phone: str) -> None:
    assert phone_of(wa_id) == phone


def test_a_wa_id_phonenumbers_cannot_place_is_refused() -> None:
    with pytest.raises(InvalidIdentity):
        phone_of("12")


def test_a_phone_is_written_to_at_its_digits() -> None:
    assert wa_id_of("+525512345678") == "525512345678"
    assert wa_id_of(phone_of("5215512345678")) == "525512345678"
