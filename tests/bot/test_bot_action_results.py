"""The action server's answers are checked by one validator built once, exactly as Rasa's own check does."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.channels import rest_with_metadata  # noqa: F401  (importing the channel installs the validator)
from bot.runtime import action_results

VALID = [
    {"events": [{"event": "slot", "name": "language", "value": "es"}], "responses": []},
    {"events": [], "responses": [{"text": "Hola"}]},
    {},
]
INVALID = [
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [1]},
]


def test_importing_the_channel_installs_it_on_every_remote_action() -> None:
    action = RemoteAction("action_refresh_from_metadata", EndpointConfig("http://127.0.0.1:1/webhook"))
    assert RemoteAction._validate_action_result is action_results.validate_action_result
    assert action._validate_action_result(VALID[0]) is True


@pytest.mark.parametrize("answer", VALID)
def test_valid_answers_pass_as_with_jsonschema(answer: dict) -> None:
    jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    assert action_results.validate_action_result(RemoteAction("a", None), answer) is True


@pytest.mark.parametrize("answer", INVALID)
def test_invalid_answers_fail_with_rasas_error_and_advice(answer: dict) -> None:
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response") as raised:
        action_results.validate_action_result(RemoteAction("a", None), answer)
    assert raised.value.message.startswith(expected.value.message)
    assert list(raised.value.path) == list(expected.value.path)


def test_the_schema_is_checked_once() -> None:
    assert action_results.response_validator() is action_results.response_validator()
