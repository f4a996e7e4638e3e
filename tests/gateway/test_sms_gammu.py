"""A GSM modem run by Gammu SMSD (with Kalkun beside it): SMS rows in its inbox become
`diterima` cases, rows are marked processed only once filed, replies land in its outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
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
from tests.gateway.sms_support import CITIZEN, TEXT, tracking_id_in
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


async def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def _complaints(running: Running) -> Callable[[], Awaitable[int]]:
    async def probe() -> int:
        return running.count("complaints")

    return probe
