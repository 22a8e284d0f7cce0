"""The action server's answers checked against one JSON-schema validator built once, not one per call.

Rasa 3.6 checks every custom action's answer with `jsonschema.validate`, which first checks the schema itself
(a large `oneOf` over every event type) and builds a new validator each time: on this assistant, which calls the
action server two to four times a turn, that was about 45 % of Rasa's CPU (py-spy, bench/rasa_capacity.py).
The answer is checked against the same schema with the same validator class and the same error (best match, the
same advice appended), so a malformed answer still fails the action as before.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

ADVICE = (". Failed to validate Action server response from API, make sure your response from the Action endpoint "
          f"is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions")


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """Rasa's schema for an action server's answer, checked once, and its validator."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result without re-checking the schema: raises ValidationError if invalid."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += ADVICE
        raise error
    return True


def install() -> None:
    """Makes every RemoteAction (custom actions, forms' validation) use the validator built once."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
