"""Finding a customer: `GET /inbox/api/customers?q=` and `GET /inbox/api/customers/{id}`, by the case-reading rule.

An agent sees a customer only through the cases they may read (and only those cases); a customer with no such
case is not listed to them and answers 403 by id. Merged-away customers are not listed and answer 404.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from handoff.core.customer_lookup import (
    LIMIT_DEFAULT,
    LIMIT_MAX,
    Q_MAX,
    Q_MIN,
    customer_card,
    find_customers,
    listed_customer,
)
from handoff.inbox.deps import InboxUser
from handoff.inbox.schemas import FoundCustomer
from handoff.web.deps import OperationsDep, SessionsDep
from handoff.web.errors import errors
from handoff.web.params import CustomerId

router = APIRouter(prefix="/inbox/api")


# 403: a role without the inbox (designers); by id also an agent who may read none of the customer's cases.
# 404: no such customer, or one merged into another. 422 (FastAPI's): q, limit or the id out of bounds.
@router.get("/customers", response_model=list[FoundCustomer], responses=errors(401, 403))
async def search_customers(
    principal: InboxUser, sessions: SessionsDep, operations: OperationsDep,
    q: Annotated[str, Query(min_length=Q_MIN, max_length=Q_MAX,
                            description="A phone in any format, an email, an order number or a name (prefix of "
                                        "any word, case- and accent-insensitive)")],
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
) -> list[dict[str, Any]]:
    """Customers matching `q` that this agent may see, exact matches (phone, email, order) first."""
    async with sessions() as session:
        return await find_customers(session, principal.agent, q, region=operations.default_region, limit=limit)


@router.get("/customers/{customer_id}", response_model=FoundCustomer, responses=errors(401, 403, 404))
async def one_customer(principal: InboxUser, sessions: SessionsDep, customer_id: CustomerId) -> dict[str, Any]:
    """One customer with the cases this agent may read."""
    async with sessions() as session:
        card = await customer_card(session, principal.agent, customer_id)
        if card is None and await listed_customer(session, customer_id):
            raise HTTPException(403, "none of this customer's cases is yours to read")
    if card is None:
        raise HTTPException(404, "no such customer")
    return card
