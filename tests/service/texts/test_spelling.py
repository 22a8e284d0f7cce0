"""Customer-facing Spanish and English are written as a brand writes them: every word a dictionary knows (Debian's
hunspell with its Spanish and US English dictionaries), and the accents a dictionary cannot see (qué/que, más/mas,
número/numero) checked by rule. A short allow-list holds brand words and enclitic forms the dictionary lacks."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.service.texts.customer_texts import Text, customer_texts

DICTIONARIES = Path("/usr/share/hunspell")
HUNSPELL = {"es": "es_MX", "en": "en_US"}
PACKAGES = {"es": "hunspell-es", "en": "hunspell-en-us"}
ALLOWED = {
    "es": {"Ok", "Mmm", "min", "WhatsApp", "Acórtalo", "Escríbelo", "márcalo", "Revísalo", "Reconectando"},
    "en": {"WhatsApp", "Hmm"},
}
LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")  # "es-MX": a voice's locale, not a text
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


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_customer_facing_word_is_in_the_dictionary(language: str) -> None:
    needs_hunspell(language)
    texts = customer_texts(language)
    assert len(texts) > 150  # the collector still finds the texts where they are written
    assert misspelt(texts, language) == {}


def test_spanish_accents_a_dictionary_cannot_see_are_checked_by_rule() -> None:
    assert unaccented(customer_texts("es")) == []


def test_the_checks_catch_careless_spanish() -> None:
    needs_hunspell("es")
    careless = [Text("example", "¿Que necesitas? Aqui esta disponible tu numero, algo mas?"),
                Text("example", "Perdon, no te entendi. ¿En que te ayudo?")]
    assert set(misspelt(careless, "es")) == {"Aqui", "Perdon", "entendi"}
    assert len(unaccented(careless)) == 5
