"""The error answers routes document in OpenAPI, and the one shape of a refusal with a 422 that fits FastAPI's.

Every refusal from HTTPException is `{"detail": "why"}`; validation errors keep FastAPI's own 422 model, so a
route's own 422 (a value of the right type the service refuses) is raised as a validation error too.
"""
from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

DESCRIPTIONS = {
    400: "A body that cannot be read, or a value the service cannot act on",
    401: "Not signed in (no or an expired session)",
    403: "Signed in, but this role may not, or the CSRF header is missing or wrong",
    404: "No such thing",
    409: "Not in the state this needs",
    413: "Body too large",
    429: "Too many attempts",
    502: "The provider refused or could not be reached",
    503: "This channel is not configured",
}


class ErrorDetail(BaseModel):
    """Why a request was refused."""

    detail: str


def errors(*codes: int, model: type[BaseModel] = ErrorDetail) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: these refusals as JSON, whatever the route's own media type (TwiML, HTML, a file)."""
    schema = model.model_json_schema()
    return {code: {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}
            for code in codes}


def invalid(location: tuple[str, ...], message: str, value: object = None) -> RequestValidationError:
    """A 422 shaped like FastAPI's own (a list of errors), for a value the route checks itself."""
    return RequestValidationError([{"type": "value_error", "loc": location, "msg": message, "input": value}])


def refusal(status: int, message: str, location: tuple[str, ...], value: object = None) -> Exception:
    """A service's refusal as the route's answer: its 422 on the value at `location`, the others as HTTP errors."""
    return invalid(location, message, value) if status == 422 else HTTPException(status, message)
