"""The REST connector that forwards metadata, registered in credentials.yml by module path."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import yaml
from rasa.core.channels.rest import RestInput
from rasa.shared.utils.common import class_from_module_path

from bot.channels.rest_with_metadata import RestWithMetadataInput

ROOT = Path(__file__).resolve().parents[2]


def test_credentials_register_the_connector_as_rest() -> None:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert list(credentials) == ["bot.channels.rest_with_metadata.RestWithMetadataInput"]
    cls = class_from_module_path(next(iter(credentials)))
    assert cls is RestWithMetadataInput and issubclass(cls, RestInput)
    assert cls.name() == "rest"  # URL stays POST /webhooks/rest/webhook


def test_metadata_is_passed_on() -> None:
    channel = RestWithMetadataInput()
    meta = {"channel": "whatsapp", "customer": {"id": "c1"}}
    assert channel.get_metadata(SimpleNamespace(json={"sender": "s", "message": "hi", "metadata": meta})) == meta
    assert channel.get_metadata(SimpleNamespace(json={"sender": "s", "message": "hi"})) is None
    assert channel.get_metadata(SimpleNamespace(json={"metadata": "nope"})) is None
    assert channel.get_metadata(SimpleNamespace(json=None)) is None
