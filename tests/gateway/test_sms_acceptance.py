"""The SMS channel's promise, once per gateway: an SMS to 1708 becomes a `diterima` case
with the sender in E.164, the citizen gets the tracking ID by SMS, and `CEK <ID>` answers
with the status. Each gateway is driven the way it really delivers and replies."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.channels.sms.gammu.smsd import (
    GammuSide,
    drop_mariadb_database,
    mariadb_database,
    sqlite_database,
    ucs2_hex,
)
from tests.conftest import Running, eventually, start_gateway
from tests.fakes.vonage_api import FakeVonage
from tests.gateway.sms_support import (
    CITIZEN,
    SMS_SETTINGS,
    TEXT,
    VONAGE_KEY,
    VONAGE_SECRET,
    kannel_sms,
    tracking_id_in,
    twilio_sms,
    twiml_text,
    vonage_sms,
)
from tests.servers import Server, connect_mariadb, mariadb  # noqa: F401 (a fixture)
from workflow.states import CaseState

# An SMS in, the reply SMS out, as the citizen's phone would see them.
Exchange = Callable[[str], Awaitable[str]]


async def _last_of(probe: Callable[[], list[str]], before: int) -> str:
    async def read() -> list[str]:
        return probe()

    return (await eventually(read, lambda texts: len(texts) > before))[-1]


async def twilio(
    stack: AsyncExitStack, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Running, Exchange]:
    running = await start_gateway(tmp_path, **SMS_SETTINGS)

    async def exchange(text: str) -> str:
        status, twiml = await twilio_sms(running, text, sender=CITIZEN)
        assert status == 200
        return twiml_text(twiml) or ""

    return running, exchange


async def vonage(
    stack: AsyncExitStack, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Running, Exchange]:
    fake = await stack.enter_async_context(FakeVonage(VONAGE_KEY, VONAGE_SECRET))
    settings = SMS_SETTINGS | {"vonage_api_secret": VONAGE_SECRET, "vonage_api_url": fake.base_url}
    running = await start_gateway(tmp_path, **settings)

    async def exchange(text: str) -> str:
        before = len(fake.sent)
        assert await vonage_sms(running, msisdn="6281234567890", text=text) == 200
        return await _last_of(lambda: [m["text"] for m in fake.sent], before)

    return running, exchange


async def kannel(
    stack: AsyncExitStack, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Running, Exchange]:
    running = await start_gateway(tmp_path, **SMS_SETTINGS)

    async def exchange(text: str) -> str:
        status, body = await kannel_sms(running, text.encode(), sender="0812-3456-7890")
        assert status == 200
        return body

    return running, exchange


async def gammu_mariadb(
    stack: AsyncExitStack, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Running, Exchange]:
    server: Server = request.getfixturevalue("mariadb")  # the machine's, or a private one
    name = f"lapor_accept_{secrets.token_hex(6)}"
    mariadb_database(name, server)
    stack.callback(drop_mariadb_database, name, server)
    side = GammuSide("mysql", lambda: connect_mariadb(replace(server, database=name)))
    return await _gammu(tmp_path, server.url("mysql", name), side)


async def gammu_sqlite(
    stack: AsyncExitStack, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Running, Exchange]:
    path = tmp_path / "smsd.db"
    sqlite_database(path)
    side = GammuSide("sqlite", lambda: sqlite3.connect(path))
    return await _gammu(tmp_path, f"sqlite:///{path}?timezone=UTC", side)


async def _gammu(tmp_path: Path, url: str, side: GammuSide) -> tuple[Running, Exchange]:
    running = await start_gateway(tmp_path, gammu_database_url=url, gammu_poll_seconds=0.05)

    def outbox() -> list[str]:
        return [str(r["TextDecoded"]) for r in side.rows("SELECT TextDecoded FROM outbox")]

    async def exchange(text: str) -> str:
        before = len(outbox())
        side.receive(text=ucs2_hex(text), text_decoded=text, sender=CITIZEN)
        return await _last_of(outbox, before)

    return running, exchange


Start = Callable[[AsyncExitStack, Path, pytest.FixtureRequest], Awaitable[tuple[Running, Exchange]]]
GATEWAYS: dict[str, Start] = {
    "twilio": twilio,
    "vonage": vonage,
    "kannel": kannel,
    "gammu-mariadb": gammu_mariadb,
    "gammu-sqlite": gammu_sqlite,
}


@pytest.fixture(params=list(GATEWAYS))
async def gateway_sms(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Running, Exchange]]:
    async with AsyncExitStack() as stack:
        running, exchange = await GATEWAYS[request.param](stack, tmp_path, request)
        stack.push_async_callback(running.stop)
        yield running, exchange


async def test_an_sms_becomes_a_case_answered_with_its_id_and_cek_tells_its_status(
    gateway_sms: tuple[Running, Exchange],
) -> None:
    running, exchange = gateway_sms
    ack = await exchange(f"LAPOR {TEXT}")
    tracking_id = tracking_id_in(ack)
    assert f"CEK {tracking_id} ke 1708" in ack

    complaint = await running.store.get_complaint(tracking_id)
    assert complaint is not None and complaint.text == TEXT
    assert complaint.received_at <= running.clock()  # a modem's clock ahead is not believed
    assert complaint.reporter.phone == CITIZEN  # E.164, however the gateway wrote it

    async def case() -> Any:
        return await running.store.get_case(complaint.id)

    opened = await eventually(case, lambda c: c is not None)
    assert opened.state == CaseState.DITERIMA

    status = await exchange(f"cek {tracking_id.lower()}")
    assert status.startswith(f"LAPOR! {tracking_id}: ")
    assert running.profile.message("state.diterima") in status
    assert running.count("complaints") == 1
