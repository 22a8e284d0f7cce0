"""WhatsApp's numbers: a wa_id is a phone number's digits without the plus sign, with Mexico's legacy "1"."""
from __future__ import annotations

import phonenumbers

from handoff.core.identity import e164, parse_phone

MEXICO = 52
LEGACY_MOBILE_PREFIX = "1"
LEGACY_NATIONAL_DIGITS = 11  # "1" + the ten digits every Mexican number has had since 2019


def phone_of(wa_id: str) -> str:
    """The customer's E.164 phone for a wa_id, so it matches their caller id and the number they type.

    Raises InvalidIdentity for a wa_id phonenumbers cannot place.
    """
    number = parse_phone(wa_id)
    national = str(number.national_number)
    if number.country_code == MEXICO and national.startswith(LEGACY_MOBILE_PREFIX) \
            and len(national) == LEGACY_NATIONAL_DIGITS:
        # Mexico dropped the mobile "1" in 2019, but WhatsApp still sends wa_ids like 521XXXXXXXXXX.
        number = phonenumbers.PhoneNumber(country_code=MEXICO, national_number=int(national[1:]))
    return e164(number, wa_id)


def wa_id_of(phone: str) -> str:
    """The wa_id to write to for an E.164 phone: its digits without the plus sign."""
    return phone.lstrip("+")
