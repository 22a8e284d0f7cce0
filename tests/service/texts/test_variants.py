"""Every customer-facing text exists in every variant (Spanish in tuteo, usted and voseo, English, Portuguese) with
the same placeholders and buttons, domain.yml's responses are the ones bot/responses/ says, and the tone setting is
refused when misspelt."""
from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.scripts.responses import VARIANTS, domain_responses, load_variant, render
from handoff.core.operations import Operations, load_operations
from handoff.core.texts import TEXTS
from handoff.core.texts import VARIANTS as TEXT_VARIANTS
from handoff.core.texts import text as service_text
from handoff.settings import REPO_ROOT
from tests.service.texts.customer_texts import widget_texts

SECTIONS = ("responses", "replies", "field_names", "callback_windows")


def placeholders(text: str) -> set[str]:
    """The names a text fills in ({number}, {team})."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def said(value: Any) -> tuple[str, list[str]]:
    """A response's text and its buttons' payloads."""
    if isinstance(value, dict):
        return str(value["text"]), [str(b["payload"]) for b in value.get("buttons") or []]
    return str(value), []


def test_every_assistant_text_has_every_variant_with_the_same_placeholders_and_buttons() -> None:
    reference = load_variant("es-tuteo")
    for variant in VARIANTS:
        source = load_variant(variant)
        for section in SECTIONS:
            assert set(source[section]) == set(reference[section]), (variant, section)
            for key, value in reference[section].items():
                text, payloads = said(value)
                other, other_payloads = said(source[section][key])
                assert other.strip(), (variant, section, key)
                assert placeholders(other) == placeholders(text), (variant, section, key)
                assert other_payloads == payloads, (variant, section, key)


def test_domain_yml_responses_are_generated_from_the_variant_files() -> None:
    domain = (REPO_ROOT / "domain.yml").read_text(encoding="utf-8")
    assert render(domain) == domain, "run: python -m bot.scripts.responses"
    responses = yaml.safe_load(domain)["responses"]
    assert set(responses) == set(load_variant("es-tuteo")["responses"])
    greet = responses["utter_greet"]
    conditions = [{c["name"]: c["value"] for c in variation.get("condition") or []} for variation in greet]
    assert conditions == [{"language": "es", "tone": "tuteo"}, {"language": "es", "tone": "usted"},
                          {"language": "es", "tone": "voseo"}, {"language": "en"}, {"language": "pt"}, {}]
    assert "¿Qué necesita?" in greet[1]["text"] and "¿Qué necesitás?" in greet[2]["text"]
    assert greet[4]["text"].startswith("Oi!")
    assert domain_responses() == responses


def test_the_domain_has_a_tone_slot_that_only_picks_variations() -> None:
    slots = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"]
    assert slots["tone"]["values"] == ["tuteo", "usted", "voseo"]
    assert slots["tone"]["influence_conversation"] is False
    assert "pt" in slots["language"]["values"]


def test_the_tone_setting_is_read_and_a_misspelt_one_refused(tmp_path: Path) -> None:
    assert load_operations(REPO_ROOT / "operations.yml").assistant.tone in ("tuteo", "usted", "voseo")
    assert Operations.model_validate({"assistant": {"tone": "voseo"}}).assistant.tone == "voseo"
    assert Operations.model_validate({}).assistant.tone == "tuteo"
    path = tmp_path / "operations.yml"
    path.write_text("assistant:\n  tone: ustedes\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="tuteo"):
        load_operations(path)


def test_every_service_text_has_every_variant_with_the_same_placeholders() -> None:
    assert tuple(VARIANTS) == TEXT_VARIANTS
    for key, variants in TEXTS.items():
        assert set(variants) == set(TEXT_VARIANTS), key
        wanted = placeholders(variants["es-tuteo"])
        assert all(placeholders(said) == wanted and said.strip() for said in variants.values()), key
    buttons = [key for key in TEXTS if key.startswith(("overflow_choice_", "csat_")) and key != "csat_question"]
    assert all(len(said) <= 20 for key in buttons for said in TEXTS[key].values() if key != "csat_thanks")


def test_the_service_speaks_the_tone_and_portuguese() -> None:
    assert service_text("csat_question", "es") == service_text("csat_question", "es", "tuteo")
    assert service_text("csat_question", "es", "usted").startswith("Su caso quedó resuelto. ¿Cómo calificaría")
    assert service_text("handoff_queued_unstaffed", "es", "voseo", position=2).endswith(
        "Sos el número 2 en la fila; no necesitás repetir nada.")
    assert service_text("csat_question", "pt", "usted") == ("Seu atendimento foi concluído. Como você avalia o "
                                                             "atendimento que recebeu?")
    assert service_text("csat_thanks", "fr") == service_text("csat_thanks", "es")  # unknown: Spanish (tuteo)


def test_the_widget_speaks_portuguese_and_every_tone_with_every_string_spanish_has() -> None:
    def keys(language: str) -> set[str]:
        return {text.where.rsplit(".", 1)[1] for text in widget_texts(language)}

    assert keys("pt") == keys("es-tuteo") == keys("es-usted") == keys("es-voseo") == keys("en")
    assert len(keys("pt")) > 20
    said = {variant: {t.where.rsplit(".", 1)[1]: t.text for t in widget_texts(variant)} for variant in VARIANTS}
    assert [said[v]["placeholder"] for v in ("es-tuteo", "es-usted", "es-voseo")] == [
        "Escribe tu mensaje…", "Escriba su mensaje…", "Escribí tu mensaje…"]
