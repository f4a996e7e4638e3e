"""The subjects and the schema of one complaint's events, walked through the procedure by the
staff who take each step, with a reply of the citizen and a deadline passed on the way."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from nats.js.client import JetStreamContext

from events.schema import SCHEMA_VERSION, ComplaintEvent
from normalizer.casework import CitizenReply
from normalizer.models import Channel
from tests.conftest import Running, file_complaint
from tests.events.support import RESTRICTED, STREAM, outbox_seqs, relayed_up_to, stored
from tests.gateway.workflow_support import AGENCY, must, opened, team

TEXT = "Jembatan kayu di Desa Sungai Melayu patah, anak sekolah menyeberang dengan rakit."
PLACE = "Desa Sungai Melayu, Kecamatan Muara Pawan"
NAME = "Rahmat Hidayat"
PHONE = "0812-5678-9012"
README = Path(__file__).parents[2] / "README.md"


async def relayed(running: Running) -> None:
    """Until every outbox event so far is acknowledged by JetStream."""
    await relayed_up_to(running.store, outbox_seqs(running.sqlite_store.path)[-1])


async def test_a_complaint_walked_through_the_procedure(
    relaying: Running, js: JetStreamContext
) -> None:
    running = relaying
    t = await team(running)
    fields = {"text": TEXT, "location": PLACE, "name": NAME, "phone": PHONE}
    tracking_id = await file_complaint(running, "app", **fields)
    await opened(running)
    await relayed(running)
    await must(running, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)
    await relayed(running)
    await must(running, t.opd, tracking_id, "disposisi", to=t.pejabat.username)
    await relayed(running)
    complaint = await running.store.get_complaint(tracking_id)
    assert complaint is not None
    reply = CitizenReply(
        complaint_id=complaint.id,
        channel=Channel.APP,
        external_id="tambah-1",
        text="Sudah dua hari belum ada petugas yang datang.",
        received_at=running.clock(),
    )
    assert await running.store.add_citizen_reply(reply)
    await relayed(running)
    later = running.clock() + timedelta(days=60)
    assert await running.gateway.workflow.sweep(later, apply=True)
    await relayed(running)

    seen = await stored(js, STREAM)
    assert [m.subject for m in seen] == [
        "lapor.ketapang.complaint.received",
        "lapor.ketapang.case.diteruskan",
        "lapor.ketapang.case.didisposisi",
        "lapor.ketapang.citizen.followup",
        "lapor.ketapang.sla.penyelesaian_terlambat",
    ]
    assert await stored(js, RESTRICTED) == []  # nothing rahasia here
    events = [m.event for m in seen]
    seqs = [e.seq for e in events]
    assert seqs == outbox_seqs(running.sqlite_store.path) and seqs == sorted(set(seqs))
    assert [m.msg_id for m in seen] == [str(s) for s in seqs]
    for message, event in zip(seen, events, strict=True):
        assert set(message.raw) == set(ComplaintEvent.model_fields)  # every field, always
        assert event.schema_version == SCHEMA_VERSION == 1
        assert event.kind == message.subject.removeprefix("lapor.ketapang.")
        assert (event.profile, event.tracking_id, event.channel) == ("ketapang", tracking_id, "app")
        assert event.received_at == complaint.received_at and event.confidential is False
        assert event.classification == complaint.classification and event.attachments == 0
    received, verified, disposed, followup, late = events

    # Received: not verified yet, so nothing staff may still mark rahasia or anonim.
    assert received.withheld == "unverified"
    assert (received.text, received.location, received.reporter) == (None, None, None)
    assert received.case is None or received.case.state == "diterima"

    assert verified.withheld is None and verified.text == TEXT and verified.location == PLACE
    assert verified.reporter is not None and verified.reporter.name == NAME
    assert verified.reporter.phone == verified.reporter.reply_address == "+6281256789012"
    assert verified.reporter.reply_channel == "sms"
    assert verified.case is not None and verified.case.state == "diteruskan"
    assert verified.case.agency == AGENCY and verified.case.due_at is not None
    assert (verified.data["from"], verified.data["to"]) == ("diterima", "diteruskan")
    assert verified.occurred_at >= received.occurred_at

    assert disposed.case is not None and disposed.case.state == "didisposisi"
    assert disposed.data["to"] == "didisposisi"
    assert followup.followup is not None and followup.followup.text == reply.text
    assert (followup.followup.kind, followup.followup.channel) == ("followup", "app")
    assert late.case is not None and late.case.state == "didisposisi"


def test_the_readme_documents_every_field() -> None:
    """The README's table of the event's fields names each field of the schema, and no other."""
    section = README.read_text().split("### Events on NATS JetStream", 1)[1].split("\n## ", 1)[0]
    table = section.split("| field |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)`", table, flags=re.MULTILINE))
    assert documented == set(ComplaintEvent.model_fields)
