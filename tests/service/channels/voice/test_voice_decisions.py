"""The voice channel's pure decisions: language by caller, read-out options, silence, how a call ended."""
from __future__ import annotations

from handoff.channels.voice.calls import caller_identity
from handoff.channels.voice.decisions import (
    after_silence,
    awaited_code,
    choose_option,
    is_missed,
    locale_from_tag,
    next_status,
    numbered_options,
    pbx_final_status,
    speakable,
    speech_for_assistant,
    spoken_digits,
    template_values,
    voice_locale,
    withheld,
)
from handoff.channels.voice.twiml import say_locale
from handoff.channels.whatsapp.window import Template, template_language
from handoff.core.messages import QuickReply


def test_the_caller_hears_the_known_customers_language_else_the_one_of_their_country() -> None:
    assert voice_locale(None, "+525512345678").speech == "es-MX"
    assert voice_locale(None, "+14155550100").speech == "en-US"
    assert voice_locale(None, "+34612345678").speech == "es-ES"
    colombia = voice_locale(None, "+573001234567")
    assert (colombia.language, colombia.speech, say_locale(colombia)) == ("es", "es-CO", "es-MX")
    assert voice_locale("en", "+525512345678").speech == "en-US"  # a known English-speaking customer in Mexico
    assert voice_locale("es", "+14155550100").speech == "es-US"
    assert voice_locale(None, "+4915112345678", "en").speech == "en-US"  # unknown country: the default language
    assert voice_locale(None, None).speech == "es-MX"
    assert locale_from_tag("es-CO") == colombia and locale_from_tag(None).speech == "es-MX"


def test_a_withheld_caller_id_is_an_identity_of_that_call_only() -> None:
    # Twilio's stand-ins for a withheld number: some parse as real numbers (+86…, +1 737…), none may be one
    for number in ("anonymous", "Anonymous", "", None, "+266696687", "+7378742833", "+17378742833", "+2562533",
                   "+8656696", "+86282452253", "Restricted", "UNAVAILABLE", "private",
                   "sip:anonymous@anonymous.invalid"):
        assert withheld(number), number
        assert caller_identity(number, "CA1") == ("call", "CA1", False), number
    assert not withheld("+525512345678") and not withheld("+8613812345678")
    assert caller_identity("+52 55 1234 5678", "CA1") == ("phone", "+525512345678", True)
    assert caller_identity("not a number", "CA1") == ("call", "CA1", False)


def test_speech_reaches_the_assistant_as_customers_type() -> None:
    assert speech_for_assistant("¿A qué hora abren?") == "A que hora abren?"
    assert speech_for_assistant("¡Quiero   hablar con una persona, mañana!") == \
        "Quiero hablar con una persona, mañana!"
    assert speakable("*Hola* 👋 ya casi\n_listo_") == "Hola ya casi listo"


def test_buttons_are_read_out_as_numbered_options_that_digits_select() -> None:
    line, options = numbered_options([QuickReply("Sí", "/affirm"), QuickReply("No", "/deny")], "es")
    assert line == "Para Sí, marca 1. Para No, marca 2."
    assert choose_option(options, "2") == {"digit": "2", "title": "No", "payload": "/deny"}
    assert choose_option(options, "2#")["payload"] == "/deny"
    assert choose_option(options, "7") is None and choose_option([], "1") is None
    line, options = numbered_options([QuickReply(f"o{n}", f"/p{n}") for n in range(12)], "en")
    assert len(options) == 9 and line.startswith("For o0, press 1.")


def test_a_code_awaited_on_the_call_is_six_keys_or_six_digits_said() -> None:
    menu = numbered_options([QuickReply("Sí", "/affirm")], "es")[1]
    assert awaited_code("042917", None, []) == ("042917", False)  # leading zero kept
    assert awaited_code("042917#", None, []) == ("042917", False)
    assert awaited_code("1", None, menu) == (None, False)  # an option of the menu read out
    for keys in ("12#", "2", "1234567", "#"):
        assert awaited_code(keys, None, menu) == (None, True), keys  # fumbled: asked for the code again
    for speech in ("0 4 2 9 1 7.", "042917", "cero cuatro dos, nueve uno siete", "el código es 042 917",
                   "Zero four two nine one seven"):
        assert awaited_code(None, speech, []) == ("042917", False), speech
    assert awaited_code(None, "0 4 2 9 1", []) == (None, True)  # digits said, not six: never the assistant's
    assert awaited_code(None, "no me llegó, quiero hablar con una persona", []) == (None, False)  # the assistant's
    assert spoken_digits("tengo dos pedidos y una queja") == ""  # a lone number word is a word
    assert awaited_code(None, None, []) == (None, False)


def test_silence_is_reprompted_then_goes_to_a_person() -> None:
    assert after_silence(1, 1) == "reprompt"
    assert after_silence(2, 1) == "to_people"
    assert after_silence(1, 0) == "to_people"


def test_how_a_call_ended_never_goes_back_and_which_ends_are_missed() -> None:
    assert next_status("ringing", "in-progress") == "in-progress"
    assert next_status("queued", "completed") == "completed"
    assert next_status("completed", "abandoned") == "abandoned"  # the queue's hang-up report refines it
    assert next_status("no-answer", "completed") == "no-answer"
    assert next_status("completed", "in-progress") == "completed"
    assert next_status("in-progress", "martian") == "in-progress"
    assert [s for s in ("completed", "busy", "no-answer", "canceled", "failed", "abandoned") if is_missed(s)] == \
        ["busy", "no-answer", "canceled", "abandoned"]
    assert pbx_final_status("completed", answered=False) == "canceled"
    assert pbx_final_status(None, answered=True) == "completed"
    assert pbx_final_status("busy", answered=False) == "busy"


def test_the_missed_call_template_is_filled_and_sent_in_the_customers_language() -> None:
    assert template_values(["customer_name", "case_id"], customer_name=None, case_id="c1", phone=None,
                           language="es") == ["cliente", "c1"]
    templates = [Template("missed_call", "es_MX", ("customer_name",)), Template("missed_call", "en_US",
                                                                                ("customer_name",))]
    assert template_language(templates, "missed_call", "es_MX", "en") == "en_US"
    assert template_language(templates, "missed_call", "es_MX", "es") == "es_MX"
    assert template_language(templates[:1], "missed_call", "es_MX", "en") == "es_MX"
