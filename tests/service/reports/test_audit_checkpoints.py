"""Signed checkpoints: an insider who edits a message and recomputes every later hash in the database passes the
plain verifier and fails the checkpoint check; a bad signature or a missing checkpoint fails too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from handoff.cli import main
from handoff.core.checkpoints import Checkpoints, keygen, load_private_key, load_public_key
from handoff.core.hashchain import content_digest, event_hash
from handoff.core.timeline import append_event, event_fields
from handoff.reports.audit_export import export_case, verify_export
from handoff.store.models import AuditCheckpoint, Case, TimelineEvent
from tests.service.reports.conversation import misunderstood_case


def verify(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    status = main(["audit", "verify", str(path), *extra])
    out, err = capsys.readouterr()
    return status, out + err


async def insider_rewrites(sessions, case_id: str, seq: int, new_text: str) -> None:
    """What someone with write access to the database can do: change a text, recompute the digest and every hash
    from there on, exactly as the service would have."""
    async with sessions() as session, session.begin():
        events = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                                            .order_by(TimelineEvent.seq)))
        previous = events[seq - 2].hash
        for event in events[seq - 1:]:
            fields = event_fields(event)
            if event.seq == seq:
                fields["text"] = new_text
                fields["content_digest"] = content_digest(new_text, fields["payload"], fields["content_salt"])
            fields["prev_hash"] = previous
            previous = event_hash(fields)
            await session.execute(update(TimelineEvent).where(TimelineEvent.id == event.id).values(
                text=fields["text"], content_digest=fields["content_digest"], prev_hash=fields["prev_hash"],
                hash=previous))


def test_keygen_prints_a_pair_that_loads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "keygen"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    private, public = load_private_key(lines["AUDIT_SIGNING_KEY"]), load_public_key(lines["AUDIT_PUBLIC_KEY"])
    assert private.public_key().public_bytes_raw() == public.public_bytes_raw()
    with pytest.raises(ValueError):
        load_private_key("c2hvcnQ=")  # 5 bytes


async def test_an_insider_rewrite_passes_the_chain_and_fails_the_checkpoint(
        sessions, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    private, public = keygen()
    _, other_public = keygen()
    signer = Checkpoints(sessions, load_private_key(private))
    async with sessions() as session, session.begin():
        case, _ = await misunderstood_case(session)
    async with sessions() as session:
        unsigned = await export_case(session, case.id)
    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    status, said = verify(tmp_path / "unsigned.json", capsys, "--public-key", public)
    assert status == 1 and "no signed checkpoint" in said

    assert await signer.sign_moved() >= 1
    assert await signer.sign_moved() == 0  # nothing moved since
    async with sessions() as session, session.begin():
        await append_event(session, await session.get(Case, case.id), channel="webchat", direction="out",
                           actor="agent:x", kind="message", text="Ya lo reviso")
    assert await signer.sign_moved() == 1  # only the chain that moved
    async with sessions() as session:
        signed = await export_case(session, case.id)
        rows = list(await session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.chain == case.id)))
    assert [r.seq for r in rows] == [7, 8] and signed["checkpoint"]["seq"] == 8
    (tmp_path / "signed.json").write_text(json.dumps(signed))
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public + "\n")
    status, said = verify(tmp_path / "signed.json", capsys, "--public-key", str(key_file))
    assert status == 0 and "signed checkpoint at event #8" in said, said
    status, said = verify(tmp_path / "signed.json", capsys, "--public-key", other_public)
    assert status == 1 and "signature is not valid" in said

    forged = json.loads(json.dumps(signed))
    forged["checkpoint"]["seq"] = 7
    forged["checkpoint"]["hash"] = forged["events"][6]["hash"]  # an older head, re-labelled: the signature breaks
    assert not verify_export(forged, load_public_key(public)).ok

    await insider_rewrites(sessions, case.id, 3, "mi paquete llego bien, gracias")
    async with sessions() as session:
        rewritten = await export_case(session, case.id)
    assert verify_export(rewritten).ok  # the self-contained chain is satisfied: every hash was recomputed
    (tmp_path / "rewritten.json").write_text(json.dumps(rewritten))
    status, said = verify(tmp_path / "rewritten.json", capsys)
    assert status == 0
    status, said = verify(tmp_path / "rewritten.json", capsys, "--public-key", public)
    assert status == 1 and "event #8 is not the one signed" in said and "rewritten" in said, said

    truncated = json.loads(json.dumps(signed))
    truncated["events"] = truncated["events"][:6]
    truncated["head"] = {"count": 6, "hash": truncated["events"][-1]["hash"]}
    check = verify_export(truncated, load_public_key(public))
    assert not check.ok and "had 8 events" in (check.problem or "")
