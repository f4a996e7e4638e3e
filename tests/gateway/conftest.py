"""Fixtures of the gateway tests that start real server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from tests.conftest import Running, start_gateway
from tests.fakes.twilio_api import FakeTwilio
from tests.gateway.browsers import chromium
from tests.gateway.sms_support import SMS_SETTINGS, TWILIO_SID, TWILIO_TOKEN
from tests.processes import Launcher
from tests.servers import postgresql, postgresql_database
from tests.store.backends import postgresql_url

__all__ = ["postgresql", "postgresql_database"]  # fixtures of the PostgreSQL tests


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        launcher.stop_all()  # whatever the test did, no process outlives it


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    """Twilio's Messages API, where the gateway's SMS to citizens arrive."""
    async with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        yield fake


def twilio_sender(twilio: FakeTwilio) -> dict[str, Any]:
    return {
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_account_sid": TWILIO_SID,
        "twilio_from": "+6281100001708",
        "twilio_api_url": twilio.base_url,
    }


@asynccontextmanager
async def gateway_on(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, **settings: Any
) -> AsyncIterator[Running]:
    """A gateway on the store of `backend` (tests/store/backends.py BACKENDS): a SQLite
    file in the test's folder, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        settings["database_url"] = postgresql_url(request.getfixturevalue("postgresql_database"))
    running = await start_gateway(tmp_path, **settings)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def sms_gateway(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[Running]:
    """A gateway taking SMS by every webhook (behind its public https address, which the
    providers sign) and sending its SMS through Twilio."""
    running = await start_gateway(tmp_path, **(SMS_SETTINGS | twilio_sender(twilio)))
    yield running
    await running.stop()


@pytest.fixture
async def web_gateway(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[Running]:
    """A gateway for the browser's pages on plain http (its cookies are not Secure), with
    Twilio as its SMS sender."""
    running = await start_gateway(tmp_path, **twilio_sender(twilio))
    yield running
    await running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, once for the module (see tests/gateway/browsers.py)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()
