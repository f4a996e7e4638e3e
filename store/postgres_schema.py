"""The PostgreSQL store's schema: its migrations (store/migrations/postgres/), applied at
start as the SQLite store's are.

psycopg 3 in async mode is the driver: the project's one PostgreSQL driver (its tests'
servers already speak it), it takes every libpq connection string an operator may give
in `LAPOR_DATABASE_URL` (sslmode, service files, Unix sockets), and its pipeline mode
sends a batch of statements in one round trip, which the group commit needs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

MIGRATIONS = Path(__file__).parent / "migrations" / "postgres"

MIGRATION_LOCK = 0x4C41504F52_01
"""The advisory lock key ('LAPOR', 1) under which migrations run: several gateway
processes starting at once apply each migration once, the later ones waiting for it."""


async def migrate(conn: psycopg.AsyncConnection[tuple[Any, ...]], now: datetime) -> list[str]:
    """Apply the migrations this database lacks, all in one transaction under
    MIGRATION_LOCK; the names of those applied (none when it was up to date)."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
        )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {version for (version,) in await cursor.fetchall()}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            version = int(path.name.split("_", 1)[0])
            if version in done:
                continue
            # Without parameters psycopg sends the script as one simple query, so a
            # migration may hold many statements.
            await conn.execute(path.read_text().encode())
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (version, path.name, now),
            )
            applied.append(path.name)
    return applied
