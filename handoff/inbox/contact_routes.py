"""The customer page's API and the contacts CSV import (supervisors and admins), thin over their modules.

The page answers by the case-reading rule, as the customer lookup does: an agent sees a customer through the cases
they may read (and only those), 403 when none is theirs, 404 for no customer or one merged into another.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from sqlalchemy import select

from handoff.core.contact_import import ImportReport, import_contacts
from handoff.core.contact_rows import CsvRefused, read_contacts
from handoff.core.customer_lookup import listed_customer, visible
from handoff.core.permissions import may_read_case
from handoff.inbox.contact_schemas import CustomerPage, ImportReportView, TimelinePage
from handoff.inbox.customer_page import customer_page, timeline_page
from handoff.inbox.deps import InboxUser, Supervisor
from handoff.store.models import Case, Customer
from handoff.web.body_limit import TOO_LARGE
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors
from handoff.web.params import MAX_ROW_ID, CaseId, CustomerId

router = APIRouter(prefix="/inbox/api")
IMPORT_PATH = "/inbox/api/contacts/import"
MAX_IMPORT_BYTES = 16 * 1024 * 1024  # 100,000 rows of a CRM export
BODY_LIMITS = {IMPORT_PATH: MAX_IMPORT_BYTES}


@router.get("/customers/{customer_id}/page", response_model=CustomerPage, responses=errors(401, 403, 404))
async def page(principal: InboxUser, sessions: SessionsDep, customer_id: CustomerId) -> dict[str, Any]:
    """Identities, facts, consent, every case the reader may read with its latest events, merges, suggestions."""
    async with sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.id == customer_id,
                                                               visible(principal.agent)))
        if customer is None:
            if await listed_customer(session, customer_id):
                raise HTTPException(403, "none of this customer's cases is yours to read")
            raise HTTPException(404, "no such customer")
        return await customer_page(session, principal.agent, customer)


@router.get("/customers/{customer_id}/cases/{case_id}/timeline", response_model=TimelinePage,
            responses=errors(401, 403, 404))
async def timeline(principal: InboxUser, sessions: SessionsDep, customer_id: CustomerId, case_id: CaseId,
                   before: Annotated[int, Query(ge=1, le=MAX_ROW_ID, description="Events before this id")]
                   ) -> dict[str, Any]:
    """Earlier events of one of the customer's cases, a page at a time."""
    async with sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or case.customer_id != customer_id:
            raise HTTPException(404, "no such case of this customer")
        if not may_read_case(principal.agent, case):
            raise HTTPException(403, "this case is not yours to read")
        events, more = await timeline_page(session, case, before)
    return {"events": events, "more_before": more}


def report_view(report: ImportReport) -> dict[str, Any]:
    return {"dry_run": report.dry_run, "counts": report.counts, "created": report.created,
            "updated": report.updated,
            "rows": [{"row": r.row, "outcome": r.outcome, "customer_id": r.customer_id, "same_as": r.same_as,
                      "reason": r.reason} for r in report.rows]}


# 400: the file cannot be read as a contacts CSV (not UTF-8, no header naming crm_id, phone or email, too many rows)
@router.post("/contacts/import", response_model=ImportReportView,
             responses={**TOO_LARGE, **errors(400, 401, 403)})
async def import_csv(principal: Supervisor, sessions: SessionsDep, operations: OperationsDep,
                     file: Annotated[UploadFile, File(description="CSV: name, phone, email, crm_id, language")],
                     dry_run: Annotated[bool, Form(description="Only report what the import would do")] = True,
                     ) -> dict[str, Any]:
    """A dry run reports each row (new, matched, conflict, invalid) and writes nothing; the import writes."""
    try:
        rows, bad = read_contacts(await file.read(), operations.default_region)
    except CsvRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    return report_view(await import_contacts(sessions, rows, bad, actor=principal.actor, dry_run=dry_run,
                                             source=(file.filename or "upload")[:200]))
