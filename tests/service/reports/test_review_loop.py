"""Transition review and the designers' loop in the store: tag, queue, label, export, validate with Rasa."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from handoff.reports import nlu_export, nlu_samples, transitions
from handoff.reports.transitions import TransitionFilter
from tests.service.reports.conversation import misunderstood_case
from tests.service.support.project import project_copy


async def test_fallback_handoff_lands_in_the_review_list_with_its_prediction(sessions) -> None:
    async with sessions() as session, session.begin():
        await misunderstood_case(session)
        await misunderstood_case(session, words="estan abiertos el domingo", intent="ask_hours", confidence=0.95)
    async with sessions() as session:
        listed = await nlu_samples.review_list(session)
    assert [(s["source"], s["predicted_intent"], s["confidence"]) for s in listed] == \
        [("nlu_fallback", "nlu_fallback", 0.42)]
    assert listed[0]["text"].endswith("quiero devolverlo")  # the last thing the customer said before the handoff


async def test_transition_list_filters_and_shows_context(sessions) -> None:
    async with sessions() as session, session.begin():
        case, handoff = await misunderstood_case(session)
    async with sessions() as session:
        rows = await transitions.list_transitions(session, TransitionFilter(channel="webchat", team="care"))
        assert await transitions.list_transitions(session, TransitionFilter(team="returns")) == []
        assert await transitions.list_transitions(session, TransitionFilter(reason="explicit_request")) == []
        assert len(await transitions.list_transitions(session, TransitionFilter(intent="nlu_fallback"))) == 1
    [row] = rows
    assert (row["case_id"], row["reason"], row["intent"], row["confidence"]) == \
        (case.id, "repeated_fallback", "nlu_fallback", 0.42)
    assert row["slots"] == {"order_number": "100002"} and row["summary"] == "paquete roto"
    assert row["bot_turns"] == 3 and row["waiting_seconds"] is None and row["outcome"] is None
    assert [turn["actor"] for turn in row["last_turns"]] == ["bot", "customer", "bot", "customer", "bot"]
    assert row["last_turns"][-1]["text"] == "Te paso con una persona."


async def test_tagging_queues_for_designers_once_and_rejects_unknown_tags(sessions) -> None:
    async with sessions() as session, session.begin():
        _, handoff = await misunderstood_case(session, intent="return_request", confidence=0.9)
    async with sessions() as session, session.begin():
        with pytest.raises(transitions.ReviewError) as refused:
            await transitions.tag_transition(session, handoff.id, "meh", None, actor="agent:sup")
        assert refused.value.status == 422
        tagged = await transitions.tag_transition(session, handoff.id, "wrong team", "returns, not care",
                                                  actor="agent:sup")
        again = await transitions.tag_transition(session, handoff.id, "late handoff", None, actor="agent:sup")
    assert (tagged["review_tag"], tagged["review_note"], tagged["nlu_samples"]) == \
        ("wrong team", "returns, not care", 1)
    assert again["nlu_samples"] == 0  # the same utterance is reviewed once
    async with sessions() as session:
        [sample] = await nlu_samples.review_list(session)
        only_tagged = await transitions.list_transitions(session, TransitionFilter(tagged=True))
    assert (sample["source"], sample["review_tag"]) == ("review", "wrong team")
    assert [row["review_tag"] for row in only_tagged] == ["late handoff"]


@pytest.mark.e2e
async def test_annotated_examples_export_deduplicated_and_pass_rasa_validate(sessions, tmp_path: Path,
                                                                             rasa_cli: Path) -> None:
    root = project_copy(tmp_path)
    existing = nlu_export.read_examples(root / "bot" / "data")["return_request"][0]
    held_out = nlu_export.read_examples(root / "bot" / "heldout")["return_request"][0]
    assert held_out not in nlu_export.read_examples(root / "bot" / "data")["return_request"]
    async with sessions() as session, session.begin():
        await misunderstood_case(session)
        await misunderstood_case(session, words=existing.upper())  # already in the training data
        await misunderstood_case(session, words="el [pedido] vino abierto, lo regreso")
        await misunderstood_case(session, words="quiero hablar de un tema nuevo")
        await misunderstood_case(session, words=held_out)  # the test set stays out of training
        samples = await nlu_samples.review_list(session)
        for sample in samples[:3] + samples[4:]:
            await nlu_samples.label(session, sample["id"], intent="return_request", dismiss=False, actor="agent:d")
        await nlu_samples.label(session, samples[3]["id"], intent=None, dismiss=True, actor="agent:d")
        with pytest.raises(nlu_samples.SampleError):
            await nlu_samples.label(session, samples[3]["id"], intent="Not An Intent", dismiss=False, actor="d")
    async with sessions() as session:
        preview = await nlu_export.download(session, root / "bot" / "data", root / "domain.yml")
    async with sessions() as session, session.begin():
        path, added = await nlu_export.export_to_bot_data(session, root / "bot" / "data", actor="test",
                                                          domain_file=root / "domain.yml")
    assert added == 2 and path == root / "bot" / "data" / "nlu" / "reviewed.yml"
    written = yaml.safe_load(path.read_text())
    assert written["nlu"] == yaml.safe_load(preview)["nlu"] == [{"intent": "return_request", "examples":
        "- mi paquete llego <b>roto</b> & quiero devolverlo\n- el (pedido) vino abierto, lo regreso\n"}]
    async with sessions() as session, session.begin():  # a second export adds nothing
        assert (await nlu_export.export_to_bot_data(session, root / "bot" / "data", actor="test",
                                                    domain_file=root / "domain.yml"))[1] == 0
        assert await nlu_samples.review_list(session, "exported") != []
    result = subprocess.run([str(rasa_cli), "data", "validate", "--fail-on-warnings", "--config", "config.yml",
                             "--domain", "domain.yml", "--data", "bot/data"], cwd=root, capture_output=True,
                            text=True, timeout=600,
                            env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
