from datetime import datetime, timedelta, timezone

from handoff.channels.webchat.channel import language_hint, render
from handoff.core.cases import is_recontact
from handoff.core.messages import OutboundMessage, QuickReply
from handoff.core.operations import load_operations
from handoff.core.signing import issue_token, verify_token
from handoff.settings import REPO_ROOT, Settings

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_recontact_is_within_the_follow_up_window() -> None:
    assert is_recontact(NOW - timedelta(hours=71), NOW, 72)
    assert not is_recontact(NOW - timedelta(hours=73), NOW, 72)
    assert not is_recontact(None, NOW, 72)
    assert is_recontact((NOW - timedelta(hours=1)).replace(tzinfo=None), NOW, 72)


def test_tokens_are_signed_and_unguessable() -> None:
    key = b"k" * 32
    token = issue_token(key)
    assert verify_token(key, token)
    assert not verify_token(b"other" * 8, token)
    raw, _signature = token.split(".")
    assert not verify_token(key, raw + ".AAAAAAAAAAAAAAAAAAAAAA")
    assert not verify_token(key, None) and not verify_token(key, "x" * 200)
    assert issue_token(key) != token


def test_render_uses_rasa_socketio_shapes() -> None:
    message = OutboundMessage(actor="bot", text="Hola", quick_replies=(QuickReply("Si", "/affirm"),),
                              image="https://example.com/a.png")
    assert render(message) == [
        {"text": "Hola", "quick_replies": [{"content_type": "text", "title": "Si", "payload": "/affirm"}]},
        {"attachment": {"type": "image", "payload": {"src": "https://example.com/a.png"}}},
    ]
    agent = render(OutboundMessage(actor="agent", text="Soy Luis", agent_name="Luis"))
    assert agent == [{"text": "Soy Luis", "actor": "agent", "agent_name": "Luis"}]


def test_language_hint_accepts_only_known_languages() -> None:
    assert language_hint({"customData": {"language": "en"}}) == "en"
    assert language_hint({"metadata": {"language": "es"}}) == "es"
    assert language_hint({"customData": {"language": "pt"}}) == "pt"
    assert language_hint({"customData": {"language": "<script>"}}) is None


def test_outbound_payload_round_trips() -> None:
    message = OutboundMessage(actor="bot", text="t", quick_replies=(QuickReply("A", "/a"),), image="u")
    assert OutboundMessage.from_payload("bot", "t", message.as_payload()) == message


def test_operations_file_maps_intents_to_teams() -> None:
    operations = load_operations(REPO_ROOT / "operations.yml")
    assert operations.team_for("return_request") == "returns"
    assert operations.team_for("something_new") == operations.intent_teams["default"]
    assert operations.team_for("complaint", requested="fraud") == "fraud"
    assert operations.language_or_default("fr") == operations.default_language


def test_allowed_origins_come_from_a_comma_separated_setting(monkeypatch) -> None:
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://shop.example, https://help.example/")
    settings = Settings()
    assert "https://shop.example" in settings.allowed_origins
    assert "https://help.example" in settings.allowed_origins
