"""Fixtures of the event tests: a private NATS server per test, a client of it, and a
gateway whose relay publishes there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js.client import JetStreamContext

from tests.conftest import Running, start_gateway
from tests.events.nats_server import NatsServer
from tests.events.support import wait_for_streams
from tests.servers import postgresql, postgresql_database

__all__ = ["postgresql", "postgresql_database"]  # the store's tests run on PostgreSQL too


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    server.directory.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[Client]:
    """The test's own connection, as another system's would be."""

    async def quiet(exc: Exception) -> None:
        """A server the test stops is no error (the default callback logs one)."""

    nc = await nats.connect(
        nats_server.url, connect_timeout=2, max_reconnect_attempts=-1, error_cb=quiet
    )
    yield nc
    await nc.close()


@pytest.fixture
def js(nats_client: Client) -> JetStreamContext:
    return nats_client.jetstream()


@pytest.fixture
async def relaying(
    tmp_path: Path, nats_server: NatsServer, js: JetStreamContext
) -> AsyncIterator[Running]:
    """A gateway with LAPOR_NATS_URL set: its relay runs beside the dispatcher, and its
    streams exist."""
    running = await start_gateway(tmp_path, nats_url=nats_server.url)
    await wait_for_streams(js)
    yield running
    await running.stop()
