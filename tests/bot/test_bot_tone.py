"""The tone setting (operations.yml assistant.tone): the action server fills the `tone` slot from it at session
start and whenever it changes, speaks its own replies in it, and refuses a misspelt one."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import SlotSet

from actions.callbacks import ActionAskCallbackWindow
from actions.operations import load_operations
from actions.replies import field_name, reply
from actions.session import ActionSessionStart


def set_tone(ops: Path, tone: str) -> None:
    """Rewrites the operations file copy with another tone (read again on its next modification time)."""
    data = yaml.safe_load(ops.read_text(encoding="utf-8"))
    data["assistant"] = {"tone": tone}
    ops.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_replies_follow_the_tone_and_the_language(isolated_env: Path) -> None:
    assert reply("ask_order_number", "es", "tuteo").startswith("Claro 🙂 ¿Me compartes tu número")
    assert reply("ask_order_number", "es", "usted").startswith("Con gusto 🙂 ¿Me comparte su número")
    assert reply("ask_order_number", "es", "voseo").startswith("Dale 🙂 ¿Me pasás tu número")
    assert reply("ask_order_number", "pt").startswith("Claro 🙂 Qual é o número do seu pedido?")
    assert reply("order_not_found", "en", "usted", number="1") == reply("order_not_found", "en", number="1")
    assert field_name("address", "pt") == "endereço de entrega"
    set_tone(isolated_env / "operations.yml", "voseo")
    assert reply("handoff", "es", team="Cuentas").startswith("Te paso con una persona del equipo de Cuentas")


def test_session_start_and_every_turn_set_the_tone_slot(isolated_env: Path, dispatcher, make_tracker,
                                                        run_action, read_turn) -> None:
    ops = isolated_env / "operations.yml"
    set_tone(ops, "usted")
    started = run_action(ActionSessionStart(), dispatcher, make_tracker({"session_started_metadata": {}}))
    assert SlotSet("tone", "usted") in started
    turn = {"tone": "usted", "verified": False, "language": "es"}
    assert read_turn(turn, "hola") == {}
    set_tone(ops, "voseo")  # an edited file applies on the next turn, without a restart
    assert read_turn(turn, "hola") == {"tone": "voseo"}


def test_the_callback_buttons_are_in_portuguese_for_a_brazilian(dispatcher, make_tracker, run_action) -> None:
    run_action(ActionAskCallbackWindow(), dispatcher, make_tracker({"language": "pt"}))
    [message] = dispatcher.messages
    assert message["text"] == "Claro, a gente te liga 📞 Qual horário é melhor para você?"
    assert [b["title"] for b in message["buttons"]] == ["O quanto antes", "Hoje à tarde", "Amanhã de manhã"]


def test_a_misspelt_tone_is_refused_when_the_file_is_read(isolated_env: Path) -> None:
    set_tone(isolated_env / "operations.yml", "tú")
    with pytest.raises(ValueError, match="tuteo, usted, voseo"):
        load_operations()
