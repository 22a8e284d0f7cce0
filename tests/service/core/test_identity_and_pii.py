import pytest

from handoff.core.identity import InvalidIdentity, normalize, normalize_phone, normalize_told_phone
from handoff.pii import mask, mask_text


@pytest.mark.parametrize("raw", ["525512345678", "+52 55 1234 5678", "+525512345678", " +52 (55) 1234-5678 "])
def test_international_and_typed_numbers_are_the_same_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+525512345678"
    assert normalize_phone("55 1234 5678", "MX") == normalize_phone(raw)


def test_the_core_knows_no_channel_specific_number_forms() -> None:
    # WhatsApp's legacy Mexican "521…" wa_ids are read by the WhatsApp adapter (channels/whatsapp/numbers.py).
    with pytest.raises(InvalidIdentity):
        normalize_phone("5215512345678")


def test_national_number_needs_its_region() -> None:
    assert normalize_phone("55 1234 5678", "MX") == "+525512345678"


def test_a_told_number_is_read_in_the_operations_country_unless_it_starts_with_a_plus() -> None:
    assert normalize_told_phone("55 1234 5678", "MX") == "+525512345678"
    assert normalize_told_phone(" +1 415 555 0123", "MX") == "+14155550123"  # its own country code
    assert normalize_told_phone("4155550123", "US") == "+14155550123"
    with pytest.raises(InvalidIdentity):
        normalize_told_phone("12", "MX")


def test_emails_are_lowercased_and_checked() -> None:
    assert normalize("email", "  Ana.Lopez@Example.COM ") == "ana.lopez@example.com"
    with pytest.raises(InvalidIdentity):
        normalize("email", "ana at example")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidIdentity):
        normalize("fax", "123")


def test_masking_hides_contacts_but_keeps_order_numbers() -> None:
    line = "cliente ana.lopez@example.com tel +52 55 1234 5678 pedido 100002 a las 18:00"
    masked = mask_text(line)
    assert "ana.lopez" not in masked and "a***@example.com" in masked
    assert "1234 5678" not in masked and masked.count("5678") == 1
    assert "100002" in masked and "18:00" in masked


def test_masking_walks_nested_structures() -> None:
    assert mask({"a": ["x@y.com", ("+5215512345678",)]}) == {"a": ["x***@y.com", ("+*********5678",)]}
