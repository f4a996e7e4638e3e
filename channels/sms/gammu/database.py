"""Gammu SMSD's SQL database: MySQL/MariaDB (as Kalkun installs it) or SQLite.

Gammu's SQL service keeps its inbox and outbox as plain tables, which we read and write with
the DB-API drivers (PyMySQL, sqlite3) in a worker thread so the event loop never waits on the
database. The SQL is written once with `?` placeholders; the dialect supplies the driver's
paramstyle, how to connect, which errors are worth retrying and what Gammu's naive
timestamps mean.

`LAPOR_GAMMU_DATABASE_URL` forms:

- `mysql://user[:password]@host[:port]/database` (user and password URL-encoded)
- `sqlite:////absolute/path/smsd.db` (or `sqlite:///relative/path.db`), optionally with
  `?timezone=Area/City`: the zone Gammu wrote its times in. Gammu 1.40 and later write the
  local time of the machine they run on, and a SQLite file is read on that same machine, so
  the default is this machine's local time; Gammu before 1.40 wrote UTC (`?timezone=UTC`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Final, Protocol, TypeVar
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pymysql

T = TypeVar("T")

_FORMS: Final = "use mysql://user:password@host:3306/database or sqlite:////path/smsd.db"

# MySQL errors that say the server is busy or going away rather than refusing the work: too
# many connections, shutdown, lock wait timeout, deadlock. Codes from 2000 up are the client's
# own: no usable connection.
_MYSQL_BUSY: Final = frozenset({1040, 1053, 1205, 1213})
_MYSQL_CLIENT_ERRORS: Final = 2000
# Messages of these quote the offending value, which may be a citizen's words.
_MYSQL_QUOTES_DATA: Final = frozenset({1292, 1366})

_SQLITE_TRANSIENT: Final = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
    }
)


class GammuDatabaseError(Exception):
    """The database could not be reached or refused the work; `transient`: a later try may
    succeed (no connection, busy, locked), otherwise it fails the same way every time."""

    def __init__(self, detail: str, *, transient: bool) -> None:
        self.detail = detail
        self.transient = transient
        super().__init__(detail)


class _Dialect(Protocol):
    placeholder: ClassVar[str]
    errors: ClassVar[tuple[type[Exception], ...]]

    @property
    def naive_zone(self) -> tzinfo | None:
        """The zone of the naive timestamps the driver returns; None: this host's."""

    def connect(self) -> Any: ...

    def identity(self) -> object:
        """What a new connection would reach now; when it differs from what the open one
        reached, the open one is stale."""

    def is_transient(self, error: Exception) -> bool: ...

    def describe(self, error: Exception) -> str: ...

    def address(self) -> str: ...


@dataclass(frozen=True)
class _MySql:
    placeholder: ClassVar[str] = "%s"
    errors: ClassVar[tuple[type[Exception], ...]] = (pymysql.MySQLError,)

    host: str
    port: int
    user: str
    database: str
    password: str = field(repr=False)

    @property
    def naive_zone(self) -> tzinfo | None:
        return UTC  # the session's zone, see connect()

    def connect(self) -> Any:
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            # UTF-8 as the mysql client and PHP (Kalkun) send it; PyMySQL would use Latin-1.
            password=self.password.encode(),
            database=self.database,
            charset="utf8mb4",
            connect_timeout=5,
            read_timeout=30,
            write_timeout=30,
            # TIMESTAMP columns then read in UTC, whatever zone the server runs in.
            init_command="SET time_zone = '+00:00'",
        )

    def identity(self) -> object:
        return None  # a dropped and recreated database is found by the server's errors

    def is_transient(self, error: Exception) -> bool:
        if isinstance(error, pymysql.err.InterfaceError):
            return True
        code = _mysql_code(error)
        return isinstance(error, pymysql.err.OperationalError) and (
            code >= _MYSQL_CLIENT_ERRORS or code in _MYSQL_BUSY
        )

    def describe(self, error: Exception) -> str:
        code = _mysql_code(error)
        if code in _MYSQL_QUOTES_DATA:
            return f"MySQL error {code} (a value the column cannot store)"
        return f"MySQL error {code}: {error.args[-1] if error.args else error}"

    def address(self) -> str:
        return f"mysql://{quote(self.user, safe='')}@{self.host}:{self.port}/{self.database}"


def _mysql_code(error: Exception) -> int:
    code = error.args[0] if error.args else 0
    return code if isinstance(code, int) else 0


@dataclass(frozen=True)
class _Sqlite:
    placeholder: ClassVar[str] = "?"
    errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.Error,)

    path: str
    zone: tzinfo | None

    @property
    def naive_zone(self) -> tzinfo | None:
        return self.zone

    def connect(self) -> Any:
        # mode=rw: a wrong path must fail, not create an empty database Gammu never sees.
        uri = f"file:{quote(self.path)}?mode=rw"
        return sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)

    def identity(self) -> object:
        # A new SQLite file in the old one's place (Gammu's database rebuilt, a backup
        # restored) leaves an open connection reading the old file without any error.
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return (status.st_dev, status.st_ino)

    def is_transient(self, error: Exception) -> bool:
        code = getattr(error, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF in _SQLITE_TRANSIENT

    def describe(self, error: Exception) -> str:
        return f"SQLite error: {error}"

    def address(self) -> str:
        return f"sqlite:///{self.path}"


class Transaction:
    """One unit of work on one connection. SQL is written with `?` placeholders."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self._cursor = cursor
        self._placeholder = placeholder

    def _run(self, sql: str, params: Sequence[object]) -> None:
        # Our SQL has no `?` or `%` inside literals, so the swap is safe.
        self._cursor.execute(sql.replace("?", self._placeholder), tuple(params))

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        self._run(sql, params)
        names = [column[0] for column in self._cursor.description]
        return [dict(zip(names, row, strict=True)) for row in self._cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        self._run(sql, params)
        return int(self._cursor.rowcount)

    def insert(self, sql: str, params: Sequence[object]) -> int:
        """Run an INSERT; the id of the new row."""
        self._run(sql, params)
        return int(self._cursor.lastrowid)


class GammuDatabase:
    """Gammu's database, one connection kept open; reopened after any error, and when a new
    SQLite file has taken the old one's place."""

    def __init__(self, dialect: _Dialect) -> None:
        self._dialect = dialect
        self._lock = threading.Lock()
        self._connection: Any = None
        self._identity: object = None

    @classmethod
    def from_url(cls, url: str) -> GammuDatabase:
        """ValueError for a URL we cannot use; its message never contains the password."""
        return cls(_parse_url(url))

    def __str__(self) -> str:
        return self._dialect.address()

    def __repr__(self) -> str:
        return f"GammuDatabase({self._dialect.address()!r})"

    def to_utc(self, value: datetime | str) -> datetime:
        """A timestamp as the driver returned it, as an aware UTC datetime."""
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        if moment.tzinfo is None:
            zone = self._dialect.naive_zone
            moment = moment.astimezone() if zone is None else moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    def to_gammu(self, moment: datetime) -> str:
        """An instant as Gammu writes and compares its times: naive, in the zone they are
        read in (so Gammu's `SendingDateTime < now` holds when the instant has passed)."""
        return moment.astimezone(self._dialect.naive_zone).strftime("%Y-%m-%d %H:%M:%S")

    async def run(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in one transaction, committed if it returns. A driver error becomes
        GammuDatabaseError; the transaction is rolled back by closing its connection."""
        return await asyncio.to_thread(self._run, work)

    def _run(self, work: Callable[[Transaction], T]) -> T:
        with self._lock:
            try:
                self._connect()
                cursor = self._connection.cursor()
                try:
                    result = work(Transaction(cursor, self._dialect.placeholder))
                finally:
                    cursor.close()
                self._connection.commit()
                return result
            except BaseException as error:
                self._discard()
                if isinstance(error, self._dialect.errors):
                    raise GammuDatabaseError(
                        f"{self}: {self._dialect.describe(error)}",
                        transient=self._dialect.is_transient(error),
                    ) from error
                raise

    def _connect(self) -> None:
        identity = self._dialect.identity()
        if self._connection is not None and identity != self._identity:
            self._discard()
        if self._connection is None:
            self._connection = self._dialect.connect()
            self._identity = identity

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    async def close(self) -> None:
        """Close the connection; a later call opens a new one, so sharers may each close."""

        def close() -> None:
            with self._lock:
                self._discard()

        await asyncio.to_thread(close)


def _invalid(reason: str) -> ValueError:
    return ValueError(f"Gammu database URL: {reason} ({_FORMS})")


def _parse_url(url: str) -> _Dialect:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise _invalid("not a valid URL or port") from None
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.scheme in ("mysql", "mariadb"):
        return _mysql(parts, port, options)
    if parts.scheme == "sqlite":
        return _sqlite(parts, options)
    # The scheme is not echoed: a URL pasted without one would show what precedes a colon.
    raise _invalid("unsupported kind of database")


def _mysql(parts: SplitResult, port: int | None, options: dict[str, str]) -> _MySql:
    database = unquote(parts.path.removeprefix("/"))
    if options:
        raise _invalid("a MySQL URL takes no ?options")
    if not parts.hostname:
        raise _invalid("no host")
    if not parts.username:
        raise _invalid("no user")
    if not database or "/" in database:
        raise _invalid("no database name after the host")
    return _MySql(
        host=parts.hostname,
        port=port or 3306,
        user=unquote(parts.username),
        database=database,
        password=unquote(parts.password or ""),
    )


def _sqlite(parts: SplitResult, options: dict[str, str]) -> _Sqlite:
    path = unquote(parts.path.removeprefix("/"))
    if parts.netloc or not path:
        raise _invalid("a SQLite URL is sqlite:/// followed by the file's path")
    unknown = set(options) - {"timezone"}
    if unknown:
        raise _invalid(f"unknown option {sorted(unknown)[0]!r}; a SQLite URL takes ?timezone=")
    return _Sqlite(path=path, zone=_zone(options["timezone"]) if "timezone" in options else None)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(f"unknown time zone {name!r}") from None
