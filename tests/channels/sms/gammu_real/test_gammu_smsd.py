"""The real gammu-smsd on its dummy phone, the real gateway process, one Gammu database:
SMS from citizens arrive on the phone, gammu-smsd puts them in its inbox, the gateway files
them and queues its answers in the outbox, and the phone transmits them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.rows import parse_ts
from tests.channels.sms.gammu_real.daemon import Rig
from tests.gateway.sms_support import CITIZEN, NEIGHBOUR, TEXT, tracking_id_in

LONG = (
    "Jalan poros Desa Sungai Awan Kiri rusak parah sejak bulan lalu, banyak lubang besar dan "
    "tergenang air setiap hujan sehingga motor warga sering jatuh di malam hari. Mohon segera "
    "diperbaiki oleh dinas terkait."
)
# Two zones of Indonesia's and one west of UTC, where a misread time lies in the past.
ZONES = ["Asia/Jakarta", "Asia/Makassar", "America/Sao_Paulo"]


@pytest.mark.parametrize("zone", ZONES)
async def test_a_plain_sms_is_filed_at_the_moment_it_came_and_answered(rig: Rig) -> None:
    at = rig.phone.receive(CITIZEN, TEXT)

    (reply,) = await rig.sent_to(CITIZEN, 1)

    complaint = rig.complaint(tracking_id_in(reply))
    assert complaint["text"] == TEXT
    assert complaint["reply_address"] == CITIZEN
    assert parse_ts(complaint["received_at"]) == at


async def test_a_ucs2_sms_with_emoji(rig: Rig) -> None:
    text = "Lampu jalan di Jl. Merdeka mati 😡 sudah 3 hari, rawan begal. Mohon diperbaiki 🙏"
    rig.phone.receive(CITIZEN, text)

    (reply,) = await rig.sent_to(CITIZEN, 1)

    assert rig.complaint(tracking_id_in(reply))["text"] == text


async def test_a_two_part_sms_is_one_complaint(rig: Rig) -> None:
    rig.phone.receive(CITIZEN, LONG[:153], udh="050003A70201")
    rig.phone.receive(CITIZEN, LONG[153:], udh="050003A70202")

    (reply,) = await rig.sent_to(CITIZEN, 1)

    assert rig.complaint(tracking_id_in(reply))["text"] == LONG
    assert rig.complaint_count() == 1


async def test_cek_answers_with_the_state(rig: Rig) -> None:
    rig.phone.receive(CITIZEN, TEXT)
    (ack,) = await rig.sent_to(CITIZEN, 1)
    tracking_id = tracking_id_in(ack)

    rig.phone.receive(CITIZEN, f"cek {tracking_id}")

    _, status = await rig.sent_to(CITIZEN, 2)
    assert status.startswith(f"LAPOR! {tracking_id}:")
    assert rig.complaint_count() == 1


async def test_a_long_sms_whose_second_part_never_came_is_filed_and_answered_later(
    rig: Rig,
) -> None:
    """gammu-smsd gives up waiting first (MultipartTimeout) and stores the part alone; the
    gateway waits its own timeout, files what came, and answers through the outbox."""
    rig.phone.receive(CITIZEN, LONG[:153], udh="050003B70201")

    (reply,) = await rig.sent_to(CITIZEN, 1)

    complaint = rig.complaint(tracking_id_in(reply))
    assert complaint["text"] == (
        f"{LONG[:153].strip()}\n[Sebagian pesan tidak diterima: bagian 2 dari 2 tidak sampai]"
    )
    assert "incomplete" in complaint["flags"]


async def test_a_backlog_from_while_both_were_down_is_filed_after_a_restart(rig: Rig) -> None:
    assert rig.gateway is not None
    await rig.gateway.kill()
    rig.smsd.stop()
    citizens = [f"+628120000000{n}" for n in range(3)]
    for n, number in enumerate(citizens):
        rig.phone.receive(number, f"{TEXT} Laporan ke-{n + 1}.")
    await rig.smsd.start()
    await rig.backlog(3)

    await rig.start_gateway()

    for n, number in enumerate(citizens):
        (reply,) = await rig.sent_to(number, 1)
        assert rig.complaint(tracking_id_in(reply))["text"] == f"{TEXT} Laporan ke-{n + 1}."
    assert rig.db.unprocessed() == []


async def test_an_sms_under_an_inbox_id_gammu_gave_before_is_filed_and_answered(
    rig: Rig,
) -> None:
    rig.phone.receive(CITIZEN, TEXT)
    await rig.sent_to(CITIZEN, 1)
    first_ids = rig.db.inbox_ids()

    await rig.number_inbox_from_one_again()
    other = "Sampah di Pasar Delta Pawan menumpuk sejak seminggu, baunya sampai ke sekolah."
    rig.phone.receive(NEIGHBOUR, other)

    (reply,) = await rig.sent_to(NEIGHBOUR, 1)
    assert rig.db.inbox_ids() == first_ids  # Gammu's numbering began again
    assert rig.complaint(tracking_id_in(reply))["text"] == other
    assert rig.complaint_count() == 2


@pytest.mark.parametrize(("zone", "smsd_zone"), [("UTC", "Asia/Jakarta")])
async def test_gammu_writing_in_another_zone_is_said_as_a_configuration_error(rig: Rig) -> None:
    """gammu-smsd in WIB, its database and the gateway in UTC: every time seven hours
    ahead. Filed as received now, and said."""
    at = rig.phone.receive(CITIZEN, TEXT)

    (reply,) = await rig.sent_to(CITIZEN, 1)

    received = parse_ts(rig.complaint(tracking_id_in(reply))["received_at"])
    assert at <= received <= at + timedelta(seconds=15)
    errors = [line for line in rig.output().splitlines() if " ERROR " in line]
    assert len(errors) == 1, errors
    assert "Configuration error: gammu SMS" in errors[0]
    assert "?timezone=" in errors[0] and "TZ=UTC" in errors[0]
