"""The pipeline's EmailMasker: an email's letters never decide the intent, and the address itself is kept."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.email_masker import EMAIL, EmailMasker

ROOT = Path(__file__).resolve().parents[2]


def tokenized(text: str) -> Message:
    message = Message(data={TEXT: text})
    tokenizer = WhitespaceTokenizer({**WhitespaceTokenizer.get_default_config()})
    tokenizer.process([message])
    return message


def test_the_masker_knows_emails_as_the_entity_regex_does() -> None:
    regexes = {item["regex"]: item["examples"] for item in
               yaml.safe_load((ROOT / "bot" / "data" / "nlu" / "regex.yml").read_text())["nlu"]}
    assert regexes["email"].strip() == f"- {EMAIL.pattern}"


def test_only_the_email_tokens_change() -> None:
    text = "soy cliente, mi correo es ana.lopez@gmail.com y mi cel 5512345678"
    message = tokenized(text)
    before = [(t.start, t.end, t.text) for t in message.get(TOKENS_NAMES[TEXT])]
    EmailMasker().process([message])
    after = [(t.start, t.end, t.text) for t in message.get(TOKENS_NAMES[TEXT])]
    assert [t for t in after if t not in before] == [(26, 45, "__email__")]
    assert [t for t in before if t not in after] == [(26, 45, "ana.lopez@gmail.com")]
    assert message.get(TEXT) == text  # the regex entity still reads the address from the text

    examples = TrainingData([tokenized("mi correo es pedro@example.com"), tokenized("hola")])
    masked = EmailMasker().process_training_data(examples)
    assert [[t.lemma for t in m.get(TOKENS_NAMES[TEXT])] for m in masked.training_examples] == \
        [["mi", "correo", "es", "__email__"], ["hola"]]


def test_the_trained_model_reads_a_claim_whatever_the_address(trained_agent: Any) -> None:
    async def parse(texts: list[str]) -> list[dict[str, Any]]:
        return [await trained_agent.parse_message(text) for text in texts]

    addresses = ["ana.lopez@example.com", "jgarcia77@yahoo.com.mx", "jose.m@correo.com", "kate.miller@gmail.com"]
    results = asyncio.run(parse([f"soy cliente, mi correo es {a}" for a in addresses]
                                + [f"I'm a customer, my email is {a}" for a in addresses]))
    assert {r["intent"]["name"] for r in results} == {"claim_identity"}
    for result, address in zip(results, addresses * 2, strict=True):
        assert [(e["entity"], e["value"]) for e in result["entities"]] == [("email", address)]
    for language in (results[:4], results[4:]):  # the same confidence: the address is invisible to the classifier
        assert len({round(r["intent"]["confidence"], 6) for r in language}) == 1
