"""A GSM modem run by Gammu SMSD (with Kalkun beside it): SMS rows in its inbox become
`diterima` cases, rows are marked processed only once filed, replies land in its outbox."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.channels.sms.gammu.smsd import (
    Backend,
    GammuSide,
    backend,
    host_in_ketapang,
    sqlite_database,
    ucs2_hex,
)
from tests.conftest import Running, eventually, start_gateway
from tests.gateway.sms_support import CITIZEN, NEIGHBOUR, TEXT, tracking_id_in
from tests.servers import mariadb
from workflow.states import CaseState

__all__ = ["backend", "host_in_ketapang", "mariadb"]  # fixtures used by the tests below


@pytest.fixture
async def modem(tmp_path: Path, backend: Backend) -> AsyncIterator[tuple[Running, Backend]]:
    running = await start_gateway(tmp_path, gammu_database_url=backend.url, gammu_poll_seconds=0.05)
    yield running, backend
    await running.stop()


async def replies(backend: Backend, n: int) -> list[dict[str, object]]:
    async def probe() -> list[dict[str, object]]:
        return backend.gammu.rows(
            "SELECT DestinationNumber, TextDecoded, CreatorID FROM outbox ORDER BY ID"
        )

    return await eventually(probe, lambda rows: len(rows) >= n)


async def test_an_inbox_row_becomes_a_case_and_the_reply_goes_to_the_outbox(
    modem: tuple[Running, Backend],
) -> None:
    running, backend = modem
    row_id = backend.gammu.receive(text=ucs2_hex(TEXT), text_decoded=TEXT)
    [reply] = await replies(backend, 1)
    assert reply["DestinationNumber"] == CITIZEN
    assert str(reply["CreatorID"]).startswith("lapor-gateway:")
    complaint = await running.store.get_complaint(tracking_id_in(str(reply["TextDecoded"])))
    assert complaint is not None and complaint.text == TEXT
    assert complaint.reporter.phone == CITIZEN
    [processed] = backend.gammu.rows("SELECT Processed FROM inbox WHERE ID = ?", (row_id,))
    assert processed["Processed"] == "true"
    case = await eventually(lambda: running.store.get_case(complaint.id), lambda c: c is not None)
    assert case is not None and case.state == CaseState.DITERIMA


async def test_a_long_sms_in_two_rows_out_of_order_is_one_complaint(
    modem: tuple[Running, Backend],
) -> None:
    running, backend = modem
    first, second = "Lampu jalan di Jalan Gajah Mada mati ", "sejak tiga malam, rawan begal."
    backend.gammu.receive(text=ucs2_hex(second), udh="050003A70202")
    backend.gammu.receive(text=ucs2_hex(first), text_decoded=first + second, udh="050003A70201")
    [reply] = await replies(backend, 1)
    complaint = await running.store.get_complaint(tracking_id_in(str(reply["TextDecoded"])))
    assert complaint is not None and complaint.text == (first + second).strip()
    assert running.count("complaints") == 1
    unprocessed = backend.gammu.rows("SELECT ID FROM inbox WHERE Processed = 'false'")
    assert unprocessed == []


async def test_cek_by_modem_answers_in_the_outbox(modem: tuple[Running, Backend]) -> None:
    running, backend = modem
    backend.gammu.receive(text=ucs2_hex(TEXT), text_decoded=TEXT)
    [ack] = await replies(backend, 1)
    tracking_id = tracking_id_in(str(ack["TextDecoded"]))
    backend.gammu.receive(text=ucs2_hex(f"CEK {tracking_id}"), text_decoded=f"CEK {tracking_id}")
    status = (await replies(backend, 2))[1]
    assert str(status["TextDecoded"]).startswith(f"LAPOR! {tracking_id}:")
    assert running.count("complaints") == 1


async def test_a_new_sms_under_a_reused_inbox_id_is_filed_and_answered(
    modem: tuple[Running, Backend],
) -> None:
    """Gammu's inbox rebuilt while our store keeps its records: Gammu numbers from 1 again,
    and the new SMS from another citizen is no old one."""
    running, backend = modem
    first = backend.gammu.receive(text=ucs2_hex(TEXT), text_decoded=TEXT)
    await replies(backend, 1)
    backend.gammu.start_inbox_again()
    other = "Lampu jalan di Jalan Gajah Mada mati sejak tiga malam, rawan begal."
    again = backend.gammu.receive(text=ucs2_hex(other), text_decoded=other, sender=NEIGHBOUR)
    assert again == first
    _, reply = await replies(backend, 2)
    assert reply["DestinationNumber"] == NEIGHBOUR
    complaint = await running.store.get_complaint(tracking_id_in(str(reply["TextDecoded"])))
    assert complaint is not None and complaint.text == other


# (UDH, text) of each row of an SMS
KEPT_BEFORE_FINGERPRINTS: dict[str, list[tuple[str, str]]] = {
    "single": [("", TEXT)],
    "two-part": [("050003A70201", TEXT[:40]), ("050003A70202", TEXT[40:])],
}


@pytest.mark.parametrize("rows", KEPT_BEFORE_FINGERPRINTS.values(), ids=KEPT_BEFORE_FINGERPRINTS)
async def test_an_sms_kept_under_its_bare_inbox_id_is_not_taken_again(
    modem: tuple[Running, Backend], caplog: pytest.LogCaptureFixture, rows: list[tuple[str, str]]
) -> None:
    """A version before fingerprints filed it and stopped before marking its rows processed:
    this one finds the record by ID, sender and time, and files nothing twice."""
    running, backend = modem
    for udh, text in rows:
        backend.gammu.receive(text=ucs2_hex(text), udh=udh)
    await replies(backend, 1)
    await eventually(_unprocessed(backend), lambda ids: ids == [])
    _key_as_before_fingerprints(running)
    backend.gammu.execute("UPDATE inbox SET Processed = 'false'")

    await eventually(_unprocessed(backend), lambda ids: ids == [])

    assert running.count("complaints") == 1
    assert running.count("sms_outbound") == 1  # no second receipt
    assert "was taken in before" in caplog.text


async def test_a_time_ahead_of_the_clock_is_taken_as_now_and_said_as_an_error(
    modem: tuple[Running, Backend], caplog: pytest.LogCaptureFixture
) -> None:
    """Gammu's times read in the wrong zone (here seven hours east): never hidden."""
    running, backend = modem
    ahead = running.clock() + timedelta(hours=7)
    texts = [f"{TEXT} ({n})" for n in range(3)]
    for text in texts[:2]:
        backend.gammu.receive(text=ucs2_hex(text), received_at=ahead)
    for reply in await replies(backend, 2):
        complaint = await running.store.get_complaint(tracking_id_in(str(reply["TextDecoded"])))
        assert complaint is not None and complaint.received_at == running.clock()
    running.clock.advance(minutes=10)
    backend.gammu.receive(text=ucs2_hex(texts[2]), received_at=ahead)
    await replies(backend, 3)

    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2  # once for the poll round, once ten minutes on
    assert "7:00:00 (h:mm:ss) ahead" in errors[0]
    assert "?timezone=" in errors[0] and "LAPOR_GAMMU_DATABASE_URL" in errors[0]
    assert "TZ=Asia/Pontianak" in errors[0]


async def test_the_poller_rides_out_gammus_database_being_away(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, host_in_ketapang: None
) -> None:
    """No database yet (Gammu not started, a disk not mounted): the gateway serves on and
    reads the inbox as soon as it is there."""
    folder = tmp_path / "gammu"
    path = folder / "smsd.db"
    running = await start_gateway(
        tmp_path, gammu_database_url=f"sqlite:///{path}", gammu_poll_seconds=0.05
    )
    try:
        await eventually(lambda: _logged(caplog), lambda lines: any("not read" in x for x in lines))
        async with running.http.get("/healthz") as response:
            assert response.status == 200
        folder.mkdir()
        sqlite_database(path)
        gammu = GammuSide("sqlite", lambda: sqlite3.connect(path))
        gammu.receive(text=ucs2_hex(TEXT), text_decoded=TEXT)
        await eventually(_complaints(running), lambda n: n == 1)
    finally:
        await running.stop()


def _unprocessed(backend: Backend) -> Callable[[], Awaitable[list[object]]]:
    async def probe() -> list[object]:
        return [
            row["ID"]
            for row in backend.gammu.rows("SELECT ID FROM inbox WHERE Processed = 'false'")
        ]

    return probe


def _key_as_before_fingerprints(running: Running) -> None:
    """The SMS records of Gammu rows as versions before fingerprints kept them: by ID."""
    bare = "substr({0}, 1, instr({0}, '#') - 1)"
    with sqlite3.connect(running.sqlite_store.path) as conn:
        for table, column in (
            ("sms_messages", "message_id"),
            ("sms_parts", "message_id"),
            ("complaints", "external_id"),
        ):
            conn.execute(
                f"UPDATE {table} SET {column} = {bare.format(column)} WHERE instr({column}, '#')"
            )


async def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def _complaints(running: Running) -> Callable[[], Awaitable[int]]:
    async def probe() -> int:
        return running.count("complaints")

    return probe
