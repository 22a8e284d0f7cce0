"""Customer-facing Spanish (in all three tones), English and Brazilian Portuguese are written as a brand writes them:
every word a dictionary knows (Debian's hunspell: Mexican Spanish for tuteo, Colombian for usted, Argentinian for
voseo, US English, Brazilian Portuguese), and the Spanish accents a dictionary cannot see (qué/que, más/mas,
número/numero) checked by rule. A short allow-list holds brand words and enclitic forms the dictionary lacks."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.service.texts.customer_texts import Text, customer_texts

DICTIONARIES = Path("/usr/share/hunspell")
HUNSPELL = {"es-tuteo": "es_MX", "es-usted": "es_CO", "es-voseo": "es_AR", "en": "en_US", "pt": "pt_BR"}
PACKAGES = {"es-tuteo": "hunspell-es", "es-usted": "hunspell-es", "es-voseo": "hunspell-es", "en": "hunspell-en-us",
            "pt": "hunspell-pt-br"}
SPANISH = {"Ok", "Mmm", "min", "WhatsApp", "Acórtalo", "Escríbelo", "márcalo", "Revísalo", "Reconectando"}
ALLOWED = {
    "es-tuteo": SPANISH,
    "es-usted": SPANISH | {"Escríbalo", "márquelo", "Acórtelo"},
    "es-voseo": SPANISH | {"podés", "Podés", "Revisalo", "Escribilo", "marcalo", "Acortalo"},  # es_AR lacks these
    "en": {"WhatsApp", "Hmm"},
    "pt": {"WhatsApp", "Hmm", "Ok", "min", "mail"},  # "e-mail" reads as two words
}
SPANISH_VARIANTS = ("es-tuteo", "es-usted", "es-voseo")
LOCALE = re.compile(r"^[a-z]{2}([-_][A-Z]{2})?$")  # "es-MX", "pt_BR": a locale, not a text
INTERROGATIVE = re.compile(r"¿\s*(?:(?:en|de|a|por|para|con|hasta|desde)\s+)?"
                           r"(que|como|cual|cuales|cuando|donde|quien|quienes|cuanto|cuanta|cuantos|cuantas)\b",
                           re.IGNORECASE)
UNACCENTED = (
    (INTERROGATIVE, "an interrogative after ¿ needs its accent (qué, cómo, cuál, cuándo, dónde, quién, cuánto)"),
    (re.compile(r"\bmas\b", re.IGNORECASE), "'mas' is 'más' in what we write"),
    (re.compile(r"\b(tu|el|un|su|de|tus|del)\s+numero\b", re.IGNORECASE), "the noun is 'número'"),
    (re.compile(r"\besta\s+(disponible|en|listo|lista|verificado|verificada|abierto|cerrado)\b", re.IGNORECASE),
     "the verb is 'está'"),
)


def words(text: str) -> list[str]:
    """The words of a text, without placeholders, URLs and emails."""
    clean = re.sub(r"\{[^}]*\}|https?://\S+|\S+@\S+", " ", text)
    return [word.strip("'") for word in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", clean)]


def misspelt(texts: list[Text], language: str) -> dict[str, list[str]]:
    """Each word the dictionary does not know (and is not allowed), with where it is written."""
    where: dict[str, list[str]] = {}
    for text in texts:
        if LOCALE.match(text.text.strip()):
            continue
        for word in words(text.text):
            where.setdefault(word, []).append(text.where)
    listed = subprocess.run(["hunspell", "-d", str(DICTIONARIES / HUNSPELL[language]), "-l"],
                            input="\n".join(where), capture_output=True, text=True, check=True).stdout.split()
    return {word: where[word] for word in sorted(set(listed)) if word not in ALLOWED[language]}


def unaccented(texts: list[Text]) -> list[str]:
    """Spanish words whose accent depends on their role, caught by rule."""
    return [f"{text.where}: {why}: {text.text!r}" for text in texts for pattern, why in UNACCENTED
            if pattern.search(text.text)]


def needs_hunspell(language: str) -> None:
    if shutil.which("hunspell") is None or not (DICTIONARIES / f"{HUNSPELL[language]}.dic").exists():
        pytest.skip(f"needs the Debian packages hunspell and {PACKAGES[language]} (.ci/run installs them)")


@pytest.mark.parametrize("variant", list(HUNSPELL))
def test_every_customer_facing_word_is_in_the_dictionary(variant: str) -> None:
    needs_hunspell(variant)
    texts = customer_texts(variant)
    assert len(texts) > 130  # the collector still finds the texts where they are written
    assert misspelt(texts, variant) == {}


@pytest.mark.parametrize("variant", SPANISH_VARIANTS)
def test_spanish_accents_a_dictionary_cannot_see_are_checked_by_rule(variant: str) -> None:
    assert unaccented(customer_texts(variant)) == []


def test_the_checks_catch_careless_spanish() -> None:
    needs_hunspell("es-tuteo")
    careless = [Text("example", "¿Que necesitas? Aqui esta disponible tu numero, algo mas?"),
                Text("example", "Perdon, no te entendi. ¿En que te ayudo?")]
    assert set(misspelt(careless, "es-tuteo")) == {"Aqui", "Perdon", "entendi"}
    assert len(unaccented(careless)) == 5


def test_the_checks_catch_careless_portuguese() -> None:
    needs_hunspell("pt")
    careless = [Text("example", "Oi! Voce nao precisa repetir nada, a gente ja tem seu numero.")]
    assert set(misspelt(careless, "pt")) == {"Voce", "nao", "ja"}
