"""Both store backends for the store's one test suite: a fixture's store of either kind, and
a look at what it committed through a connection of the test's own (never the store's)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from store.base import Store
from store.postgres import PostgresStore
from store.rows import parse_document, parse_ts, ts
from store.sqlite import SqliteStore
from tests.conftest import Clock
from tests.servers import Server

BACKENDS = ["sqlite", "postgresql"]


@asynccontextmanager
async def opened(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    """An open store of `backend` on the test's clock: a SQLite file in the test's folder,
    or a fresh PostgreSQL database (tests/servers.py `postgresql_database`)."""
    store: Store
    if backend == "sqlite":
        store = SqliteStore(tmp_path / "lapor.db", clock=clock)
    else:
        server: Server = request.getfixturevalue("postgresql_database")
        store = PostgresStore(postgresql_url(server), clock=clock)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def postgresql_url(server: Server) -> str:
    return server.url("postgresql", server.database or "")


@asynccontextmanager
async def reopened(store: Store, clock: Clock) -> AsyncIterator[Store]:
    """Another store of the same backend on the same file or database, as after a restart."""
    again: Store
    if isinstance(store, SqliteStore):
        again = SqliteStore(store.path, clock=clock)
    else:
        assert isinstance(store, PostgresStore)
        again = PostgresStore(store._url, clock=clock)
    await again.open()
    try:
        yield again
    finally:
        await again.close()


def rows(store: Store | Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """What the store (or the SQLite file) committed, read by a connection of the test's
    own: SQL with `?` placeholders, rows as tuples (PostgreSQL's booleans equal SQLite's 1
    and 0)."""
    if isinstance(store, SqliteStore | Path):
        path = store if isinstance(store, Path) else store.path
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            return list(conn.execute(sql, params).fetchall())
    assert isinstance(store, PostgresStore)
    with psycopg.connect(store._url, autocommit=True) as conn:
        query = sql.replace("?", "%s").encode()
        return list(conn.execute(query, params).fetchall())


def execute(store: Store, sql: str, params: tuple[Any, ...] = ()) -> int:
    """A write of the test's own, committed by a connection of its own (never the store's
    writer): SQL with `?` placeholders, instants given as datetimes and written as the row
    mapping writes them (SQLite's fixed-width UTC text, PostgreSQL's timestamptz). The
    number of rows it changed."""
    if isinstance(store, SqliteStore):
        # Text, or SQLite would compare the instant as another text than the store writes.
        values = tuple(ts(v) if isinstance(v, datetime) else v for v in params)
        with closing(sqlite3.connect(store.path, isolation_level=None)) as conn:
            return conn.execute(sql, values).rowcount
    assert isinstance(store, PostgresStore)
    with psycopg.connect(store._url, autocommit=True) as conn:
        return conn.execute(sql.replace("?", "%s").encode(), params).rowcount


def count(store: Store | Path, table: str) -> int:
    [(n,)] = rows(store, f"SELECT count(*) FROM {table}")
    return int(n)


def instant(value: str | datetime | None) -> datetime | None:
    """A stored instant read back raw: SQLite's text, PostgreSQL's timestamptz."""
    return None if value is None else parse_ts(value)


def document(value: Any) -> Any:
    """A stored JSON document read back raw: SQLite's text, PostgreSQL's jsonb."""
    return parse_document(value)
