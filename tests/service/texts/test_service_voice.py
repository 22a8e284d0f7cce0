"""The service says its notices, menus and hours in the operation's Spanish tone and in Brazilian Portuguese: handoff
and after-hours notices, CSAT, overflow offers and phone menus, codes read on a call, WhatsApp list labels, a
callback's window, and a Brazilian caller hears pt-BR."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handoff.channels.voice.codes import code_twiml
from handoff.channels.voice.decisions import numbered_options, spoken_digits, voice_locale
from handoff.channels.voice.twiml import say_locale
from handoff.channels.whatsapp.graph_bodies import render
from handoff.core.after_hours import after_hours_notice, hours_at
from handoff.core.business_hours import when_phrase
from handoff.core.callback_windows import window_phrase
from handoff.core.csat import parse_answer, question
from handoff.core.messages import OutboundMessage, QuickReply
from handoff.core.operations import load_operations
from handoff.core.overflow import offer_message, voice_menu
from handoff.core.routing_notice import routing_notice
from handoff.core.routing_policy import QUEUE, Decision
from handoff.settings import REPO_ROOT

MX = ZoneInfo("America/Mexico_City")
OPERATIONS = load_operations(REPO_ROOT / "operations.yml")
QUEUED = Decision(QUEUE, "team_queue", position=3, wait_seconds=240)


def test_handoff_notices_follow_the_tone_and_speak_portuguese() -> None:
    assert routing_notice(QUEUED, "es") == ("Una persona del equipo te responderá aquí. Eres el número 3 en la fila; "
                                            "tiempo estimado de espera: unos 4 min.")
    assert routing_notice(QUEUED, "es", tone="usted").startswith(
        "Una persona del equipo le responderá aquí. Usted es el número 3 en la fila")
    assert routing_notice(QUEUED, "es", tone="voseo").startswith(
        "Una persona del equipo te va a responder acá. Sos el número 3 en la fila")
    assert routing_notice(QUEUED, "pt") == ("Uma pessoa da equipe vai te responder aqui. Você é o número 3 na fila; "
                                            "tempo estimado de espera: uns 4 min.")


def test_after_hours_the_opening_is_said_in_portuguese_and_in_the_tone() -> None:
    saturday_evening = datetime(2026, 11, 28, 15, 0, tzinfo=MX)
    status = hours_at(OPERATIONS, saturday_evening)
    assert after_hours_notice(status, saturday_evening, "pt") == (
        "Agora estamos fechados; abrimos na segunda-feira às 09:00. Seu atendimento fica registrado e uma pessoa "
        "vai te responder nesse horário; você não precisa repetir nada.")
    assert after_hours_notice(status, saturday_evening, "es", "usted").endswith(
        "Su caso queda registrado y una persona le responderá entonces; no necesita repetir nada.")
    friday = datetime(2026, 11, 27, 19, 0, tzinfo=MX)
    assert when_phrase(datetime(2026, 11, 28, 10, tzinfo=MX), friday, "pt") == "amanhã às 10:00"
    assert when_phrase(datetime(2026, 12, 5, 10, tzinfo=MX), friday, "pt") == "no sábado 5/12 às 10:00"
    start, end = datetime(2026, 11, 28, 10, tzinfo=MX), datetime(2026, 11, 28, 12, tzinfo=MX)
    assert window_phrase(start, end, friday, "pt") == "amanhã entre 10:00 e 12:00"


def test_csat_and_the_overflow_offer_in_each_variant() -> None:
    asked = question("es", "voseo")
    assert asked.text == "Tu caso quedó resuelto. ¿Cómo calificarías la atención que recibiste?"
    assert [reply.title for reply in question("pt").quick_replies] == ["Bom", "Regular", "Ruim"]
    assert parse_answer("bom") == 5 and parse_answer("Ruim") == 1
    offer = offer_message(QUEUED, ("wait", "callback"), "es", "usted")
    assert offer.text.endswith("(usted es el número 3 en la fila). ¿Qué prefiere?")
    assert [reply.title for reply in offer_message(QUEUED, ("wait", "callback"), "pt").quick_replies] == [
        "Esperar", "Quero que me liguem"]


def test_the_phone_speaks_the_tone_and_a_brazilian_caller_hears_pt_br() -> None:
    line, _ = voice_menu(("wait", "assistant"), "es", "voseo")
    assert line == "Para esperar en la línea, marcá 1. Para seguir con el asistente, marcá 4."
    assert voice_menu(("wait",), "pt")[0] == "Para esperar na linha, digite 1."
    said, _ = numbered_options([QuickReply("Sí", "/affirm")], "es", "usted")
    assert said == "Para Sí, marque 1."
    locale = voice_locale(None, "+5511912345678")
    assert (locale.language, locale.speech, say_locale(locale)) == ("pt", "pt-BR", "pt-BR")
    assert voice_locale("pt", "+525512345678").speech == "pt-BR"
    twiml = code_twiml("429", "pt")
    assert 'language="pt-BR"' in twiml and "Seu código de verificação é: 4, 2, 9." in twiml
    assert "Su código de verificación es: 4, 2, 9." in code_twiml("429", "es", "usted")


def test_whatsapp_lists_are_labelled_in_the_customers_variant() -> None:
    choices = tuple(QuickReply(f"Opción {n}", f"/c{n}") for n in range(4))
    [body] = render(OutboundMessage(actor="bot", text="", quick_replies=choices), "5215512345678", "es", "voseo")
    assert body["interactive"]["body"]["text"] == "Elegí una opción:"
    [body] = render(OutboundMessage(actor="bot", text="", quick_replies=choices), "5511912345678", "pt")
    assert body["interactive"]["action"]["button"] == "Ver opções"


def test_a_code_said_in_portuguese_is_read() -> None:
    assert spoken_digits("quatro dois nove meia oito sete") == "429687"
    assert spoken_digits("três, sete, oito, nove, zero, dois") == "378902"
