"""Reading Gammu's inbox as gammu-smsd fills it, on MariaDB and on SQLite."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.sms.gammu.database import GammuDatabase, GammuDatabaseError
from channels.sms.gammu.inbox import GammuInbox
from channels.sms.models import ConcatPart, SmsMessage
from store.sms import gateway_id
from tests.channels.sms.gammu.smsd import WIB, Backend, ucs2_hex

LONG_1 = (
    "Jalan poros Desa Sungai Awan Kiri rusak parah sejak bulan lalu, banyak lubang besar dan "
    "tergenang air setiap hujan sehingga motor warga sering jatuh di malam "
)
LONG_2 = "hari. Mohon segera diperbaiki oleh dinas terkait. Terima kasih."


@dataclass(frozen=True)
class Row:
    """A row's columns as gammu-smsd writes them (see GammuSide.receive)."""

    text: str
    text_decoded: str | None = None
    coding: str = "Default_No_Compression"
    udh: str = ""


A7_1 = ConcatPart(reference=0xA7, total=2, seq=1)
A7_2 = ConcatPart(reference=0xA7, total=2, seq=2)


def gsm(text: str, **columns: Any) -> Row:
    return Row(text=ucs2_hex(text), text_decoded=text, **columns)


def row_ids(messages: list[SmsMessage]) -> list[str]:
    """The inbox ID each message was read from."""
    return [gateway_id(m.message_id or "") for m in messages]


# rows as gammu-smsd stored them → (text, concatenation part) of each SmsMessage
CASES: dict[str, tuple[list[Row], list[tuple[str, ConcatPart | None]]]] = {
    "gsm7-text": (
        [gsm("Jalan rusak di Desa Sungai Awan, mohon diperbaiki @Dinas PUPR")],
        [("Jalan rusak di Desa Sungai Awan, mohon diperbaiki @Dinas PUPR", None)],
    ),
    "unicode-with-emoji": (
        [gsm("Lampu jalan mati 😡 sudah 3 hari", coding="Unicode_No_Compression")],
        [("Lampu jalan mati 😡 sudah 3 hari", None)],
    ),
    "8bit-without-text-decoded": (
        [
            Row(
                text="Banjir 50 cm – Jl. Merdeka".encode().hex().upper(),
                text_decoded="",
                coding="8bit",
            )
        ],
        [("Banjir 50 cm – Jl. Merdeka", None)],
    ),
    # gammu-smsd 1.42 puts the whole message into TextDecoded of the first part only.
    "long-sms-as-gammu-1.42-stores-it": (
        [
            Row(ucs2_hex(LONG_1), text_decoded=LONG_1 + LONG_2, udh="050003A70201"),
            Row(ucs2_hex(LONG_2), text_decoded="", udh="050003A70202"),
        ],
        [(LONG_1, A7_1), (LONG_2, A7_2)],
    ),
    "long-sms-each-part-decoded": (
        [gsm(LONG_1, udh="050003A70201"), gsm(LONG_2, udh="050003A70202")],
        [(LONG_1, A7_1), (LONG_2, A7_2)],
    ),
    "written-by-another-program-without-text": (
        [Row(text="", text_decoded="Sampah menumpuk di pasar")],
        [("Sampah menumpuk di pasar", None)],
    ),
    "unreadable-udh-taken-as-single-sms": (
        [gsm("Air PDAM keruh", udh="0500")],
        [("Air PDAM keruh", None)],
    ),
}


@pytest.mark.parametrize(("rows", "expected"), CASES.values(), ids=CASES.keys())
async def test_rows_become_sms(
    backend: Backend,
    db: GammuDatabase,
    rows: list[Row],
    expected: list[tuple[str, ConcatPart | None]],
) -> None:
    ids = [
        backend.gammu.receive(
            text=row.text, text_decoded=row.text_decoded, coding=row.coding, udh=row.udh
        )
        for row in rows
    ]

    messages = await GammuInbox(db).fetch_unprocessed(10)

    assert row_ids(messages) == [str(i) for i in ids]
    assert [(m.text, m.part) for m in messages] == expected


async def test_message_fields_and_raw_row(backend: Backend, db: GammuDatabase) -> None:
    received = datetime(2026, 8, 14, 10, 5, 30, tzinfo=WIB)
    row_id = backend.gammu.receive(
        text=ucs2_hex("Tolong cek"),
        text_decoded="Tolong cek",
        received_at=received,
        sender="081234567890",  # as some networks present a national caller
    )

    (message,) = await GammuInbox(db).fetch_unprocessed(10)

    assert message.gateway == "gammu"
    assert message.sender == "+6281234567890"
    assert message.recipient == "ketapang-modem"
    assert message.received_at == datetime(2026, 8, 14, 3, 5, 30, tzinfo=UTC)
    assert message.raw.content_type == "application/json"
    raw = json.loads(message.raw.body)
    assert raw["ID"] == row_id
    assert raw["TextDecoded"] == "Tolong cek"
    assert raw["SMSCNumber"] == "+6281100000"
    # Kalkun's columns come along untouched.
    assert (raw["id_folder"], raw["readed"]) == (1, "false")


async def test_processed_rows_and_ussd_are_left_out(backend: Backend, db: GammuDatabase) -> None:
    done = backend.gammu.receive(text=ucs2_hex("sudah"), text_decoded="sudah")
    backend.gammu.execute("UPDATE inbox SET Processed = 'true' WHERE ID = ?", (done,))
    backend.gammu.receive(text=ucs2_hex("Sisa pulsa Rp 5.000"), sms_class=127)
    waiting = backend.gammu.receive(text=ucs2_hex("baru"), text_decoded="baru")

    messages = await GammuInbox(db).fetch_unprocessed(10)

    assert row_ids(messages) == [str(waiting)]


async def test_a_sender_that_is_no_phone_number_is_set_aside(
    backend: Backend, db: GammuDatabase
) -> None:
    broadcast = backend.gammu.receive(text=ucs2_hex("Promo paket data!"), sender="TELKOMSEL")
    citizen = backend.gammu.receive(text=ucs2_hex("Jembatan putus"))
    inbox = GammuInbox(db)

    messages = await inbox.fetch_unprocessed(1)
    assert messages == []
    assert row_ids(await inbox.fetch_unprocessed(1)) == [str(citizen)]
    assert backend.gammu.rows("SELECT Processed FROM inbox WHERE ID = ?", (broadcast,)) == [
        {"Processed": "true"}
    ]


async def test_oldest_first_then_by_id_up_to_the_limit(backend: Backend, db: GammuDatabase) -> None:
    base = datetime(2026, 8, 14, 9, 0, tzinfo=WIB)
    late = backend.gammu.receive(text=ucs2_hex("c"), received_at=base + timedelta(minutes=5))
    early = backend.gammu.receive(text=ucs2_hex("a"), received_at=base)
    same_time = backend.gammu.receive(text=ucs2_hex("b"), received_at=base)

    inbox = GammuInbox(db)

    assert row_ids(await inbox.fetch_unprocessed(10)) == [str(early), str(same_time), str(late)]
    assert [m.text for m in await inbox.fetch_unprocessed(2)] == ["a", "b"]


async def test_marked_rows_are_not_fetched_again(backend: Backend, db: GammuDatabase) -> None:
    backend.gammu.receive(text=ucs2_hex("satu"))
    backend.gammu.receive(text=ucs2_hex("dua"))
    inbox = GammuInbox(db)
    fetched = await inbox.fetch_unprocessed(10)

    await inbox.mark_processed([m.message_id for m in fetched if m.message_id])

    assert await inbox.fetch_unprocessed(10) == []
    processed = backend.gammu.rows("SELECT Processed FROM inbox")
    assert [row["Processed"] for row in processed] == ["true", "true"]


async def test_a_row_arriving_after_the_fetch_stays_unprocessed(
    backend: Backend, db: GammuDatabase
) -> None:
    backend.gammu.receive(text=ucs2_hex("pertama"))
    inbox = GammuInbox(db)
    fetched = await inbox.fetch_unprocessed(10)
    later = backend.gammu.receive(text=ucs2_hex("kedua"))

    await inbox.mark_processed([m.message_id for m in fetched if m.message_id])

    assert row_ids(await inbox.fetch_unprocessed(10)) == [str(later)]


async def test_a_row_read_again_keeps_its_key(backend: Backend, db: GammuDatabase) -> None:
    row_id = backend.gammu.receive(text=ucs2_hex("Jembatan putus"))
    inbox = GammuInbox(db)

    (first,) = await inbox.fetch_unprocessed(10)
    (again,) = await inbox.fetch_unprocessed(10)

    assert first.message_id == again.message_id
    assert re.fullmatch(rf"{row_id}#[0-9a-f]{{16}}", str(first.message_id))


# what the SMS under the reused ID has of its own (the first came from CITIZEN at 10:00)
ANOTHER_SMS: dict[str, dict[str, Any]] = {
    "sender": {"sender": "+6285712345678"},
    "time": {"received_at": datetime(2026, 9, 1, 8, 0, tzinfo=WIB)},
    "text": {"text": ucs2_hex("Sampah menumpuk")},
    "part": {"udh": "050003A70201"},
}


@pytest.mark.parametrize("differs", ANOTHER_SMS.values(), ids=ANOTHER_SMS.keys())
async def test_an_sms_under_a_reused_id_has_another_key(
    backend: Backend, db: GammuDatabase, differs: dict[str, Any]
) -> None:
    """Gammu numbers its inbox from 1 again when its tables are rebuilt."""
    sms: dict[str, Any] = {"text": ucs2_hex("Jembatan putus"), "sender": "+6281234567890"}
    backend.gammu.receive(**sms)
    inbox = GammuInbox(db)
    (first,) = await inbox.fetch_unprocessed(10)
    backend.gammu.start_inbox_again()
    backend.gammu.receive(**(sms | differs))

    (second,) = await inbox.fetch_unprocessed(10)

    assert row_ids([second]) == row_ids([first])
    assert second.message_id != first.message_id


async def test_a_row_holding_another_sms_by_now_is_not_marked(
    backend: Backend, db: GammuDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    backend.gammu.receive(text=ucs2_hex("pertama"))
    inbox = GammuInbox(db)
    (taken,) = await inbox.fetch_unprocessed(10)
    backend.gammu.start_inbox_again()
    backend.gammu.receive(text=ucs2_hex("kedua"), sender="+6285712345678")

    await inbox.mark_processed([str(taken.message_id)])

    assert [m.text for m in await inbox.fetch_unprocessed(10)] == ["kedua"]
    assert f"no longer holds unprocessed SMS {taken.message_id!r}" in caplog.text


async def test_a_row_another_reader_marked_is_said(
    backend: Backend, db: GammuDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    row_id = backend.gammu.receive(text=ucs2_hex("diambil Kalkun"))
    inbox = GammuInbox(db)
    (taken,) = await inbox.fetch_unprocessed(10)
    backend.gammu.execute("UPDATE inbox SET Processed = 'true' WHERE ID = ?", (row_id,))

    await inbox.mark_processed([str(taken.message_id)])

    assert f"Gammu inbox row {row_id} was not marked processed" in caplog.text


async def test_mark_processed_of_nothing_touches_nothing(
    backend: Backend, db: GammuDatabase
) -> None:
    backend.gammu.receive(text=ucs2_hex("tetap"))
    inbox = GammuInbox(db)

    await inbox.mark_processed([])

    assert len(await inbox.fetch_unprocessed(10)) == 1


@pytest.mark.parametrize("limit", [0, -1])
async def test_a_limit_below_one_is_refused(db: GammuDatabase, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        await GammuInbox(db).fetch_unprocessed(limit)


async def test_an_unreachable_database_is_a_transient_error() -> None:
    inbox = GammuInbox(GammuDatabase.from_url("mysql://root@127.0.0.1:1/kalkun"))

    with pytest.raises(GammuDatabaseError) as raised:
        await inbox.fetch_unprocessed(10)

    assert raised.value.transient
    assert "mysql://root@127.0.0.1:1/kalkun" in raised.value.detail


async def test_a_schema_without_inbox_is_a_permanent_error(
    backend: Backend, db: GammuDatabase
) -> None:
    backend.gammu.execute("DROP TABLE inbox")

    with pytest.raises(GammuDatabaseError) as raised:
        await GammuInbox(db).fetch_unprocessed(10)

    assert not raised.value.transient
