"""Where a WhatsApp message goes: a phone's wa_id (Graph `to`) or a business-scoped user id (Graph `recipient`).

A customer with a username may hide their number: Meta then gives only their business-scoped user id (BSUID,
`CC.` + up to 128 alphanumerics). Addresses are stored (events, pending turns, the outbox), so each one says
which it is: a wa_id is digits, as it always was; a BSUID address names its identity kind.
"""
from __future__ import annotations

from typing import Literal

BSUID_KIND = "whatsapp_bsuid"  # the identity kind of a business-scoped user id
_BSUID_PREFIX = BSUID_KIND + ":"


def bsuid_address(user_id: str) -> str:
    """The address of a customer known by their business-scoped user id."""
    return _BSUID_PREFIX + user_id


def graph_recipient(address: str) -> tuple[Literal["to", "recipient"], str]:
    """The Graph API field and value for an address: `recipient` for a BSUID, `to` for a wa_id."""
    if address.startswith(_BSUID_PREFIX):
        return "recipient", address[len(_BSUID_PREFIX):]
    return "to", address
