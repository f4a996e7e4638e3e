"""The PostgreSQL store's schema: applied once however many processes start at once, and
the same tables and columns as the SQLite store's, in PostgreSQL's own types."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from store.postgres_schema import MIGRATIONS, migrate
from store.sqlite import SqliteStore
from tests.servers import Server

NOW = datetime(2026, 8, 14, 3, 0, tzinfo=UTC)
SQLITE_ONLY = {"sqlite_sequence", "schema_migrations"}

# The SQLite store keeps these as text or integers; PostgreSQL as what they are.
INSTANTS = {"at", "since", "until", "claimed_until"}
DAYS = {"incident_date", "verification_due", "completion_due"}
YES_NO = {"anonymous", "confidential", "verification_late", "completion_late"}
DOCUMENTS = {"attachments", "attachment", "data"}
OUTBOX_SEQUENCES = {("outbox", "seq"), ("event_relay", "seq")}


async def connect(server: Server) -> psycopg.AsyncConnection[tuple[object, ...]]:
    return await psycopg.AsyncConnection.connect(server.url("postgresql", server.database or ""))


async def test_a_fresh_database_gets_every_migration_once(postgresql_database: Server) -> None:
    names = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    async with await connect(postgresql_database) as conn:
        assert await migrate(conn, NOW) == names
        assert await migrate(conn, NOW) == []
        cursor = await conn.execute("SELECT name, applied_at FROM schema_migrations")
        assert await cursor.fetchall() == [(name, NOW) for name in names]


async def test_processes_starting_at_once_apply_it_once(postgresql_database: Server) -> None:
    """Four processes' first connections migrate together: one applies, the others wait
    for it under the advisory lock and find nothing left, none fails."""
    conns = [await connect(postgresql_database) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(conn, NOW) for conn in conns))
    finally:
        for conn in conns:
            await conn.close()
    assert sorted(len(applied) for applied in results) == [
        0,
        0,
        0,
        len(list(MIGRATIONS.glob("*.sql"))),
    ]


async def test_the_same_tables_and_columns_as_sqlite_in_postgresql_types(
    postgresql_database: Server, tmp_path: Path
) -> None:
    sqlite_db = tmp_path / "lapor.db"
    store = SqliteStore(sqlite_db)
    await store.open()
    await store.close()
    with sqlite3.connect(sqlite_db) as lite:
        tables = [
            name
            for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in SQLITE_ONLY
        ]
        expected = {
            t: {row[1]: row[2] for row in lite.execute(f"PRAGMA table_info({t})")} for t in tables
        }
    async with await connect(postgresql_database) as conn:
        await migrate(conn, NOW)
        cursor = await conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'schema_migrations'"
        )
        found: dict[str, dict[str, str]] = {}
        for table, column, data_type in await cursor.fetchall():
            found.setdefault(str(table), {})[str(column)] = str(data_type)
    assert {t: set(c) for t, c in found.items()} == {t: set(c) for t, c in expected.items()}
    for table, columns in expected.items():
        for column, sqlite_type in columns.items():
            assert found[table][column] == _postgresql_type(table, column, sqlite_type), (
                table,
                column,
            )


def _postgresql_type(table: str, column: str, sqlite_type: str) -> str:
    """What a SQLite column becomes: instants timestamptz, days date, yes/no boolean,
    documents jsonb, blobs bytea, row ids and the outbox's sequence bigint."""
    if column.endswith("_at") or column in INSTANTS:
        return "timestamp with time zone"
    if column in DAYS:
        return "date"
    if column in YES_NO:
        return "boolean"
    if column in DOCUMENTS:
        return "jsonb"
    if sqlite_type == "BLOB":
        return "bytea"
    if sqlite_type == "INTEGER":
        return "bigint" if column == "id" or (table, column) in OUTBOX_SEQUENCES else "integer"
    return "text"
