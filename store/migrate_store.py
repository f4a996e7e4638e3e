"""`lapor-gateway migrate-store`: an embedded installation (SQLite) moved to PostgreSQL.

Every table of the SQLite store is copied into a PostgreSQL database that holds the
PostgreSQL store's schema (applied first, store/postgres_schema.py), parents before
children, in batches, each value converted to its column's type: text instants to
timestamptz, ISO days to date, 0/1 to boolean, JSON text to jsonb, blobs to bytea. Row ids
and the outbox's sequence numbers keep their values, and each identity sequence is moved
past the highest the SQLite file ever gave, so new rows never collide with copied ones.

The source is only read (`mode=ro`), and not at all while another process has it open.
The copy reads one snapshot of it; the verification at the end reads it again, with the
target, table by table (rows and a SHA-256 over every row), and checks that every
attachment file a complaint refers to is in the upload directory.

Each run is recorded in the target (`migrate_store_runs`): which file it copied, when it
started and finished, how far each table got. That record is what lets the command refuse a
database holding anyone else's rows, continue an interrupted run (`resume`) from the last
batch it committed, and answer a finished one with "already done".
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import struct
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from store.backup import referenced_blobs
from store.blobs import BlobStore
from store.factory import POSTGRESQL_SCHEMES, display_url
from store.postgres_schema import migrate
from store.rows import ts
from store.sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from store.sqlite import Clock, sqlite_path, utcnow

BATCH_ROWS = 1000
RUNS_TABLE = "migrate_store_runs"
LOCK_KEY = 0x4C41504F52_4D
"""The advisory lock key ('LAPOR', 'M') a run holds on the target: two runs into one
database at once would each copy every row."""

# SQLite's own tables, and the migrations' record, which each backend keeps for itself.
_NOT_COPIED = frozenset({"schema_migrations"})

Kind = Literal["text", "integer", "boolean", "instant", "day", "json", "bytes"]
_KINDS: dict[str, Kind] = {
    "text": "text",
    "integer": "integer",
    "bigint": "integer",
    "smallint": "integer",
    "boolean": "boolean",
    "timestamp with time zone": "instant",
    "date": "day",
    "jsonb": "json",
    "bytea": "bytes",
}

_RUNS_DDL = f"""
CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    progress     jsonb NOT NULL DEFAULT '{{}}',
    checksums    jsonb
);
COMMENT ON TABLE {RUNS_TABLE} IS
    'lapor-gateway migrate-store: each run that copied a SQLite store into this database';
COMMENT ON COLUMN {RUNS_TABLE}.progress IS
    'per table: rows copied, the primary key of the last one, done';
COMMENT ON COLUMN {RUNS_TABLE}.checksums IS
    'per table: rows and SHA-256 of the source when the run finished'
"""


class MigrationRefused(Exception):
    """The migration cannot be made as asked; the source was not touched, and the target
    got at most the PostgreSQL store's empty schema."""


class MigrationFailed(Exception):
    """The copy stopped on the way (the batches committed so far are kept: resume it)."""


class Interrupted(MigrationFailed):
    """The copy stopped after the batches it was allowed (`stop_after_batches`)."""


# -- what is copied ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    identity: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """The primary key: the order rows are copied and checksummed in, and where a resumed
    copy goes on from."""

    @property
    def key_positions(self) -> list[int]:
        names = [c.name for c in self.columns]
        return [names.index(k) for k in self.key]


@dataclass(frozen=True)
class Layout:
    """The source's tables, parents first, with what the target needs of each."""

    tables: tuple[Table, ...]
    sequences: dict[str, int]
    """sqlite_sequence: the highest id each AUTOINCREMENT table ever gave (rows may have
    been deleted since; their ids are never given again)."""


@dataclass
class Progress:
    rows: int = 0
    last_key: list[Any] | None = None
    done: bool = False


@dataclass(frozen=True)
class Run:
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    progress: dict[str, Progress]
    checksums: dict[str, list[Any]] | None


# -- what is reported -------------------------------------------------------------------


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    source_checksum: str
    target_rows: int
    target_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_checksum) == (
            self.target_rows,
            self.target_checksum,
        )


@dataclass(frozen=True)
class BlobProblem:
    sha256: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    run: int
    already_done: bool
    """A run had finished before: nothing was copied; the source was checked unchanged."""
    copied: dict[str, int]
    """Rows copied by this invocation, per table."""
    tables: tuple[TableCheck, ...]
    blobs: int
    """Attachment files the complaints refer to."""
    missing_blobs: tuple[BlobProblem, ...]
    opened_meanwhile: int | None = None
    """A process (its id) that opened the source during the copy: a gateway started on it."""

    @property
    def ok(self) -> bool:
        return (
            all(t.ok for t in self.tables)
            and not self.missing_blobs
            and self.opened_meanwhile is None
        )


Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# -- the command ------------------------------------------------------------------------


async def migrate_store(
    source_url: str,
    target_url: str,
    uploads: Path,
    *,
    resume: bool = False,
    clock: Clock = utcnow,
    batch_rows: int = BATCH_ROWS,
    stop_after_batches: int | None = None,
    say: Say = _quiet,
) -> Outcome:
    """Copy the SQLite store at `source_url` into the PostgreSQL database `target_url` and
    verify it; `say` hears each step. MigrationRefused when the copy must not be made as
    asked, MigrationFailed when it broke off. `stop_after_batches` stops the copy after so
    many committed batches, as a crash would (for the tests)."""
    source = source_file(source_url)
    if not target_url.startswith(POSTGRESQL_SCHEMES):
        raise MigrationRefused(f"--to must be a postgresql:// URL, not {_scheme(target_url)!r}")
    options = _Options(resume, clock, batch_rows, stop_after_batches, say)
    try:
        return await _migrate(source, target_url, uploads, options)
    except (psycopg.Error, sqlite3.Error, OSError, ValueError) as exc:
        # A driver's message may quote the connection string it was given.
        problem = _redact(" ".join(str(exc).split()) or type(exc).__name__, target_url)
        raise MigrationFailed(f"{source} -> {display_url(target_url)}: {problem}") from None


def source_file(source_url: str) -> Path:
    """The SQLite file, as an absolute path: the record of runs names it so."""
    if not source_url.startswith("sqlite:///"):
        raise MigrationRefused(f"--from must be a sqlite:/// URL, not {_scheme(source_url)!r}")
    return sqlite_path(source_url).resolve()


@dataclass(frozen=True)
class _Options:
    resume: bool
    clock: Clock
    batch_rows: int
    stop_after_batches: int | None
    say: Say


async def _migrate(source: Path, target_url: str, uploads: Path, options: _Options) -> Outcome:
    refuse_if_open_elsewhere(source)
    async with await psycopg.AsyncConnection.connect(target_url, autocommit=True) as conn:
        with open_source(source) as src:
            label = display_url(target_url)
            outcome = await _copy_and_verify(src, conn, label, str(source), uploads, options)
        if outcome.already_done or not all(c.ok for c in outcome.tables):
            return outcome
        # Only now, with our own connection closed: a probe beside it would drop its locks.
        meanwhile = open_elsewhere(source)
        if meanwhile is not None:
            return replace(outcome, opened_meanwhile=meanwhile)
        await _finish(conn, outcome.run, outcome.tables, options.clock)
        return outcome


async def _copy_and_verify(
    src: sqlite3.Connection,
    conn: psycopg.AsyncConnection[Any],
    label: str,
    source: str,
    uploads: Path,
    options: _Options,
) -> Outcome:
    layout = source_layout(src)
    await _prepare_target(conn, label, options.clock)
    tables = await _typed(conn, layout.tables)
    run = await _claim_run(conn, source, tables, options.resume, options.clock, options.say)
    if run.finished_at is not None:
        options.say(
            f"run {run.id} finished copying {run.source} on "
            f"{run.finished_at.isoformat(timespec='seconds')}: nothing more to copy; checking "
            "that the source has not changed since"
        )
        return _already_done(src, run, tables, uploads)
    copier = _Copier(src, conn, run, options.batch_rows, options.stop_after_batches, options.say)
    copied = await copier.copy(tables, layout.sequences)
    options.say("verifying: rows and checksums of every table, on both sides")
    checks = await verify_tables(src, conn, tables)
    present, missing = blob_problems(src, uploads)
    return Outcome(run.id, False, copied, tuple(checks), present, tuple(missing))


# -- the source -------------------------------------------------------------------------


@contextmanager
def open_source(db: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite store, read-only, once it is known to be a whole one of this version."""
    if not db.is_file():
        raise MigrationRefused(f"there is no database at {db}")
    conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        _check_schema(conn, db)
        yield conn
    finally:
        conn.close()


def _check_schema(conn: sqlite3.Connection, db: Path) -> None:
    """The PostgreSQL schema matches the SQLite store's after all of this gateway's
    migrations: a file of another version has other columns."""
    known = {int(p.name.split("_", 1)[0]) for p in SQLITE_MIGRATIONS.glob("*.sql")}
    try:
        applied = {int(v) for (v,) in conn.execute("SELECT version FROM schema_migrations")}
    except sqlite3.DatabaseError as exc:
        raise MigrationRefused(f"{db} is not a LAPOR! store: {exc}") from None
    if applied - known:
        raise MigrationRefused(
            f"{db} was last opened by a newer gateway (migrations {sorted(applied - known)}): "
            "migrate it with that version"
        )
    if known - applied:
        raise MigrationRefused(
            f"{db} lacks this gateway's migrations {sorted(known - applied)}: start this "
            "version of the gateway on it once (it applies them), stop it, and run again"
        )


def source_layout(conn: sqlite3.Connection) -> Layout:
    names = [
        str(name)
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not str(name).startswith("sqlite_") and name not in _NOT_COPIED
    ]
    parents = {name: _parents(conn, name) for name in names}
    tables = tuple(_source_table(conn, name) for name in parents_first(parents))
    sequences = {
        str(name): int(seq) for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence")
    }
    return Layout(tables, sequences)


def _parents(conn: sqlite3.Connection, table: str) -> set[str]:
    rows = conn.execute(f"PRAGMA foreign_key_list({_q(table)})").fetchall()
    return {str(row[2]) for row in rows} - {table}


def _source_table(conn: sqlite3.Connection, table: str) -> Table:
    info = conn.execute(f"PRAGMA table_info({_q(table)})").fetchall()
    key = tuple(str(row[1]) for row in sorted(info, key=lambda row: row[5]) if row[5])
    if not key:
        raise MigrationRefused(f"the table {table} has no primary key to copy it in order by")
    # The kinds come from the target (_typed): the SQLite declarations say too little.
    return Table(table, tuple(Column(str(row[1]), "text") for row in info), key)


def parents_first(parents: dict[str, set[str]]) -> list[str]:
    """The tables in an order where each comes after those its foreign keys refer to; among
    those free to go, by name, so every run takes them in the same order."""
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(parents):
        ready = sorted(t for t in parents if t not in placed and parents[t] <= placed)
        if not ready:
            raise MigrationRefused(f"foreign keys in a cycle among {sorted(set(parents) - placed)}")
        order += ready
        placed.update(ready)
    return order


# Where SQLite keeps a connection's locks on the database file (os_unix.c): a byte past
# the first GiB, and the range of shared locks after it. Every connection of a store in
# WAL mode holds a shared lock there for as long as it is open.
_PENDING_BYTE = 0x40000000
_LOCK_BYTES = 512
_FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: type, whence, start, len, pid


def open_elsewhere(db: Path) -> int | None:
    """The id of another process that has the database open (a gateway), or None.

    Asks the kernel (F_GETLK) which process holds SQLite's lock bytes, taking none itself,
    so the file is left as it is. This process must have no connection to the file open:
    closing the descriptor used here would release that connection's locks. Linux only
    (elsewhere the record's layout differs): None there."""
    if not sys.platform.startswith("linux") or not db.exists():
        return None
    fd = os.open(db, os.O_RDONLY)
    try:
        asked = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, _PENDING_BYTE, _LOCK_BYTES, 0)
        kind, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, asked))
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else pid


def refuse_if_open_elsewhere(db: Path) -> None:
    pid = open_elsewhere(db)
    if pid is not None:
        raise MigrationRefused(
            f"{db} is open in another process (pid {pid}; a gateway?): stop it first. "
            "Nothing may write to the source while it is copied"
        )


# -- the target -------------------------------------------------------------------------


async def _prepare_target(conn: psycopg.AsyncConnection[Any], label: str, clock: Clock) -> None:
    """One run at a time, the store's schema, and the record of runs."""
    encoding = await _one(conn, "SHOW server_encoding")
    if encoding != "UTF8":
        # The checksums compare text in byte order, and every citizen's words must fit.
        raise MigrationRefused(f"{label} has the encoding {encoding}: create it with UTF8")
    if not await _one(conn, "SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)):
        raise MigrationRefused(f"another migrate-store is running into {label}")
    await migrate(conn, clock())
    await conn.execute(_RUNS_DDL.encode())


async def _typed(conn: psycopg.AsyncConnection[Any], tables: Sequence[Table]) -> list[Table]:
    """The source's tables with each column's kind read from the target's schema, which
    must have the same tables and columns."""
    cursor = await conn.execute(
        "SELECT table_name, column_name, data_type, is_identity "
        "FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    found: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, data_type, identity in await cursor.fetchall():
        found.setdefault(table, {})[column] = (data_type, identity == "YES")
    return [_typed_table(table, found.get(table.name, {})) for table in tables]


def _typed_table(table: Table, target: dict[str, tuple[str, bool]]) -> Table:
    names = {c.name for c in table.columns}
    if not target:
        raise MigrationRefused(f"the target has no table {table.name}: of another gateway version?")
    if names != set(target):
        raise MigrationRefused(
            f"the target's table {table.name} has the columns {sorted(target)}, the "
            f"source's {sorted(names)}: the target is of another gateway version"
        )
    columns = []
    for column in table.columns:
        data_type, identity = target[column.name]
        if data_type not in _KINDS:
            raise MigrationRefused(f"{table.name}.{column.name}: no conversion to {data_type}")
        columns.append(Column(column.name, _KINDS[data_type], identity))
    return Table(table.name, tuple(columns), table.key)


async def _claim_run(
    conn: psycopg.AsyncConnection[Any],
    source: str,
    tables: Sequence[Table],
    resume: bool,
    clock: Clock,
    say: Say,
) -> Run:
    """The run to carry on: a new one into an empty target, the unfinished one when
    resuming, or the finished one (which copies nothing more)."""
    last = await _last_run(conn)
    if last is None:
        held = await _tables_with_rows(conn, tables)
        if held:
            raise MigrationRefused(
                f"the target already holds rows (in {', '.join(held)}) that no migrate-store "
                "run put there: migrate into a new, empty database"
            )
        return await _new_run(conn, source, clock)
    if last.finished_at is None:
        _check_resumable(last, source, resume)
        say(f"resuming run {last.id}, started {last.started_at.isoformat(timespec='seconds')}")
    return last


def _check_resumable(run: Run, source: str, resume: bool) -> None:
    if not resume:
        raise MigrationRefused(
            f"an earlier migrate-store run (from {run.source}, started "
            f"{run.started_at.isoformat(timespec='seconds')}) did not finish: "
            "add --resume to continue it"
        )
    if run.source != source:
        raise MigrationRefused(
            f"the unfinished run copied {run.source}, not {source}: resume it with that "
            "file, or start over in a new, empty database"
        )


async def _last_run(conn: psycopg.AsyncConnection[Any]) -> Run | None:
    cursor = await conn.execute(
        f"SELECT id, source, started_at, finished_at, progress, checksums FROM {RUNS_TABLE} "
        "ORDER BY id DESC LIMIT 1"
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    run_id, source, started_at, finished_at, progress, checksums = row
    tables = {name: Progress(**state) for name, state in progress.items()}
    return Run(run_id, source, started_at, finished_at, tables, checksums)


async def _tables_with_rows(
    conn: psycopg.AsyncConnection[Any], tables: Sequence[Table]
) -> list[str]:
    held = []
    for table in tables:
        query = sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.Identifier(table.name))
        if await _one(conn, query):
            held.append(table.name)
    return held


async def _new_run(conn: psycopg.AsyncConnection[Any], source: str, clock: Clock) -> Run:
    started = clock()
    run_id = await _one(
        conn,
        f"INSERT INTO {RUNS_TABLE} (source, started_at) VALUES (%s, %s) RETURNING id",
        (source, started),
    )
    return Run(int(run_id), source, started, None, {}, None)


async def _finish(
    conn: psycopg.AsyncConnection[Any], run_id: int, checks: Sequence[TableCheck], clock: Clock
) -> None:
    # The source's checksums, so a later run can tell whether it has changed since.
    recorded = {c.table: [c.source_rows, c.source_checksum] for c in checks}
    await conn.execute(
        f"UPDATE {RUNS_TABLE} SET finished_at = %s, checksums = %s WHERE id = %s",
        (clock(), Jsonb(recorded), run_id),
    )


# -- the copy ---------------------------------------------------------------------------


@dataclass
class _Copier:
    src: sqlite3.Connection
    conn: psycopg.AsyncConnection[Any]
    run: Run
    batch_rows: int
    batches_left: int | None
    say: Say
    copied: dict[str, int] = field(default_factory=dict)

    async def copy(self, tables: Sequence[Table], sequences: dict[str, int]) -> dict[str, int]:
        # One snapshot for the whole copy: no row is read without the rows it refers to.
        self.src.execute("BEGIN")
        try:
            for table in tables:
                progress = self.run.progress.get(table.name, Progress())
                if progress.done:
                    self.say(f"  {table.name}: copied by this run before ({progress.rows} rows)")
                    continue
                await self._copy_table(table, progress)
                await self._close_table(table, progress, sequences.get(table.name, 0))
        finally:
            self.src.execute("ROLLBACK")
        return self.copied

    async def _copy_table(self, table: Table, progress: Progress) -> None:
        if progress.last_key is not None:
            self.say(f"  {table.name}: continuing after {progress.rows} rows")
        while rows := self._read(table, progress.last_key):
            values = [convert_row(table, row) for row in rows]
            progress.rows += len(rows)
            progress.last_key = [rows[-1][i] for i in table.key_positions]
            # The batch and how far it got commit together: a resumed copy starts after it.
            async with self.conn.transaction():
                await _copy_in(self.conn, table, values)
                await self._record(table, progress)
            self.copied[table.name] = self.copied.get(table.name, 0) + len(rows)
            self._count_batch()

    def _read(self, table: Table, after: list[Any] | None) -> list[tuple[Any, ...]]:
        columns = ", ".join(_q(c.name) for c in table.columns)
        key = ", ".join(_q(k) for k in table.key)
        where = f"WHERE ({key}) > ({', '.join('?' * len(table.key))})" if after else ""
        query = f"SELECT {columns} FROM {_q(table.name)} {where} ORDER BY {key} LIMIT ?"
        return self.src.execute(query, [*(after or []), self.batch_rows]).fetchall()

    def _count_batch(self) -> None:
        if self.batches_left is None:
            return
        self.batches_left -= 1
        if self.batches_left <= 0:
            raise Interrupted("stopped after the batches allowed")

    async def _close_table(self, table: Table, progress: Progress, sequence: int) -> None:
        progress.done = True
        async with self.conn.transaction():
            for column in table.columns:
                if column.identity:
                    await _restart_identity(self.conn, table.name, column.name, sequence)
            await self._record(table, progress)
        self.say(f"  {table.name}: {progress.rows} rows")

    async def _record(self, table: Table, progress: Progress) -> None:
        state = {"rows": progress.rows, "last_key": progress.last_key, "done": progress.done}
        await self.conn.execute(
            f"UPDATE {RUNS_TABLE} SET progress = jsonb_set(progress, ARRAY[%s], %s) WHERE id = %s",
            (table.name, Jsonb(state), self.run.id),
        )


async def _copy_in(
    conn: psycopg.AsyncConnection[Any], table: Table, rows: Iterable[Sequence[Any]]
) -> None:
    """COPY writes the identity columns' values as given, as INSERT … OVERRIDING SYSTEM
    VALUE would, and is the fastest way in."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns),
    )
    async with conn.cursor().copy(statement) as copy:
        for row in rows:
            await copy.write_row(row)


async def _restart_identity(
    conn: psycopg.AsyncConnection[Any], table: str, column: str, sequence: int
) -> None:
    """The next id past every copied one, and past every id SQLite ever gave (AUTOINCREMENT
    never gives a deleted row's id again; the outbox's consumers count on that)."""
    highest = await _one(
        conn,
        sql.SQL("SELECT COALESCE(max({}), 0) FROM {}").format(
            sql.Identifier(column), sql.Identifier(table)
        ),
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence(quote_ident(%s), %s), %s, false)",
        (table, column, max(int(highest), sequence) + 1),
    )


def convert_row(table: Table, row: Sequence[Any]) -> list[Any]:
    converted = []
    for column, value in zip(table.columns, row, strict=True):
        try:
            converted.append(convert(column.kind, value))
        except (TypeError, ValueError) as exc:
            key = [row[i] for i in table.key_positions]
            raise MigrationFailed(f"{table.name} row {key}, column {column.name}: {exc}") from None
    return converted


def convert(kind: Kind, value: Any) -> Any:
    """A SQLite value as its PostgreSQL column takes it; a value of the wrong shape (which
    SQLite's loose typing would have let in) is an error, never guessed at."""
    if value is None:
        return None
    if kind == "instant":
        instant = datetime.fromisoformat(_text(value))
        if instant.tzinfo is None:
            raise ValueError(f"{value!r} is an instant without a time zone")
        return instant
    if kind == "day":
        return date.fromisoformat(_text(value))
    if kind == "boolean":
        if value not in (0, 1) or isinstance(value, str | bytes):
            raise ValueError(f"{value!r} is not a yes/no (0 or 1)")
        return bool(value)
    if kind == "json":
        # Refused here, with its row, rather than by COPY.
        document = json.loads(_text(value))
        if "\\u0000" in value and _holds_nul(document):
            raise ValueError("PostgreSQL's jsonb cannot hold a \\u0000")
        return value  # jsonb parses the text itself, as written
    if kind == "bytes":
        return _typed_value(value, bytes)
    if kind == "integer":
        return _typed_value(value, int)
    return _text(value)


def _holds_nul(document: Any) -> bool:
    if isinstance(document, str):
        return "\x00" in document
    if isinstance(document, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in document.items())
    return isinstance(document, list) and any(_holds_nul(v) for v in document)


def _text(value: Any) -> str:
    text = str(_typed_value(value, str))
    if "\x00" in text:
        raise ValueError("PostgreSQL's text cannot hold a NUL character")
    return text


def _typed_value(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not {kind.__name__}")
    return value


# -- verification -----------------------------------------------------------------------


def canonical(kind: Kind, value: Any) -> str | None:
    """One value as both sides' checksums take it: instants as UTC with microseconds,
    yes/no as 0 or 1, JSON re-serialised with sorted keys, bytes as hex."""
    if value is None:
        return None
    if kind == "instant":
        return ts(value)
    if kind == "day":
        return str(value.isoformat())
    if kind == "boolean":
        return "1" if value else "0"
    if kind == "json":
        return json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"))
    if kind == "bytes":
        return bytes(value).hex()
    return str(value)


class Digest:
    """Rows and a SHA-256 over them in primary key order, one canonical line per row."""

    def __init__(self) -> None:
        self.rows = 0
        self._sha = hashlib.sha256()

    def add(self, values: list[str | None]) -> None:
        self.rows += 1
        self._sha.update(json.dumps(values).encode() + b"\n")

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def source_digests(src: sqlite3.Connection, tables: Sequence[Table]) -> dict[str, Digest]:
    """Every table of one snapshot of the source, each value converted as the copy does."""
    digests: dict[str, Digest] = {}
    src.execute("BEGIN")
    try:
        for table in tables:
            digest = digests[table.name] = Digest()
            columns = ", ".join(_q(c.name) for c in table.columns)
            key = ", ".join(_q(k) for k in table.key)
            for row in src.execute(f"SELECT {columns} FROM {_q(table.name)} ORDER BY {key}"):
                converted = convert_row(table, row)
                digest.add(
                    [canonical(c.kind, v) for c, v in zip(table.columns, converted, strict=True)]
                )
    finally:
        src.execute("ROLLBACK")
    return digests


async def target_digests(
    conn: psycopg.AsyncConnection[Any], tables: Sequence[Table]
) -> dict[str, Digest]:
    digests: dict[str, Digest] = {}
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for table in tables:
            digest = digests[table.name] = Digest()
            async with conn.cursor(name=f"verify_{table.name}") as cursor:
                cursor.itersize = BATCH_ROWS
                await cursor.execute(_target_rows(table))
                async for row in cursor:
                    digest.add(
                        [canonical(c.kind, v) for c, v in zip(table.columns, row, strict=True)]
                    )
    return digests


def _target_rows(table: Table) -> sql.Composed:
    """The table's rows in the order SQLite keeps them: text keys by their bytes (COLLATE
    "C", as SQLite's BINARY), jsonb as its text (psycopg would read a JSON null as NULL)."""
    kinds = {c.name: c.kind for c in table.columns}
    columns = [
        sql.SQL("{}::text" if c.kind == "json" else "{}").format(sql.Identifier(c.name))
        for c in table.columns
    ]
    order = [
        sql.SQL('{} COLLATE "C"' if kinds[k] == "text" else "{}").format(sql.Identifier(k))
        for k in table.key
    ]
    return sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(columns), sql.Identifier(table.name), sql.SQL(", ").join(order)
    )


async def verify_tables(
    src: sqlite3.Connection, conn: psycopg.AsyncConnection[Any], tables: Sequence[Table]
) -> list[TableCheck]:
    source = source_digests(src, tables)
    target = await target_digests(conn, tables)
    return [
        TableCheck(
            t.name,
            source[t.name].rows,
            source[t.name].hexdigest(),
            target[t.name].rows,
            target[t.name].hexdigest(),
        )
        for t in tables
    ]


def blob_problems(src: sqlite3.Connection, uploads: Path) -> tuple[int, list[BlobProblem]]:
    """Every file the complaints refer to (complaint_blobs, and their attachments, which
    also give its size): how many, and those not in the upload directory as named."""
    wanted: dict[str, int | None] = {
        str(sha): None for (sha,) in src.execute("SELECT DISTINCT sha256 FROM complaint_blobs")
    }
    wanted.update(referenced_blobs(src))
    files = BlobStore(uploads)
    problems = []
    for sha, size in sorted(wanted.items()):
        try:
            found = files.path_for(sha).stat().st_size
        except FileNotFoundError:
            problems.append(BlobProblem(sha, "missing"))
            continue
        if size is not None and found != size:
            problems.append(BlobProblem(sha, f"{found} bytes, the complaint says {size}"))
    return len(wanted), problems


def _already_done(
    src: sqlite3.Connection, run: Run, tables: Sequence[Table], uploads: Path
) -> Outcome:
    """A finished run copies nothing more. The target has moved on since (it serves the
    gateway), so only the source is compared, with what the run recorded of it: changed,
    it holds what the target lacks, and copying again would mix the two."""
    recorded = run.checksums or {}
    now = source_digests(src, tables)
    checks = [
        TableCheck(
            t.name, now[t.name].rows, now[t.name].hexdigest(), *recorded.get(t.name, (0, ""))
        )
        for t in tables
    ]
    changed = [c for c in checks if not c.ok]
    if changed:
        rows = ", ".join(f"{c.table} {c.target_rows} -> {c.source_rows} rows" for c in changed)
        raise MigrationRefused(
            f"run {run.id} copied {run.source}, "
            f"but the source has changed since ({rows}): those changes are not in the "
            "target. Copy it again into a new, empty database"
        )
    present, missing = blob_problems(src, uploads)
    return Outcome(run.id, True, {}, tuple(checks), present, tuple(missing))


# -- the report -------------------------------------------------------------------------


def report(outcome: Outcome, uploads: Path) -> list[str]:
    """The verification as a table, then what it means."""
    lines = [f"{'table':<22} {'rows':>9}  {'checksum':<16}  result"]
    for c in outcome.tables:
        if c.ok:
            lines.append(f"{c.table:<22} {c.source_rows:>9}  {c.source_checksum[:16]}  OK")
        else:
            lines.append(
                f"{c.table:<22} {c.source_rows:>9}  {c.source_checksum[:16]}  MISMATCH: the "
                f"target has {c.target_rows} rows, checksum {c.target_checksum[:16]}"
            )
    missing = len(outcome.missing_blobs)
    lines.append(
        f"attachment files: {outcome.blobs} referenced, "
        + (f"{missing} NOT in {uploads}" if missing else f"all in {uploads}")
    )
    lines += [f"  {b.sha256}: {b.reason}" for b in outcome.missing_blobs]
    return lines


def problems(outcome: Outcome) -> list[str]:
    """What went wrong and what to do about it, one message each."""
    found = []
    bad = [c.table for c in outcome.tables if not c.ok]
    if bad:
        found.append(
            f"the target does not match the source in {', '.join(bad)}: did something write "
            "to either during the copy? Stop it, drop the target database, create it empty "
            "and run migrate-store again"
        )
    if outcome.opened_meanwhile is not None:
        found.append(
            f"a process (pid {outcome.opened_meanwhile}; a gateway?) opened the source during "
            "the copy: stop it, then run again with --resume to verify once more"
        )
    if outcome.missing_blobs:
        found.append(
            f"{len(outcome.missing_blobs)} attachment file(s) the complaints refer to are "
            "missing from LAPOR_UPLOAD_DIR: put them back (a backup has them), then run "
            "migrate-store again to check"
        )
    return found


# -- helpers ----------------------------------------------------------------------------


async def _one(
    conn: psycopg.AsyncConnection[Any],
    query: str | sql.Composed,
    params: Sequence[Any] = (),
) -> Any:
    cursor = await conn.execute(query.encode() if isinstance(query, str) else query, params)
    row = await cursor.fetchone()
    return row[0] if row else None


def _q(name: str) -> str:
    """A SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _scheme(url: str) -> str:
    # Only the scheme: the rest of a URL may hold a password.
    return url.split(":", 1)[0]


def _redact(message: str, url: str) -> str:
    password = urlsplit(url).password
    if not password:
        return message
    return message.replace(password, "***").replace(unquote(password), "***")
