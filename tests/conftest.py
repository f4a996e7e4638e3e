"""Shared fixtures: a real gateway on a real socket over a real SQLite file."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession, CookieJar, FormData, web
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher

from config.profile import Profile, load_profile
from config.settings import Settings
from gateway import accounts
from gateway.app import create_app
from gateway.context import GATEWAY, Gateway
from gateway.dispatcher import Dispatcher
from store.base import Store
from store.sqlite import SqliteStore

T = TypeVar("T")

ADMIN_TOKEN = "admin-token-ani-0001"
DESK_TOKEN = "desk-token-budi-0001"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DESK_AUTH = {"Authorization": f"Bearer {DESK_TOKEN}"}

# A Friday before Independence Day (Monday 17 August 2026), mid-morning in Ketapang.
FRIDAY_BEFORE_HOLIDAY = datetime(2026, 8, 14, 10, 0, tzinfo=ZoneInfo("Asia/Pontianak"))


class Clock:
    """The gateway's clock, set by the test: the time a complaint is received is an input."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], within: float = 5.0
) -> T:
    """Poll `probe` until `accept` holds; fail after `within` seconds with the last value."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        await asyncio.sleep(0.02)


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Hold the database's write lock from another connection, as another process could."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'lapor.db'}",
        "upload_dir": str(tmp_path / "uploads"),
        "desk_tokens": f"budi:{DESK_TOKEN}",
        "admin_tokens": f"ani:{ADMIN_TOKEN}",
        "secret_key": "test-secret-key-not-for-production",
        "public_base_url": "",
        "dispatch_poll_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


# Bad values of settings: (variable, value, how the message about it begins). Settings refuse
# each one naming the field; the command line prints "<variable>: <message>".
BAD_SETTINGS: list[tuple[str, str, str]] = [
    ("LAPOR_PORT", "abc", "Input should be a valid integer"),
    ("LAPOR_PORT", "0", "Input should be greater than or equal to 1"),
    ("LAPOR_PORT", "65536", "Input should be less than or equal to 65535"),
    ("LAPOR_MAX_UPLOAD_BYTES", "0", "Input should be greater than 0"),
    ("LAPOR_MAX_UPLOAD_FILES", "-1", "Input should be greater than or equal to 0"),
    ("LAPOR_MAX_JSON_BYTES", "banyak", "Input should be a valid integer"),
    ("LAPOR_DISPATCH_ENABLED", "mungkin", "Input should be a valid boolean"),
    ("LAPOR_DISPATCH_POLL_SECONDS", "0", "Input should be greater than 0"),
    ("LAPOR_DISPATCH_POLL_SECONDS", "61", "Input should be less than or equal to 60"),
    ("LAPOR_WRITE_QUEUE_LIMIT", "0", "Input should be greater than 0"),
    ("LAPOR_LOG_LEVEL", "garbage", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("LAPOR_LOG_LEVEL", "", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("LAPOR_LOG_LEVEL", "10", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("LAPOR_DESK_TOKENS", "budi:pendek-sekali", "a desk token must be at least 16 characters"),
    ("LAPOR_ENV", "staging", "Input should be 'development' or 'production'"),
    ("LAPOR_TRUSTED_PROXIES", "10.0.0.0/33", "'10.0.0.0/33' is not a network (CIDR"),
]


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest parameters in every test: the same code paths, without a
    quarter of a second per password (tests/gateway/test_staff_auth.py holds the real ones)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No `LAPOR_*` of the machine running the tests leaks into a case."""
    for name in list(os.environ):
        if name.upper().startswith("LAPOR_"):
            monkeypatch.delenv(name)
    return monkeypatch


@dataclass
class Running:
    """A gateway listening on 127.0.0.1, with an HTTP client session pointed at it."""

    server: TestServer
    http: ClientSession
    clock: Clock
    profile: Profile

    @property
    def gateway(self) -> Gateway:
        return self.server.app[GATEWAY]

    @property
    def store(self) -> Store:
        return self.gateway.store

    @property
    def sqlite_store(self) -> SqliteStore:
        """The store of a gateway on SQLite, for a test about that store itself."""
        store = self.gateway.store
        assert isinstance(store, SqliteStore)
        return store

    def count(self, table: str = "complaints") -> int:
        """Rows in a table, read by a connection of the test's own."""
        from tests.store.backends import count  # it imports this module

        return count(self.store, table)

    async def form_token(self, path: str = "/lapor") -> str:
        """Load a form page as a browser would and return its CSRF token."""
        async with self.http.get(path) as response:
            html = await response.text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def stop(self) -> None:
        await self.http.close()
        await self.server.close()

    def dispatcher(self, clock: Clock | None = None) -> Dispatcher:
        """A dispatcher of this gateway's store, for a test to drive by hand."""
        gw = self.gateway
        return Dispatcher(gw.store, gw.profile, gw.workflow, clock or self.clock, 0.2)


async def start_gateway(
    tmp_path: Path, profile: str = "ketapang", clock: Clock | None = None, **settings: Any
) -> Running:
    clock = clock or Clock(FRIDAY_BEFORE_HOLIDAY)
    loaded = load_profile(profile)
    # The gateway's links name its own address (LAPOR_HOST and LAPOR_PORT), so it listens
    # on the port its settings give.
    port = settings.pop("port", None) or free_port()
    config = make_settings(tmp_path, host="127.0.0.1", port=port, **settings)
    app: web.Application = create_app(config, loaded, clock=clock)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    # unsafe=True: accept cookies from 127.0.0.1, as a browser does.
    http = ClientSession(base_url=server.make_url(""), cookie_jar=CookieJar(unsafe=True))
    return Running(server, http, clock, loaded)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_gateway(tmp_path)
    yield running
    await running.stop()


@pytest.fixture
async def dispatch_off(tmp_path: Path) -> AsyncIterator[Running]:
    """A gateway whose dispatcher the test drives by hand, so complaints stay undispatched
    until it does."""
    running = await start_gateway(tmp_path, dispatch_enabled=False)
    yield running
    await running.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(FRIDAY_BEFORE_HOLIDAY)


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStore]:
    """An open SQLite store in the test's folder on the test's clock; a module that needs
    another store defines its own `store`."""
    opened = SqliteStore(tmp_path / "lapor.db", clock=clock)
    await opened.open()
    yield opened
    await opened.close()


# -- filing complaints through the real channels --------------------------------------------


def form_data(fields: Mapping[str, str | bool | None]) -> FormData:
    """Form fields, in order, as a browser sends them: a ticked checkbox (True) as "on",
    an unticked one (False) or a missing value (None) not at all."""
    data = FormData()
    for name, value in fields.items():
        if value is True:
            data.add_field(name, "on")
        elif value is not False and value is not None:
            data.add_field(name, value)
    return data


def tracking_id_on(html: str) -> str:
    """The tracking ID on a receipt page."""
    match = re.search(r'id="tracking-id">([A-Z0-9]+)<', html)
    assert match, html
    return match.group(1)


async def file_complaint(running: Running, channel: str = "app", **fields: Any) -> str:
    """File a complaint and return its tracking ID: on "web" through the citizen's form (with
    the page's CSRF token), on "app" through the app API, on any other channel through the desk
    API as a desk staff member. `fields` are the complaint's, sent as given."""
    if channel == "web":
        data = form_data({"csrf_token": await running.form_token(), **fields})
        async with running.http.post("/lapor", data=data) as response:
            html = await response.text()
            assert response.status == 201, html
        return tracking_id_on(html)
    body = dict(fields)
    path, headers = "/api/v1/complaints", {}
    if channel != "app":
        path, headers = "/api/v1/desk/complaints", DESK_AUTH
        body["channel"] = channel
    async with running.http.post(path, json=body, headers=headers) as response:
        created = await response.json()
        assert response.status == 201, created
    tracking_id: str = created["tracking_id"]
    return tracking_id


async def all_dispatched(running: Running) -> None:
    """Wait until every complaint has its case."""

    async def counts() -> tuple[int, int]:
        return running.count("complaints"), running.count("cases")

    await eventually(counts, lambda c: c[0] == c[1])


async def update_case(running: Running, tracking_id: str, **columns: object) -> None:
    """Move a case on as the Admin Penghubung would (the workflow has no such step yet).

    Written by a connection of its own, off the event loop: the gateway's writer may be
    inside a transaction that needs the loop to finish. Instants are given as datetimes."""
    from tests.store.backends import execute  # it imports this module

    assignments = ", ".join(f"{column} = ?" for column in columns)
    sql = f"UPDATE cases SET {assignments} WHERE tracking_id = ?"
    params = (*columns.values(), tracking_id)
    assert await asyncio.to_thread(execute, running.store, sql, params) == 1


def tiny_png() -> bytes:
    """A real 1×1 PNG, so uploads are sniffed from genuine image bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
