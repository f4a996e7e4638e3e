"""Queueing replies in Gammu's outbox, on MariaDB (MyISAM tables) and on SQLite."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from channels.sms.gammu.database import GammuDatabase
from channels.sms.gammu.outbox import GammuSender
from channels.sms.models import ConcatPart, OutgoingSms, SendError, SmsSender
from channels.sms.segments import split_segments
from channels.sms.udh import parse_concat_hex
from tests.channels.sms.gammu.smsd import Backend, host_zone
from tests.conftest import eventually

TO = "+6281234567890"
SHORT = "Laporan Anda diterima dengan nomor LPR7KX2Q. Terima kasih."
LONG = (
    "Laporan Anda tentang jalan rusak di Desa Sungai Awan sudah diteruskan ke Dinas PUPR. " * 4
)[:300]
EMOJI = "Terima kasih 🙏 laporan Anda sudah kami terima."
LONG_EMOJI = "Terima kasih 🙏 " + "laporan Anda sedang kami periksa. " * 3

# text → (Gammu coding, sent as a concatenated SMS)
CASES: dict[str, tuple[str, str, bool]] = {
    "short-gsm7": (SHORT, "Default_No_Compression", False),
    "300-characters": (LONG, "Default_No_Compression", True),
    "emoji": (EMOJI, "Unicode_No_Compression", False),
    "long-with-emoji": (LONG_EMOJI, "Unicode_No_Compression", True),
}


def reply(text: str, reply_id: str = "out-0001") -> OutgoingSms:
    return OutgoingSms(id=reply_id, to=TO, text=text)


def due(backend: Backend) -> Callable[[], Awaitable[list[int]]]:
    async def probe() -> list[int]:
        return backend.gammu.outbox_due()

    return probe


def queued(backend: Backend) -> list[dict[str, object]]:
    """The message's parts as Gammu will read them: outbox first, then outbox_multipart."""
    first = backend.gammu.rows(
        "SELECT ID, 1 AS SequencePosition, DestinationNumber, Coding, TextDecoded, UDH,"
        " MultiPart, CreatorID FROM outbox"
    )
    rest = backend.gammu.rows(
        "SELECT ID, SequencePosition, Coding, TextDecoded, UDH FROM outbox_multipart"
        " ORDER BY SequencePosition"
    )
    return first + rest


@pytest.mark.parametrize(("text", "coding", "multipart"), CASES.values(), ids=CASES.keys())
async def test_a_reply_is_queued_as_gammu_documents_it(
    backend: Backend, db: GammuDatabase, text: str, coding: str, multipart: bool
) -> None:
    result = await GammuSender(db).send(reply(text))

    parts = queued(backend)
    count = len(split_segments(text))
    assert len(parts) == count
    assert (count > 1) == multipart
    first = parts[0]
    assert result.provider_id == str(first["ID"])
    assert (first["DestinationNumber"], first["CreatorID"]) == (TO, "lapor-gateway:out-0001")
    assert first["MultiPart"] == ("true" if multipart else "false")
    assert {part["ID"] for part in parts} == {first["ID"]}
    assert [part["SequencePosition"] for part in parts] == list(range(1, count + 1))
    assert {part["Coding"] for part in parts} == {coding}
    assert "".join(str(part["TextDecoded"]) for part in parts) == text


async def test_long_reply_parts_carry_a_concat_udh_from_the_reply_id(
    backend: Backend, db: GammuDatabase
) -> None:
    await GammuSender(db).send(reply(LONG, "out-0042"))

    reference = zlib.crc32(b"out-0042") & 0xFF
    total = len(split_segments(LONG))
    assert [parse_concat_hex(str(part["UDH"])) for part in queued(backend)] == [
        ConcatPart(reference=reference, total=total, seq=seq) for seq in range(1, total + 1)
    ]


async def test_a_single_sms_has_no_udh(backend: Backend, db: GammuDatabase) -> None:
    await GammuSender(db).send(reply(SHORT))

    assert [part["UDH"] or "" for part in queued(backend)] == [""]


@pytest.mark.parametrize("text", [SHORT, LONG], ids=["single", "multipart"])
async def test_gammu_picks_the_queued_reply_up(
    backend: Backend, db: GammuDatabase, text: str
) -> None:
    result = await GammuSender(db).send(reply(text))

    # Gammu takes rows whose SendingDateTime has passed, so wait for the next second.
    assert await eventually(due(backend), bool, within=3.0) == [int(str(result.provider_id))]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_gammu_west_of_utc_picks_the_reply_up_at_once(backend: Backend) -> None:
    """Gammu compares with its local time, while its SQLite schema's defaults are UTC: a
    row left to them would wait three hours in São Paulo."""
    with host_zone("America/Sao_Paulo"):
        db = GammuDatabase.from_url(backend.url)
        result = await GammuSender(db).send(reply(SHORT))
        await db.close()

        assert await eventually(due(backend), bool, within=3.0) == [int(str(result.provider_id))]


async def test_the_same_reply_twice_is_queued_once(backend: Backend, db: GammuDatabase) -> None:
    sender = GammuSender(db)

    first = await sender.send(reply(LONG))
    again = await sender.send(reply(LONG))

    assert again == first
    assert len(backend.gammu.rows("SELECT ID FROM outbox")) == 1
    assert (
        len(backend.gammu.rows("SELECT ID FROM outbox_multipart")) == len(split_segments(LONG)) - 1
    )


async def test_a_reply_gammu_already_sent_is_not_queued_again(
    backend: Backend, db: GammuDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    sender = GammuSender(db)
    first = await sender.send(reply(SHORT))
    # What gammu-smsd does after sending: a sentitems row with the CreatorID, outbox emptied.
    backend.gammu.execute(
        "INSERT INTO sentitems (ID, SequencePosition, Status, CreatorID, SenderID, Text,"
        " DestinationNumber, Coding, UDH, TextDecoded) VALUES (?, 1, 'SendingOKNoReport', ?,"
        " 'ketapang-modem', '', ?, 'Default_No_Compression', '', ?)",
        (int(str(first.provider_id)), "lapor-gateway:out-0001", TO, SHORT),
    )
    backend.gammu.execute("DELETE FROM outbox")

    again = await sender.send(reply(SHORT))

    assert again == first
    assert backend.gammu.rows("SELECT ID FROM outbox") == []
    assert "sentitems holds 'lapor-gateway:out-0001' already" in caplog.text


async def test_a_row_left_held_by_an_interrupted_try_does_not_count(
    backend: Backend, db: GammuDatabase
) -> None:
    held = backend.gammu.execute(
        "INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID, SendingDateTime)"
        " VALUES (?, ?, 'lapor-gateway:out-0001', '2038-01-01 00:00:00')",
        (TO, SHORT),
    )

    result = await GammuSender(db).send(reply(SHORT))

    assert result.provider_id != str(held)
    assert await eventually(due(backend), bool, within=3.0) == [int(str(result.provider_id))]


UNREACHABLE = "mysql://root@127.0.0.1:1/kalkun"

# a reply Gammu could never send → why; refused before the database is asked
UNSENDABLE: dict[str, tuple[OutgoingSms, str]] = {
    "id-too-long-for-creator-id": (reply(SHORT, "x" * 190), "CreatorID"),
    "more-than-255-parts": (reply("a" * (255 * 153 + 1)), "at most 255"),
}


@pytest.mark.parametrize(("message", "reason"), UNSENDABLE.values(), ids=UNSENDABLE.keys())
async def test_an_unsendable_reply_is_a_permanent_failure(
    message: OutgoingSms, reason: str
) -> None:
    with pytest.raises(SendError, match=reason) as raised:
        await GammuSender(GammuDatabase.from_url(UNREACHABLE)).send(message)

    assert not raised.value.transient


async def test_an_unreachable_database_is_a_transient_failure() -> None:
    sender: SmsSender = GammuSender(GammuDatabase.from_url(UNREACHABLE))

    with pytest.raises(SendError) as raised:
        await sender.send(reply(SHORT))

    assert raised.value.transient
    await sender.close()


async def test_a_missing_sqlite_file_is_a_transient_failure(tmp_path: Path) -> None:
    sender = GammuSender(GammuDatabase.from_url(f"sqlite:///{tmp_path}/not-yet-mounted/smsd.db"))

    with pytest.raises(SendError) as raised:
        await sender.send(reply(SHORT))

    assert raised.value.transient


@pytest.mark.parametrize(
    ("table", "text"),
    [("outbox", SHORT), ("outbox_multipart", LONG)],
    ids=["no-outbox", "no-outbox_multipart"],
)
async def test_a_schema_without_the_table_is_a_permanent_failure(
    backend: Backend, db: GammuDatabase, table: str, text: str
) -> None:
    backend.gammu.execute(f"DROP TABLE {table}")

    with pytest.raises(SendError) as raised:
        await GammuSender(db).send(reply(text))

    assert not raised.value.transient
    assert table in raised.value.detail
    assert text not in raised.value.detail
    if table == "outbox_multipart":
        # MyISAM cannot roll back: the first part must have been taken out again.
        assert backend.gammu.rows("SELECT ID FROM outbox") == []


async def test_the_sender_is_named_gammu(db: GammuDatabase) -> None:
    sender: SmsSender = GammuSender(db)

    assert sender.name == "gammu"
