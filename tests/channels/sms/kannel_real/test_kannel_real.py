"""SMS to 1708 through real Kannel (bearerbox, smsbox, fakesmsc), configured as the README
says: what the citizen types arrives as a complaint, and what the gateway answers reaches
the phone as one message, on the get-url answer and through sendsms.

The fakes (tests/fakes/kannel_sendsms.py, the get-url queries of tests/gateway) stay for
what they do better: refusals, failures and timing. These show what the real daemons do
with the README's groups.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from channels.sms.segments import segment_count, split_segments
from channels.sms.udh import parse_concat
from tests.channels.sms.kannel_real.conftest import CONCAT_TIMEOUT_SECONDS, Rig
from tests.channels.sms.kannel_real.daemons import SHORT_CODE, Setup, Sms, shown
from tests.conftest import eventually
from tests.gateway.sms_support import tracking_id_in

CITIZEN = "+6281234567890"
# What smsbox logs when a get-url finds no gateway.
COULD_NOT_FETCH_GATEWAY = "ERROR: Couldn't fetch <http://127.0.0.1:"
TEXT = "Jalan rusak di depan Pasar Delta Pawan, lubang besar, dua motor jatuh minggu ini."
# Two SMS as a phone cuts them: 153 septets, then the rest.
LONG_TEXT = (
    "Jembatan kayu di Desa Sukamaju, Kecamatan Delta Pawan, retak di tiga tempat sejak banjir "
    "minggu lalu. Anak-anak sekolah tetap melewatinya setiap pagi karena tidak ada jalan lain. "
    "Mohon segera diperbaiki sebelum ada korban."
)


def stored_replies(rig: Rig, sender: str) -> list[str]:
    """What the gateway answered `sender`: in the get-url answers and through sendsms."""
    inline = rig.rows(
        "SELECT reply FROM sms_messages WHERE sender = ? AND reply_via = 'http'"
        " ORDER BY received_at",
        (sender,),
    )
    sent = rig.rows(
        "SELECT text FROM sms_outbound WHERE recipient = ? AND state = 'sent' ORDER BY created_at",
        (sender,),
    )
    return [str(text) for (text,) in inline + sent]


async def test_a_plain_sms_is_filed_and_answered(rig: Rig) -> None:
    await rig.phones.text(CITIZEN, TEXT)

    reply = await rig.phones.message(CITIZEN)

    ((tracking_id, text, flags),) = rig.complaints(CITIZEN)
    assert (text, flags) == (TEXT, "")
    assert tracking_id_in(reply) == tracking_id
    assert stored_replies(rig, CITIZEN) == [reply]
    assert {sms.sender for sms in rig.phones.inbox(CITIZEN)} == {SHORT_CODE}


async def test_a_ucs2_sms_with_an_emoji_keeps_every_character(rig: Rig) -> None:
    text = "Banjir 🌊 setinggi lutut di RT 03 Sampit"

    await rig.phones.ucs2(CITIZEN, text)

    reply = await rig.phones.message(CITIZEN)
    ((tracking_id, filed, _),) = rig.complaints(CITIZEN)
    assert filed == text
    assert tracking_id_in(reply) == tracking_id


@pytest.mark.parametrize(
    "kannel_setup",
    [
        pytest.param(Setup(), id="kannel-joins"),
        pytest.param(Setup(combine_parts=False), id="gateway-joins-from-udh"),
    ],
)
async def test_a_two_part_sms_is_one_complaint(rig: Rig, kannel_setup: Setup) -> None:
    first, second = split_segments(LONG_TEXT)

    await rig.phones.part(CITIZEN, first, reference=0xCC, total=2, seq=1)
    await rig.phones.part(CITIZEN, second, reference=0xCC, total=2, seq=2)

    reply = await rig.phones.message(CITIZEN)
    ((tracking_id, text, flags),) = rig.complaints(CITIZEN)
    assert (text, flags) == (LONG_TEXT, "")
    assert tracking_id_in(reply) == tracking_id
    # Who joined it: bearerbox hands over one SMS, or smsbox each part with its UDH (%u).
    parts_kept = rig.rows("SELECT count(*) FROM sms_parts")[0][0]
    assert parts_kept == (0 if kannel_setup.combine_parts else 2)


async def test_a_reply_of_two_sms_reaches_the_phone_as_one_message(rig: Rig) -> None:
    await rig.phones.text(CITIZEN, TEXT)

    reply = await rig.phones.message(CITIZEN)

    first, second = (parse_concat(sms.udh) for sms in rig.phones.inbox(CITIZEN))
    assert first is not None and second is not None, "parts without a concatenation UDH"
    assert (first.total, first.seq, second.total, second.seq) == (2, 1, 2, 2)
    assert first.reference == second.reference
    assert segment_count(reply) == 2
    assert stored_replies(rig, CITIZEN) == [reply]


async def test_cek_answers_the_state_of_the_citizens_case(rig: Rig) -> None:
    await rig.phones.text(CITIZEN, TEXT)
    tracking_id = tracking_id_in(await rig.phones.message(CITIZEN))

    async def opened() -> int:
        return len(rig.rows("SELECT 1 FROM cases WHERE tracking_id = ?", (tracking_id,)))

    await eventually(opened, lambda n: n == 1)  # the dispatcher opens the case

    await rig.phones.text(CITIZEN, f"cek {tracking_id.lower()}")

    _, status = await rig.phones.messages(CITIZEN, 2)
    assert status.startswith(f"LAPOR! {tracking_id}: Diterima, menunggu verifikasi")
    assert "Batas penyelesaian" in status
    assert stored_replies(rig, CITIZEN)[-1] == status


@pytest.mark.parametrize("kannel_setup", [Setup(combine_timeout=1)], ids=["kannel-waits-1s"])
async def test_a_long_sms_missing_a_part_is_filed_by_the_timeout_and_answered_by_sendsms(
    rig: Rig,
) -> None:
    first, _ = split_segments(LONG_TEXT)

    await rig.phones.part(CITIZEN, first, reference=0x4E, total=2, seq=1)

    # bearerbox holds the part 1 s, the gateway CONCAT_TIMEOUT_SECONDS more.
    reply = await rig.phones.message(CITIZEN, within=CONCAT_TIMEOUT_SECONDS + 15)
    ((tracking_id, text, flags),) = rig.complaints(CITIZEN)
    marker = "[Sebagian pesan tidak diterima: bagian 2 dari 2 tidak sampai]"
    assert (text, flags) == (f"{first.rstrip()}\n{marker}", "incomplete")
    assert tracking_id_in(reply) == tracking_id
    (sent,) = rig.rows(
        "SELECT text, purpose, state FROM sms_outbound WHERE recipient = ?", (CITIZEN,)
    )
    assert sent == (reply, "reply", "sent")
    assert len(rig.phones.inbox(CITIZEN)) == 2  # the part's own answer was empty: no SMS


async def test_sms_sent_while_the_gateway_restarts_are_each_filed_once_and_answered(
    rig: Rig,
) -> None:
    citizens = [f"+62812000000{n:02d}" for n in range(3)]
    await rig.stop_gateway()

    for n, citizen in enumerate(citizens):
        await rig.phones.text(citizen, f"{TEXT} (laporan {n})")
    await rig.kannel.wait_logged("smsbox", COULD_NOT_FETCH_GATEWAY, len(citizens))
    await rig.start_gateway()

    for n, citizen in enumerate(citizens):
        reply = await rig.phones.message(citizen, within=20)
        ((tracking_id, text, _),) = rig.complaints(citizen)
        assert text == f"{TEXT} (laporan {n})"
        assert tracking_id_in(reply) == tracking_id
    assert rig.rows("SELECT count(*) FROM complaints")[0][0] == len(citizens)


WITHOUT_CONCATENATION = Setup().readme.without("concatenation = true")


@pytest.mark.parametrize(
    "kannel_setup", [Setup(readme=WITHOUT_CONCATENATION)], ids=["without-concatenation"]
)
async def test_without_concatenation_a_long_reply_arrives_cut_in_two(rig: Rig) -> None:
    """The defect the README's `concatenation = true` mends: this is what phones got."""
    await rig.phones.text(CITIZEN, TEXT)

    shows = await rig.phones.messages(CITIZEN, 2)

    (reply,) = stored_replies(rig, CITIZEN)
    assert shows == [reply[:160], reply[160:]]
    assert all(sms.udh == b"" for sms in rig.phones.inbox(CITIZEN))
    assert " " not in reply[159:161]  # cut inside a word: here, the tracking ID


@pytest.mark.parametrize(
    "kannel_setup",
    [Setup(readme=replace(Setup().readme, smsbox_lines=""))],
    ids=["smsbox-defaults"],
)
async def test_without_retries_an_sms_sent_while_the_gateway_is_down_is_lost(rig: Rig) -> None:
    """What the README's smsbox lines mend. smsbox texts `reply-couldnotfetch` only when it
    gives up on the get-url (gw/smsbox.c, url_result_thread): the SMS is dropped."""
    await rig.stop_gateway()

    await rig.phones.text(CITIZEN, TEXT)

    assert await rig.phones.message(CITIZEN) == "Could not fetch content, sorry."


def test_shown_joins_parts_by_reference_and_keeps_plain_sms_apart() -> None:
    def part(ref: int, seq: int, text: str) -> Sms:
        return Sms(SHORT_CODE, CITIZEN, text, bytes((5, 0, 3, ref, 2, seq)))

    inbox = [
        part(7, 2, "dua"),
        Sms(SHORT_CODE, CITIZEN, "tunggal"),
        part(7, 1, "satu "),
        part(8, 1, "tanpa akhir"),
    ]

    assert shown(inbox) == ["tunggal", "satu dua"]
