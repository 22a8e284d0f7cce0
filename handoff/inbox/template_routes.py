"""Approved WhatsApp templates from the inbox: what a case may be sent (prefilled) and sending one; thin routes
over inbox.templates (pure) and InboxActions (held like a reply, through the outbox)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, StringConstraints

from handoff.channels.whatsapp import CHANNEL
from handoff.channels.whatsapp.outbound import last_inbound_at
from handoff.channels.whatsapp.window import PARAMETER_LIMIT, can_send_free_text, window_closes_at
from handoff.core.cases import case_language
from handoff.core.consent import may_message_on_whatsapp
from handoff.core.customers import follow_merges
from handoff.core.permissions import may_read_case
from handoff.core.sending import customer_address
from handoff.inbox import canned, templates
from handoff.inbox.actions import OPTED_OUT, InboxError
from handoff.inbox.deps import ActionsDep, InboxUser, WhatsAppDep, Worker
from handoff.inbox.routes import WORK, done, run
from handoff.inbox.schemas import CaseTemplates, Done
from handoff.inbox.views import iso
from handoff.store.models import Case, Customer, utcnow
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors
from handoff.web.params import CaseId

router = APIRouter(prefix="/inbox/api")
UNREACHABLE = "the customer cannot be reached on WhatsApp (no WhatsApp number or user id)"
ParameterName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ParameterValue = Annotated[str, StringConstraints(max_length=PARAMETER_LIMIT)]


class TemplateChoice(BaseModel):
    """An approved template by name and language, a value for each of its parameters by parameter name."""

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=1, max_length=20)
    values: dict[ParameterName, ParameterValue] = Field(default_factory=dict, max_length=20)


@router.get("/cases/{case_id}/templates", response_model=CaseTemplates, responses=errors(401, 403, 404))
async def case_templates(case_id: CaseId, principal: InboxUser, whatsapp: WhatsAppDep, sessions: SessionsDep,
                         operations: OperationsDep) -> dict[str, Any]:
    """The approved templates for this case (the customer's language first, parameters prefilled from the case),
    whether the 24-hour window is open, and why a template cannot go (`refusal`), if it cannot."""
    async with sessions() as session:
        case = await session.get(Case, case_id)
        if case is None:
            raise HTTPException(404, "no such case")
        if not may_read_case(principal.agent, case):
            raise HTTPException(403, "this case belongs to a team you are not in")
        customer = await session.get(Customer, case.customer_id)
        customer = await follow_merges(session, customer) if customer is not None else None
        address = await customer_address(session, case.customer_id, CHANNEL, whatsapp)
        last = await last_inbound_at(session, case.customer_id)
    language = case_language(operations, case, customer)
    values = canned.case_values(case, customer, principal.agent.display_name)
    return {"case_id": case.id, "language": language, "whatsapp": address is not None,
            "window_open": can_send_free_text(last, utcnow()), "last_inbound_at": iso(last),
            "closes_at": iso(window_closes_at(last)),
            "refusal": UNREACHABLE if address is None else OPTED_OUT if not may_message_on_whatsapp(customer) else None,
            "templates": templates.offers(whatsapp.templates, language, values)}


@router.post("/cases/{case_id}/template", response_model=Done, responses={**TOO_LARGE, **errors(400, *WORK)})
async def send_template(case_id: CaseId, body: TemplateChoice, principal: Worker, actions: ActionsDep,
                        whatsapp: WhatsAppDep) -> dict[str, Any]:
    """Sends an approved template to the case's customer on WhatsApp, at any time (outside the 24 hours it is the
    only way). 400: not an approved template in that language, a parameter missing or unknown, or a value Meta
    refuses (empty, a new line or tab, more than 4 spaces in a row); 409: the case is someone else's or closed,
    or the customer cannot be reached on WhatsApp or opted out of it."""
    try:
        message = templates.chosen(whatsapp.templates, body.name, body.language, body.values)
    except InboxError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    return done(await run(actions.send_template(principal, case_id, message, channel=CHANNEL, template=body.name)))
