"""Choose the store backend from `LAPOR_DATABASE_URL`."""

from __future__ import annotations

from store.base import Store
from store.sqlite import Clock, SqliteStore, sqlite_path, utcnow


def store_from_url(
    database_url: str, *, write_queue_limit: int, busy_timeout_ms: int, clock: Clock = utcnow
) -> Store:
    if database_url.startswith("sqlite:///"):
        return SqliteStore(
            sqlite_path(database_url),
            write_queue_limit=write_queue_limit,
            busy_timeout_ms=busy_timeout_ms,
            clock=clock,
        )
    scheme = database_url.split(":", 1)[0]
    raise ValueError(f"LAPOR_DATABASE_URL: unsupported database {scheme!r} (use sqlite:///path)")
