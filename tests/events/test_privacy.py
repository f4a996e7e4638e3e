"""`anonim` and `rahasia` in the events: an anonymous reporter is in no event of any stream;
a confidential complaint's words are on LAPOR_RESTRICTED only, and a consumer of `lapor.>`
never sees them; marks set at verification protect what was received before it."""

from __future__ import annotations

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext

from tests.conftest import Running, eventually, file_complaint
from tests.events.support import RESTRICTED, STREAM, Seen, outbox_seqs, relayed_up_to, stored
from tests.gateway.workflow_support import AGENCY, must, opened, team

NAME = "Siti Aminah"
PHONE = "0813-5555-1234"
EMAIL = "siti.aminah@example.id"
OTHER_NAME = "Yohanes Bakri"
OTHER_PHONE = "0852-4444-9876"
TEXT = "Saluran air di Jalan Merdeka tersumbat sampah, air meluap ke rumah warga setiap hujan."
SECRET_TEXT = "Kepala desa meminta uang pelicin Rp500.000 untuk surat keterangan tanah."
SECRET_PLACE = "Kantor Desa Sungai Awan Kiri"
LATE_SECRET = "Petugas parkir pasar memungut retribusi dua kali lipat tanpa karcis resmi."


def traces(name: str, phone: str) -> list[str]:
    """The reporter in any usual spelling of the number."""
    digits = phone.replace("-", "")
    return [name, phone, digits, "+62" + digits[1:], digits[1:]]


def carrying(messages: list[Seen], secrets: list[str]) -> list[tuple[str, str]]:
    """(subject, secret) for every message whose bytes hold a secret."""
    return [(m.subject, s) for m in messages for s in secrets if s.encode() in m.data]


def of(messages: list[Seen], tracking_id: str) -> list[Seen]:
    return [m for m in messages if m.event.tracking_id == tracking_id]


async def test_anonim_and_rahasia_in_the_streams(
    relaying: Running, nats_client: Client, js: JetStreamContext
) -> None:
    running = relaying
    on_lapor: list[Seen] = []  # whatever is published under lapor.>, stored or not

    async def listen(msg: Msg) -> None:
        on_lapor.append(Seen(msg.subject, None, msg.data))

    await nats_client.subscribe("lapor.>", cb=listen)
    t = await team(running)
    anonim = await file_complaint(
        running, "app", text=TEXT, name=NAME, phone=PHONE, email=EMAIL, anonymous=True
    )
    rahasia = await file_complaint(
        running,
        "app",
        text=SECRET_TEXT,
        location=SECRET_PLACE,
        name=OTHER_NAME,
        phone=OTHER_PHONE,
        confidential=True,
    )
    # Neither mark at intake: both set by the Admin Penghubung at verification.
    marked_late = await file_complaint(running, "app", text=LATE_SECRET, name=NAME, phone=PHONE)
    plain = await file_complaint(running, "app", text=TEXT + " Lagi.", phone="0811-2222-3333")
    await opened(running)
    for tracking_id in (anonim, rahasia, plain):
        await must(running, t.penghubung, tracking_id, "verifikasi", agency=AGENCY)
    await must(
        running,
        t.penghubung,
        marked_late,
        "verifikasi",
        agency=AGENCY,
        anonymous=True,
        confidential=True,
    )
    await must(running, t.opd, rahasia, "disposisi", to=t.pejabat.username)
    await relayed_up_to(running.store, outbox_seqs(running.sqlite_store.path)[-1])

    public, restricted = await stored(js, STREAM), await stored(js, RESTRICTED)
    assert len(public) == len(outbox_seqs(running.sqlite_store.path)) == 9

    async def heard() -> int:
        return len(on_lapor)

    await eventually(heard, lambda n: n == len(public))  # the plain subscriber: every one

    # anonim: the reporter is in no event of either stream, ever.
    reporter = [*traces(NAME, PHONE), EMAIL]
    assert carrying(public + restricted + on_lapor, reporter) == []
    for message in of(public, anonim):
        assert message.event.anonymous is True and message.event.reporter is None
    assert of(public, anonim)[-1].event.text == TEXT  # verified, not rahasia: its words go

    # rahasia: its words and reporter on the restricted stream only, never under lapor.>.
    secrets = [SECRET_TEXT, SECRET_PLACE, *traces(OTHER_NAME, OTHER_PHONE), LATE_SECRET]
    assert carrying(public, secrets) == [] and carrying(on_lapor, secrets) == []
    for message in of(public, rahasia):
        event = message.event
        assert event.confidential is True and event.withheld == "confidential"
        assert (event.text, event.location, event.reporter) == (None, None, None)
    whole = of(restricted, rahasia)
    assert [m.subject for m in whole] == [
        "lapor_restricted.ketapang.complaint.received",
        "lapor_restricted.ketapang.case.diteruskan",
        "lapor_restricted.ketapang.case.didisposisi",
    ]
    assert [m.msg_id for m in whole] == [m.msg_id for m in of(public, rahasia)]
    assert all(m.event.text == SECRET_TEXT and m.event.location == SECRET_PLACE for m in whole)
    assert whole[0].event.reporter is None  # until verification has settled anonim
    assert whole[-1].event.reporter is not None
    assert whole[-1].event.reporter.name == OTHER_NAME

    # Marked at verification: nothing that went out before it told its words or reporter.
    late = of(restricted, marked_late)
    assert [m.subject for m in late] == ["lapor_restricted.ketapang.case.diteruskan"]
    assert late[0].event.text == LATE_SECRET and late[0].event.reporter is None
    assert [m.event.withheld for m in of(public, marked_late)] == ["unverified", "confidential"]

    assert of(restricted, plain) == [] and of(restricted, anonim) == []
    assert of(public, plain)[-1].event.text == TEXT + " Lagi."
