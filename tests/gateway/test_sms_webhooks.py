"""SMS to 1708 end to end: through each gateway's webhook into a `diterima` case, the
tracking ID back by SMS, and every command, window and limit a citizen can run into."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from normalizer.models import Channel, Flag
from tests.conftest import ADMIN_AUTH, Running, eventually, start_gateway
from tests.gateway.sms_support import (
    CITIZEN,
    KANNEL_SECRET,
    NEIGHBOUR,
    SMS_SETTINGS,
    TEXT,
    kannel_sms,
    query,
    tracking_id_in,
    twilio_sms,
    twiml_text,
)
from workflow.states import CaseState

VONAGE_FIXTURES = Path(__file__).parents[1] / "channels" / "sms" / "fixtures" / "vonage"


@pytest.fixture
async def sms(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path, **SMS_SETTINGS)
    yield running
    await running.stop()


async def test_a_twilio_sms_becomes_a_diterima_case_and_the_citizen_gets_its_id(
    sms: Running,
) -> None:
    status, twiml = await twilio_sms(sms, f"LAPOR {TEXT}")
    assert status == 200
    reply = twiml_text(twiml)
    assert reply is not None and "CEK " in reply and "1708" in reply
    tracking_id = tracking_id_in(reply)
    complaint = await sms.store.get_complaint(tracking_id)
    assert complaint is not None
    assert complaint.channel is Channel.SMS
    assert complaint.text == TEXT  # the keyword is stripped
    assert complaint.reporter.phone == CITIZEN
    assert complaint.reply_to is not None and complaint.reply_to.address == CITIZEN
    assert complaint.category == "jalan_jembatan"
    case = await eventually(lambda: sms.store.get_case(complaint.id), lambda c: c is not None)
    assert case is not None and case.state == CaseState.DITERIMA


async def test_a_wrong_signature_is_refused_and_nothing_is_stored(sms: Running) -> None:
    status, body = await twilio_sms(sms, TEXT, signature="bm90IHRoZSBzaWduYXR1cmU=")
    assert status == 403, body
    missing_status, _ = await twilio_sms(sms, TEXT, signature="")
    assert missing_status == 403
    assert sms.count("complaints") == 0 and sms.count("sms_messages") == 0


async def test_the_same_provider_message_twice_is_one_complaint_and_the_same_reply(
    sms: Running,
) -> None:
    first = await twilio_sms(sms, TEXT, sid="SM" + "a" * 32)
    second = await twilio_sms(sms, TEXT, sid="SM" + "a" * 32)
    assert first == second and first[0] == 200
    assert sms.count("complaints") == 1


async def test_the_same_text_resent_within_the_window_gets_the_first_id(sms: Running) -> None:
    _, first = await twilio_sms(sms, TEXT)
    sms.clock.advance(minutes=9)
    _, again = await twilio_sms(sms, "  " + TEXT.upper())
    assert tracking_id_in(twiml_text(again) or "") == tracking_id_in(twiml_text(first) or "")
    sms.clock.advance(minutes=2)  # 11 minutes after the first: a new complaint
    _, later = await twilio_sms(sms, TEXT)
    assert tracking_id_in(twiml_text(later) or "") != tracking_id_in(twiml_text(first) or "")
    assert sms.count("complaints") == 2


async def test_cek_answers_the_status_only_to_the_number_that_filed_it(sms: Running) -> None:
    _, twiml = await twilio_sms(sms, TEXT)
    tracking_id = tracking_id_in(twiml_text(twiml) or "")
    await eventually(lambda: _case_count(sms), lambda n: n == 1)
    complaints = sms.count("complaints")

    _, mine = await twilio_sms(sms, f"cek {tracking_id.lower()}")
    assert f"LAPOR! {tracking_id}: " in (twiml_text(mine) or "")
    assert sms.profile.message("state.diterima") in (twiml_text(mine) or "")
    assert "Agustus 2026" in (twiml_text(mine) or "")  # the completion deadline, local words

    _, theirs = await twilio_sms(sms, f"CEK {tracking_id}", sender=NEIGHBOUR)
    assert twiml_text(theirs) == sms.profile.message("sms.not_found", tracking_id=tracking_id)
    _, typo = await twilio_sms(sms, f"CEK {tracking_id[:-1]}{_other(tracking_id[-1])}")
    assert "tidak valid" in (twiml_text(typo) or "")
    assert sms.count("complaints") == complaints  # asking stores no complaint


@pytest.mark.parametrize("message", ["info", "BANTUAN?", "", "  ", "??"])
async def test_help_and_empty_messages_get_the_formats(sms: Running, message: str) -> None:
    _, twiml = await twilio_sms(sms, message)
    reply = twiml_text(twiml) or ""
    assert "LAPOR" in reply and "CEK" in reply and "TAMBAH" in reply
    assert sms.count("complaints") == 0 and sms.count("sms_messages") == 1


async def test_follow_ups_are_appended_to_the_citizens_own_complaint(sms: Running) -> None:
    _, twiml = await twilio_sms(sms, TEXT)
    tracking_id = tracking_id_in(twiml_text(twiml) or "")
    _, added = await twilio_sms(sms, f"TAMBAH {tracking_id} Lubangnya sekarang dua meter.")
    assert "Tambahan keterangan" in (twiml_text(added) or "")
    _, bare = await twilio_sms(sms, f"{tracking_id} Ada korban luka kemarin sore.")
    assert "Tambahan keterangan" in (twiml_text(bare) or "")
    # Another number cannot add to it; its bare-ID message is a complaint of its own.
    _, foreign = await twilio_sms(sms, f"TAMBAH {tracking_id} bukan laporan saya", sender=NEIGHBOUR)
    assert "tidak ditemukan" in (twiml_text(foreign) or "")
    complaint = await sms.store.get_complaint(tracking_id)
    assert complaint is not None
    timeline = await sms.store.timeline(complaint.id)
    notes = [e.note for e in timeline if e.kind == "complaint.followup"]
    assert notes == ["Lubangnya sekarang dua meter.", "Ada korban luka kemarin sore."]
    # Each answer given in Twilio's webhook reply shows too, in order.
    answered = [e.note for e in timeline if e.kind == "sms.reply"]
    assert answered == [twiml_text(twiml), twiml_text(added), twiml_text(bare)]
    assert sms.count("complaints") == 1


async def test_a_text_too_short_is_stored_flagged_and_asked_for_more(sms: Running) -> None:
    _, twiml = await twilio_sms(sms, "LAPOR jalan rusak")
    reply = twiml_text(twiml) or ""
    assert "terlalu singkat" in reply and "di mana" in reply
    complaint = await sms.store.get_complaint(tracking_id_in(reply))
    assert complaint is not None and complaint.flags == (Flag.TOO_SHORT,)
    assert complaint.text == "jalan rusak"


async def test_a_flood_from_one_number_is_stored_flagged_and_not_answered(
    tmp_path: Path,
) -> None:
    running = await start_gateway(tmp_path, **SMS_SETTINGS, sms_rate_limit=3)
    try:
        replies = [twiml_text((await twilio_sms(running, f"{TEXT} ({n})"))[1]) for n in range(5)]
        assert all(replies[:3]) and replies[3:] == [None, None]
        flagged = query(running, "SELECT flags FROM complaints ORDER BY received_at, rowid")
        assert [f for (f,) in flagged] == ["", "", "", "rate_limited", "rate_limited"]
        # The Admin Penghubung finds them in the queue to review.
        async with running.http.get(
            "/api/v1/complaints?flag=rate_limited", headers=ADMIN_AUTH
        ) as response:
            page = await response.json()
        assert [item["flags"] for item in page["items"]] == [["rate_limited"]] * 2
        # Another number is not held back by this one's flood.
        assert twiml_text((await twilio_sms(running, TEXT, sender=NEIGHBOUR))[1])
        running.clock.advance(hours=1, seconds=1)  # the window has passed
        assert twiml_text((await twilio_sms(running, f"{TEXT} (lagi)"))[1])
    finally:
        await running.stop()


async def test_a_kannel_sms_is_answered_in_the_http_body(sms: Running) -> None:
    status, body = await kannel_sms(sms, TEXT.encode(), message_id="kannel-1")
    assert status == 200
    complaint = await sms.store.get_complaint(tracking_id_in(body))
    assert complaint is not None and complaint.reporter.phone == CITIZEN
    again = await kannel_sms(sms, TEXT.encode(), message_id="kannel-1")
    assert again == (200, body)
    assert (await kannel_sms(sms, TEXT.encode(), secret="salah"))[0] == 403
    assert sms.count("complaints") == 1


# What phones send, as Kannel hands it over → the complaint text we keep.
KANNEL_TEXTS = [
    pytest.param(
        b"Pungli di kantor desa: biaya \x1b<KTP\x1b> Rp50.000 atau \x1be5 \x00petugas",
        0, "", "Pungli di kantor desa: biaya [KTP] Rp50.000 atau €5 @petugas", id="gsm7-raw",
    ),
    pytest.param(
        "Air PDAM keruh 😡 sudah 3 hari di Kelurahan Sampit 👍🏽".encode("utf-16-be"),
        2, "UTF-16BE", "Air PDAM keruh 😡 sudah 3 hari di Kelurahan Sampit 👍🏽", id="ucs2-emoji",
    ),
    pytest.param(
        "Kafe dan café di Jl. Merdeka buang limbah ke parit".encode(),
        0, "UTF-8", "Kafe dan café di Jl. Merdeka buang limbah ke parit", id="7bit-as-utf8",
    ),
    pytest.param(
        b"Pak Lurah bilang \x93nanti saja\x94, jalan rusak tetap dibiarkan",
        1, "", "Pak Lurah bilang “nanti saja”, jalan rusak tetap dibiarkan", id="8bit-cp1252",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("wire", "coding", "charset", "stored"), KANNEL_TEXTS)
async def test_kannel_texts_in_every_coding_come_out_right(
    sms: Running, wire: bytes, coding: int, charset: str, stored: str
) -> None:
    status, body = await kannel_sms(sms, wire, coding=coding, charset=charset)
    assert status == 200, body
    complaint = await sms.store.get_complaint(tracking_id_in(body))
    assert complaint is not None and complaint.text == stored


async def test_kannel_post_url_with_headers(sms: Running) -> None:
    """post-url: the message is the body (UCS-2 here), the rest in X-Kannel headers."""
    text = "Banjir setinggi lutut di RT 03 🌊, warga butuh perahu karet"
    headers = {
        "X-Kannel-From": "+6281234567890",
        "X-Kannel-To": "1708",
        "X-Kannel-Coding": "2",
        "X-Kannel-SMSC": "telkomsel",
        "Content-Type": 'text/plain; charset="UTF-16BE"',
    }
    url = f"/webhooks/sms/kannel?secret={KANNEL_SECRET}&id=5a1c0d6e-post"
    async with sms.http.post(url, data=text.encode("utf-16-be"), headers=headers) as response:
        body = await response.text()
        assert response.status == 200, body
    complaint = await sms.store.get_complaint(tracking_id_in(body))
    assert complaint is not None and complaint.text == text


async def _case_count(running: Running) -> int:
    return running.count("cases")


def _other(symbol: str) -> str:
    return "2" if symbol != "2" else "3"


async def test_signed_vonage_deliveries_are_checked_at_the_door(tmp_path: Path) -> None:
    """A delivery exactly as Vonage signed it is filed; the same with its text changed is
    refused and leaves nothing behind. Vonage retries a delivery for a day with its first
    timestamp: a retry a day late is taken once, one older is refused."""
    fixture = VONAGE_FIXTURES / "signed_md5hash.query"
    signed = fixture.read_text().strip()
    running = await start_gateway(tmp_path, **SMS_SETTINGS)
    try:
        tampered = signed.replace("Pungutan+liar", "Pungutan+resmi")
        async with running.http.get(f"/webhooks/sms/vonage?{tampered}") as response:
            assert response.status == 403
        assert running.count("complaints") == 0
        async with running.http.get(f"/webhooks/sms/vonage?{signed}") as response:
            assert response.status == 200
        [(text, phone)] = query(running, "SELECT text, reporter_phone FROM complaints")
        assert text.startswith("Pungutan liar di kantor desa") and phone == CITIZEN
        running.clock.advance(hours=23, minutes=50)
        async with running.http.get(f"/webhooks/sms/vonage?{signed}") as response:
            assert response.status == 200  # Vonage's retry after our outage: taken…
        assert running.count("complaints") == 1  # … once, by its messageId
        running.clock.advance(hours=1)
        async with running.http.get(f"/webhooks/sms/vonage?{signed}") as response:
            assert response.status == 403  # older than any retry of Vonage's: a replay
    finally:
        await running.stop()
