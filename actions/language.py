"""Tells Spanish, English and Brazilian Portuguese apart so every reply goes out in the customer's language."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, Iterable, Optional, Tuple

from actions.operations import SUPPORTED_LANGUAGES, default_language

# An earlier user message of the session: its metadata and its text (the turn's slots look back over them).
EarlierMessage = Tuple[Optional[Dict[str, Any]], Optional[str]]

MIN_CONFIDENCE = 0.75
# Mid-conversation a language changes only on a message long enough (words of two letters or more; the service
# reads the assistant's language after such messages only: handoff/core/learnt.py) and plainly written in another
# one: "ok", "si", "obrigado" or a name with an ñ never flip it.
SWITCH_MIN_WORDS = 3
SWITCH_CONFIDENCE = 0.9
# Words that settle the question on their own, even in one- or two-word WhatsApp messages. A word listed for
# two languages (pedido, que, dia) votes for neither: see EXCLUSIVE.
WRITTEN: Dict[str, frozenset] = {
    "es": frozenset(
        "hola ola buenas buenos dias tardes noches gracias grax muchas porfa xfa porfavor favor q que xq pq "
        "quiero kiero necesito pedido orden compra donde esta mi mis cuando horario horarios abren cierran "
        "cambiar actualizar correo telefono direccion asesor persona humano agente devolver devolucion "
        "reembolso fraude robo queja reclamo pesimo si no nel sip simon claro dale vale listo chau chao adios "
        "nos vemos vos tenes queres sabes oye disculpa ayuda hablar con cuenta tarjeta cobro nada buen buena "
        "buenass wenas holaa holi holis hasta manana mañana tengo estoy soy voy llamen llamame marquenme hace "
        "el la los las les es del al lo un una y en ya muy hay pero esto eso ese bien ahora todavia nunca "
        "bueno perfecto correcto exacto asi sep sale ahorita nop grasias graciass sii sisi estan estas llego "
        "servicio verdad dame hago cual cuanto hablamos otro".split()
    ),
    "en": frozenset(
        "hi hello hey thanks thank thx ty please pls plz where is my order orders when open opening hours "
        "close closing change update email phone address agent human person someone representative return "
        "refund fraud stolen complaint complain terrible yes yeah yep yup nope bye goodbye later cya talk to "
        "speak account card charge charged what how can you the help want need do it i ya see my".split()
    ),
    "pt": frozenset(
        "oi olá opa eae eai iae obrigado obrigada obg brigado brigada vlw valeu tchau flw falou você voce vc vcs "
        "vocês voces cadê cade kd meu minha meus minhas quero queria gostaria preciso falar atendente atendimento "
        "pessoa não nao sim tá blz beleza tudo bom boa dia tarde noite onde quando abrem fecham abre fecha "
        "funcionam hoje amanhã amanha cedo trocar mudar atualizar endereço endereco telefone celular "
        "reclamação reclamacao devolução devolucao devolver estorno golpe roubaram clonado cartão cartao conta "
        "cobrança cobranca cobraram ainda chegou chega entrega entregue ajuda ajudar pfv pfvr pra pro com um uma "
        "é isso tbm tb também agora já nada mais muito horário horario pedido que q pq na do da dos das em "
        "e eu estou tô tenho sou vou vai pode posso consegue nem ou ele ela seu sua mim comigo hj amn ligar "
        "liga ligação ligacao reclamar péssimo pessimo dinheiro comprei rastreio rastreamento correios obgd "
        "mt mto td tds aí ai né ne num tbem foi fiz recebi ja".split()
    ),
}
MARKERS: Dict[str, frozenset] = {
    lang: words - frozenset().union(*(other for name, other in WRITTEN.items() if name != lang))
    for lang, words in WRITTEN.items()
}
AMBIGUOUS = frozenset("ok okay oki okey k no jaja haha lol".split())
SPANISH_ONLY = frozenset("ñ¿¡")
PORTUGUESE_ONLY = frozenset("ãõçâêôà")
LINGUA_NAMES = {"SPANISH": "es", "ENGLISH": "en", "PORTUGUESE": "pt"}
WORD = re.compile(r"[a-zA-Z\u00C0-\u017F]+")
# What says nothing about the language and would mislead lingua: addresses, links, numbers.
NOISE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|[\d+#()\-.]*\d[\d\s()\-.]*")


@lru_cache(maxsize=1)
def _lingua() -> Optional[Any]:
    """Builds the lingua detector once, restricted to our three languages (None if not installed)."""
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - lingua is in bot/requirements.txt
        return None
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH, Language.PORTUGUESE).build()


def warm_up() -> None:
    """Loads lingua's models now: the first detection loads them (~0.6 s of CPU, once a process), and inside a turn
    that stalls every turn the process is serving. Rasa's process calls it when it loads the model."""
    detector = _lingua()
    if detector is not None:
        detector.compute_language_confidence_values("where is my order, please")


def accent_language(text: str) -> Optional[str]:
    """The language only one of ours writes these letters in: ñ ¿ ¡ Spanish, ã õ ç â ê ô à Portuguese."""
    spanish, portuguese = any(ch in SPANISH_ONLY for ch in text), any(ch in PORTUGUESE_ONLY for ch in text.lower())
    return "es" if spanish and not portuguese else "pt" if portuguese and not spanish else None


def is_payload(text: Optional[str]) -> bool:
    """A button's or a phone digit's payload (`/intent{...}`): its intent and slot names are English words."""
    return (text or "").lstrip().startswith("/")


def detect_language(text: Optional[str]) -> Optional[str]:
    """"es", "en", "pt", or None when the text does not say (e.g. "ok", "100002", an emoji, a button's payload)."""
    if is_payload(text):
        return None
    text = NOISE.sub(" ", text or "")
    words = [w.lower() for w in WORD.findall(text)]
    meaningful = [w for w in words if w not in AMBIGUOUS]
    if not meaningful:
        return None
    by_accent = accent_language(text)
    if by_accent:
        return by_accent
    votes = {lang: sum(w in markers for w in meaningful) for lang, markers in MARKERS.items()}
    ranked = sorted(votes, key=lambda k: votes[k], reverse=True)
    leader = ranked[0] if votes[ranked[0]] > votes[ranked[1]] else None
    if leader and len(meaningful) <= 3:
        return leader
    detector = _lingua()
    if detector is not None:
        confidences = {LINGUA_NAMES[c.language.name]: c.value for c in detector.compute_language_confidence_values(text)}
        best = max(confidences, key=lambda k: confidences[k])
        if confidences[best] >= MIN_CONFIDENCE:
            return best
    return leader


def clearly_written_in(text: Optional[str]) -> Optional[str]:
    """The language of a message that leaves no doubt, else None: SWITCH_MIN_WORDS meaningful words, lingua's first
    choice, and either lingua sure of it or two marker words of that language and none of another, with the
    letters and words not saying otherwise (detect_language)."""
    if is_payload(text):
        return None
    cleaned = NOISE.sub(" ", text or "")
    meaningful = [w for w in (w.lower() for w in WORD.findall(cleaned)) if w not in AMBIGUOUS and len(w) > 1]
    detector = _lingua()
    if len(meaningful) < SWITCH_MIN_WORDS or detector is None:
        return None
    confidences = {LINGUA_NAMES[c.language.name]: c.value for c in detector.compute_language_confidence_values(cleaned)}
    best = max(confidences, key=lambda k: confidences[k])
    votes = {lang: sum(w in markers for w in meaningful) for lang, markers in MARKERS.items()}
    by_words = votes[best] >= 2 and not any(count for lang, count in votes.items() if lang != best)
    sure = confidences[best] >= SWITCH_CONFIDENCE or by_words
    return best if sure and detect_language(text) == best else None


def switched_language(current: Optional[str], text: Optional[str]) -> Optional[str]:
    """The language a conversation in `current` switches to on this message, or None to keep it."""
    clear = clearly_written_in(text)
    return clear if clear in SUPPORTED_LANGUAGES and clear != current else None


def metadata_language(metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """The language the service already knows: top-level, else the customer profile's."""
    metadata = metadata or {}
    customer = metadata.get("customer") or {}
    for value in (metadata.get("language"), customer.get("language") if isinstance(customer, dict) else None):
        if isinstance(value, str) and value.lower()[:2] in SUPPORTED_LANGUAGES:
            return value.lower()[:2]
    return None


def choose_language(
    current: Optional[str], metadata: Optional[Dict[str, Any]], text: Optional[str], guessed: bool = False
) -> str:
    """Keeps a set language (unless it was only the default guess); else metadata; else the text; else the default.
    Whichever it is, a message clearly written in another language switches to that one."""
    if current in SUPPORTED_LANGUAGES and not guessed:
        settled = str(current)
    else:
        fallback = current if current in SUPPORTED_LANGUAGES else default_language()
        settled = metadata_language(metadata) or detect_language(text) or str(fallback)
    return switched_language(settled, text) or settled


def language_was_guessed(earlier: Iterable[EarlierMessage]) -> bool:
    """True when no earlier user message (metadata, text) told the language (so the slot holds only the default)."""
    return not any(metadata_language(metadata) or detect_language(text) for metadata, text in earlier)


def turn_language(
    current: Optional[str],
    metadata: Optional[Dict[str, Any]],
    text: Optional[str],
    earlier: Iterable[EarlierMessage],
) -> Optional[str]:
    """The `language` slot's new value after this user message, or None to keep it (see choose_language)."""
    guessed = current is not None and language_was_guessed(earlier)
    language = choose_language(current, metadata, text, guessed)
    return None if language == current else language
