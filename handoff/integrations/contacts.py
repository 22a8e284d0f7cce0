"""`PUT /api/v1/contacts/{crm_id}`: a CRM keeps its customers here, keyed by its own id, with scope `contacts:write`.

The same plan as the CSV import (core.contact_plan): the crm_id's customer is completed (a phone or email it
lacks, its name and language); unknown, it is the customer who owns the phone or email (who then gets the crm_id),
else a new one. Never a second customer: a phone or email another customer owns, or a customer that already has
another crm_id, is a 409 saying which.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from handoff.core.contact_import import ContactConflict, upsert_contact
from handoff.core.contact_rows import CRM_MAX, LANGUAGE, NAME_MAX, BadRow, contact_row
from handoff.integrations.deps import TOKEN_REFUSALS, ContactsWriter
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors, invalid

router = APIRouter(prefix="/api/v1", tags=["contacts"])
CrmId = Annotated[str, Path(min_length=1, max_length=CRM_MAX, pattern=r"^\S(.*\S)?$",
                            description="The customer's id in your CRM (kept as given, surrounding spaces refused)")]


class ContactIn(BaseModel):
    """A customer as the CRM knows them; a field left out (or null) leaves what is known as it is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=NAME_MAX)
    phone: str | None = Field(None, max_length=40, description="E.164 (+52…), or national in the operation's region")
    email: str | None = Field(None, max_length=320)
    language: str | None = Field(None, max_length=8, pattern=LANGUAGE.pattern, description="es, en, pt-BR…")


class ContactOut(BaseModel):
    customer_id: str
    created: bool


@router.put("/contacts/{crm_id}", response_model=ContactOut, status_code=200,
            responses={201: {"model": ContactOut, "description": "A new customer"}, **TOO_LARGE, **TOKEN_REFUSALS,
                       **errors(400, 409)})
async def upsert(crm_id: CrmId, body: ContactIn, caller: ContactsWriter, sessions: SessionsDep,
                 operations: OperationsDep, response: Response) -> ContactOut:
    """Creates (201) or completes (200) the customer with this crm_id; 409 when that would make two customers one."""
    row = contact_row(0, {"crm_id": crm_id, "name": body.name, "phone": body.phone, "email": body.email,
                          "language": body.language}, operations.default_region)
    if isinstance(row, BadRow):
        field = row.reason.split(" ", 1)[0]
        raise invalid(("body", field if field in ("phone", "email", "language", "name") else "crm_id"), row.reason)
    try:
        done = await upsert_contact(sessions, row, actor=f"integration:{caller.id}")
    except ContactConflict as exc:
        raise HTTPException(409, exc.reason.replace(" (row 0)", "")) from exc
    if done.created:
        response.status_code = 201
    return ContactOut(customer_id=done.customer_id, created=done.created)
