"""The privacy rules of the events, for every combination of the marks and the stages of
verification; subject matching; what may be said of a NATS URL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from events.build import outgoing
from events.servers import redact, where
from events.subjects import Streams, collide, covers
from normalizer.casework import CitizenReply
from normalizer.models import (
    Case,
    Channel,
    Classification,
    Complaint,
    ReplyAddress,
    Reporter,
)
from store.events import RelayEvent

AT = datetime(2026, 8, 14, 3, 0, tzinfo=UTC)
STREAMS = Streams("LAPOR", "ketapang")
NAME, PHONE, EMAIL = "Siti Aminah", "+6281355551234", "siti@example.id"
TEXT, PLACE = "Kepala desa meminta uang pelicin untuk surat tanah.", "Desa Sungai Awan Kiri"
WORDS = "Saya punya kuitansinya."
# Staff may still mark the complaint while its case is not opened or in these states.
UNSETTLED: list[str | None] = [None, "diterima", "ditunda"]
SETTLED: list[str | None] = ["diteruskan", "didisposisi", "dijawab", "ditolak", "diarsipkan"]


def event(*, anonymous: bool, confidential: bool, state: str | None) -> RelayEvent:
    complaint = Complaint(
        id="c1",
        tracking_id="K7M2XQ9PD",
        channel=Channel.SMS,
        external_id="SM1",
        request_hash=None,
        profile="ketapang",
        reporter=Reporter(name=NAME, phone=PHONE, email=EMAIL),
        reply_to=ReplyAddress(channel=Channel.SMS, address=PHONE),
        anonymous=anonymous,
        confidential=confidential,
        classification=Classification.PENGADUAN,
        category="pelayanan_publik",
        text=TEXT,
        text_original=TEXT,
        location=PLACE,
        incident_date=date(2026, 8, 10),
        attachments=(),
        received_at=AT,
        logged_by=None,
        created_at=AT,
    )
    case = None
    if state is not None:
        case = Case(
            complaint_id="c1",
            tracking_id="K7M2XQ9PD",
            state=state,
            suggested_agency="DPMD",
            agency=None if state in UNSETTLED else "DPMD",
            verification_due=date(2026, 8, 19),
            completion_due=date(2026, 9, 2),
            verification_due_at=AT + timedelta(days=5),
            completion_due_at=AT + timedelta(days=19),
            opened_at=AT,
            updated_at=AT,
        )
    reply = CitizenReply(
        complaint_id="c1", channel=Channel.SMS, external_id="SM2", text=WORDS, received_at=AT
    )
    return RelayEvent(
        seq=7,
        kind="citizen.followup",
        created_at=AT,
        data={"followup": 3},
        complaint=complaint,
        case=case,
        followup=reply,
    )


@pytest.mark.parametrize("state", UNSETTLED + SETTLED)
@pytest.mark.parametrize("confidential", [False, True], ids=["biasa", "rahasia"])
@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonim"])
def test_what_each_stream_says(anonymous: bool, confidential: bool, state: str | None) -> None:
    settled = state in SETTLED
    messages = outgoing(event(anonymous=anonymous, confidential=confidential, state=state), STREAMS)
    public, *restricted = messages
    assert (public.stream, public.subject) == ("LAPOR", "lapor.ketapang.citizen.followup")
    assert public.msg_id == "7" and public.body.seq == 7
    assert len(restricted) == int(confidential)
    for message in messages:
        body = message.body
        whole = message in restricted or (settled and not confidential)
        assert (body.text, body.location) == ((TEXT, PLACE) if whole else (None, None))
        assert body.followup is not None and body.followup.text == (WORDS if whole else None)
        assert (body.reporter is not None) == (whole and settled and not anonymous)
        if anonymous:  # not a trace, however the body is read
            assert NAME.encode() not in message.payload and PHONE.encode() not in message.payload
        assert (body.anonymous, body.confidential) == (anonymous, confidential)
        expected = None if whole else ("confidential" if confidential else "unverified")
        assert body.withheld == expected
    for message in restricted:
        assert message.stream == "LAPOR_RESTRICTED"
        assert message.subject == "lapor_restricted.ketapang.citizen.followup"
        assert message.msg_id == "7"
    if not confidential and not settled:
        assert TEXT.encode() not in public.payload


def test_a_kind_that_is_no_subject_is_refused() -> None:
    with pytest.raises(ValueError, match="no NATS subject"):
        STREAMS.public_subject("case.di terima")
    with pytest.raises(ValueError):
        STREAMS.restricted_subject("case.>")


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("lapor.ketapang.>", "lapor.ketapang.>", True),
        ("lapor.>", "lapor.ketapang.>", True),
        ("lapor.*.>", "lapor.ketapang.>", True),
        (">", "lapor.ketapang.>", True),
        ("lapor.ketapang.>", "lapor.>", False),
        ("lapor.soppeng.>", "lapor.ketapang.>", False),
        ("lapor.ketapang.case.>", "lapor.ketapang.>", False),
        ("lapor.ketapang", "lapor.ketapang.>", False),
        ("lapor.*", "lapor.ketapang", True),
    ],
)
def test_covers(pattern: str, subject: str, expected: bool) -> None:
    assert covers(pattern, subject) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("lapor.>", "lapor.ketapang.>", True),
        ("lapor.ketapang.>", "lapor.>", True),
        ("lapor.*.case.>", "lapor.ketapang.>", True),
        ("lapor.>", "lapor_restricted.ketapang.>", False),
        ("lapor.soppeng.>", "lapor.ketapang.>", False),
        ("lapor", "lapor.>", False),
        ("lapor.*", "lapor.ketapang", True),
    ],
)
def test_collide(a: str, b: str, expected: bool) -> None:
    assert collide(a, b) is expected


def test_a_nats_url_is_said_without_its_secrets() -> None:
    servers = ["nats://relay:kata-sandi-nats@10.0.0.5:4222", "tls://s3cr3t-token@nats.local:4443"]
    assert where(servers) == "10.0.0.5:4222, nats.local:4443"
    message = "nats: auth failed for relay:kata-sandi-nats and s3cr3t-token"
    assert redact(message, servers) == "nats: auth failed for relay:*** and ***"
