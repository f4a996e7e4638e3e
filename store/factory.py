"""Choose the store backend from `LAPOR_DATABASE_URL`."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from store.base import Store
from store.sqlite import Clock, SqliteStore, sqlite_path, utcnow

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


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
    if database_url.startswith(POSTGRESQL_SCHEMES):
        # Imported here: an embedded installation never loads the PostgreSQL driver.
        from store.postgres import PostgresStore

        return PostgresStore(database_url, write_queue_limit=write_queue_limit, clock=clock)
    scheme = database_url.split(":", 1)[0]
    raise ValueError(
        f"LAPOR_DATABASE_URL: unsupported database {scheme!r} "
        "(use sqlite:///path or postgresql://user:password@host:5432/dbname)"
    )


def display_url(database_url: str) -> str:
    """The URL as it may be printed or logged: its password, if any, as `***`."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
