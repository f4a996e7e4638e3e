"""The embedded store: one SQLite file in WAL mode with `synchronous=FULL`."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from normalizer.models import Attachment, Case, Complaint, ComplaintDraft, TimelineEntry
from store.base import (
    EVENT_COMPLAINT_RECEIVED,
    ComplaintQuery,
    IntakeResult,
    OutboxEvent,
    QueueItem,
    QueuePage,
    QueueSort,
    Store,
)
from store.intake_rules import decide
from store.queue_common import decode_cursor, encode_cursor, escape_like, tracking_id_in
from store.rows import (
    CASE_COLUMNS,
    COMPLAINT_COLUMNS,
    case_from_row,
    case_row,
    complaint_from_row,
    complaint_row,
    event_from_row,
    parse_ts,
    ts,
)
from store.sqlite_events import SqliteEventsStore
from store.sqlite_sms import SqliteSmsStore
from store.sqlite_staff import SqliteStaffStore
from store.sqlite_workflow import SqliteWorkflowStore, count_cases
from store.sqlite_writer import CommitWakeup, GroupCommitWriter

MIGRATIONS = Path(__file__).parent / "migrations" / "sqlite"
_FAR_FUTURE = "9999-12-31T00:00:00.000000Z"
BUSY_TIMEOUT_MS = 5000  # how long a connection waits for another's write lock
CACHE_KIB = 64 * 1024

_INSERT_COMPLAINT = (
    f"INSERT INTO complaints ({', '.join(COMPLAINT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(COMPLAINT_COLUMNS))})"
)
_INSERT_CASE = (
    f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))}) "
    "ON CONFLICT (complaint_id) DO NOTHING"
)
_INSERT_CASE_OPENED = (
    "INSERT INTO case_events (complaint_id, at, kind, state, actor) "
    "VALUES (?, ?, 'case.opened', ?, 'dispatcher')"
)
_INSERT_BLOB_REF = "INSERT OR IGNORE INTO complaint_blobs (sha256, complaint_id) VALUES (?, ?)"
_APPEND_ATTACHMENT = (
    "UPDATE complaints SET attachments = json_insert(attachments, '$[#]', json(?)) "
    "WHERE id = ? AND json_array_length(attachments) < ?"
)
_INSERT_STINT = "INSERT INTO case_agencies (complaint_id, agency, since) VALUES (?, ?, ?)"
_FINISH_EVENT = "UPDATE outbox SET done_at = ? WHERE seq = ?"
_CASE_SELECT = ", ".join(f"k.{c} AS k_{c}" for c in CASE_COLUMNS)

# Everything that happened to one complaint, in order: its receipt, the workflow's events,
# the citizen's follow-ups and ratings, every message to the citizen with how it went, and
# every SMS said to them (answered in the gateway's webhook reply, or sent through a sender),
# and every photo of an MMS once fetched, failed or refused (its type and why, never its
# URL). A status-page code is never shown: it is the citizen's key.
_TIMELINE_PARTS = (
    "SELECT received_at AS at, 'complaint.received' AS kind, NULL AS state, "
    "COALESCE(logged_by, channel) AS actor, NULL AS note, NULL AS role, NULL AS from_state, "
    "0 AS src, 0 AS seq FROM complaints WHERE id = ?",
    "SELECT at, kind, state, actor, note, role, from_state, 1, id "
    "FROM case_events WHERE complaint_id = ?",
    "SELECT received_at, 'complaint.' || kind, rating, channel, text, NULL, NULL, 2, id "
    "FROM complaint_followups WHERE complaint_id = ?",
    "SELECT created_at, 'message.' || purpose, state, channel, "
    "CASE WHEN purpose = 'code' THEN NULL ELSE text END, NULL, NULL, 3, rowid "
    "FROM citizen_messages WHERE complaint_id = ?",
    "SELECT received_at, 'sms.reply', 'answered', gateway, reply, NULL, NULL, 4, rowid "
    "FROM sms_messages WHERE complaint_id = ? AND reply_via = 'http'",
    "SELECT updated_at, 'sms.' || purpose, state, gateway, "
    "CASE WHEN purpose = 'code' THEN NULL ELSE text END "
    "|| COALESCE(' [' || last_error || ']', ''), NULL, NULL, 5, rowid "
    "FROM sms_outbound WHERE complaint_id = ?",
    "SELECT updated_at, 'sms.media', state, gateway, "
    "COALESCE(json_extract(attachment, '$.content_type'), content_type) "
    "|| COALESCE(' [' || last_error || ']', ''), NULL, NULL, 6, id "
    "FROM sms_media WHERE complaint_id = ? AND state <> 'pending'",
)
_TIMELINE = " UNION ALL ".join(_TIMELINE_PARTS) + " ORDER BY at, src, seq"
_TIMELINE_SOURCES = len(_TIMELINE_PARTS)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def sqlite_path(database_url: str) -> Path:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        raise ValueError(f"not a SQLite URL: {database_url!r}")
    return Path(database_url.removeprefix(prefix))


class SqliteStore(SqliteSmsStore, SqliteStaffStore, SqliteWorkflowStore, SqliteEventsStore, Store):
    def __init__(
        self,
        path: Path,
        *,
        write_queue_limit: int = 2000,
        clock: Clock = utcnow,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ):
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._queue_limit = write_queue_limit
        self._rng = secrets.SystemRandom()
        self._events = CommitWakeup()  # new outbox events, for the dispatcher
        self._writer_conn: sqlite3.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._writer: GroupCommitWriter | None = None
        self._outbound = CommitWakeup()  # newly queued SMS, for the outbound worker
        self._notices = CommitWakeup()  # new messages to citizens, for the notifier

    # -- life cycle ---------------------------------------------------------------

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(self._open_writer)
        self._writer_conn = conn
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader.row_factory = aiosqlite.Row
        for pragma in (*self._pragmas(), "query_only=ON"):
            await self._reader.execute(f"PRAGMA {pragma}")
        self._writer = GroupCommitWriter(conn, self._queue_limit, on_commit=self._committed)
        self._writer.start()

    def _pragmas(self) -> tuple[str, ...]:
        # 64 MiB of page cache (SQLite's default is 2 MiB): the random-key indexes (ids,
        # tracking IDs, duplicate keys) touch a page anywhere in the file on every insert.
        return (
            "synchronous=FULL",
            "foreign_keys=ON",
            f"busy_timeout={self._busy_timeout_ms}",
            f"cache_size=-{CACHE_KIB}",
        )

    def _open_writer(self) -> sqlite3.Connection:
        """The write connection, the file in WAL and migrated. From here on the writer
        uses it on the event loop, and in its thread for BEGIN and COMMIT, never both at
        once (hence check_same_thread off)."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in self._pragmas():
                conn.execute(f"PRAGMA {pragma}")
            self._use_wal(conn)
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (a property of the file, so a no-op once done).

        When two connections switch a new file at once, SQLite answers the loser "database
        is locked" at once instead of waiting (waiting could deadlock); it backs off and
        tries again, as long as the busy timeout, and then finds the file in WAL.
        """
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                row = conn.execute("PRAGMA journal_mode=WAL").fetchone()
                break
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if row is None or row[0] != "wal":
            raise RuntimeError(f"{self.path}: could not switch to WAL ({row and row[0]})")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Apply pending migrations, safely when several processes open one file at once.

        Every step is a `BEGIN IMMEDIATE` transaction: it waits for the write lock (the
        busy timeout applies), where a read that upgrades to a write in autocommit may fail
        at once with "database is locked" when another process has just written.
        """
        _script(
            conn,
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);",
        )
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            version = int(path.name.split("_", 1)[0])
            if version in applied:
                continue
            # The version is recorded first, so a process that applied this migration
            # since we looked makes this insert fail before any of the script runs.
            record = (
                f"INSERT INTO schema_migrations VALUES ({version}, '{path.name}', "
                f"'{ts(self._clock())}');"
            )
            try:
                _script(conn, f"{record}\n{path.read_text()}")
            except sqlite3.IntegrityError:
                found = conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                ).fetchone()
                if found is None:
                    raise

    async def close(self) -> None:
        if self._writer:
            await self._writer.close()
        if self._reader:
            await self._reader.close()
        if self._writer_conn:
            self._writer_conn.close()  # the writer thread has stopped
        self._writer = self._reader = self._writer_conn = None

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows, read to the end in one step on the reader thread.

        A statement left half-read (a cursor fetched one row at a time while other reads
        interleave on the one connection) keeps its read transaction, and with it an old
        snapshot, open for every statement after it: a complaint committed a moment ago
        would not be found."""
        if self._reader is None:
            raise RuntimeError("store is not open")
        return list(await self._reader.execute_fetchall(sql, params))

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    @property
    def _write(self) -> GroupCommitWriter:
        if self._writer is None:
            raise RuntimeError("store is not open")
        return self._writer

    # -- intake ---------------------------------------------------------------------

    async def intake(
        self, draft: ComplaintDraft, duplicate_window: timedelta = timedelta(0)
    ) -> IntakeResult:
        result: IntakeResult = await self._write.submit(
            self._intake_batch, (draft, duplicate_window)
        )
        return result

    def _intake_batch(
        self, conn: sqlite3.Connection, items: Sequence[tuple[ComplaintDraft, timedelta]]
    ) -> list[Any]:
        known = _existing(conn, [draft for draft, _ in items])
        recent = _recent(conn, items)
        now = self._clock()
        created_at = ts(now)
        results, created = decide(items, known, recent, now, self._rng)
        complaints, outbox, payloads, blobs = [], [], [], []
        for draft, complaint in created:
            complaints.append(complaint_row(draft, complaint.id, complaint.tracking_id, now))
            outbox.append((EVENT_COMPLAINT_RECEIVED, complaint.id, created_at))
            if draft.raw is not None:
                payloads.append((complaint.id, draft.raw.content_type, draft.raw.body))
            blobs += [(a.sha256, complaint.id) for a in draft.attachments]
        if complaints:
            conn.executemany(_INSERT_COMPLAINT, complaints)
            conn.executemany(
                "INSERT INTO outbox (kind, complaint_id, created_at) VALUES (?, ?, ?)", outbox
            )
            self._events.wrote()
        if payloads:
            conn.executemany("INSERT INTO inbound_payloads VALUES (?, ?, ?)", payloads)
        if blobs:
            conn.executemany(_INSERT_BLOB_REF, blobs)
        return results

    def _attach(
        self, conn: sqlite3.Connection, complaint_id: str, attachment: Attachment, max_files: int
    ) -> bool:
        """Append a file to a complaint's attachments and reference it, unless the complaint
        holds `max_files` already; inside the open transaction (an MMS photo, fetched after
        its complaint was filed)."""
        row = (attachment.model_dump_json(), complaint_id, max_files)
        if conn.execute(_APPEND_ATTACHMENT, row).rowcount != 1:
            return False
        conn.execute(_INSERT_BLOB_REF, (attachment.sha256, complaint_id))
        return True

    # -- reads ----------------------------------------------------------------------

    async def get_complaint(self, tracking_id: str) -> Complaint | None:
        row = await self._row("SELECT * FROM complaints WHERE tracking_id = ?", (tracking_id,))
        return complaint_from_row(row) if row else None

    async def get_case(self, complaint_id: str) -> Case | None:
        row = await self._row("SELECT * FROM cases WHERE complaint_id = ?", (complaint_id,))
        return case_from_row(row) if row else None

    async def timeline(self, complaint_id: str) -> list[TimelineEntry]:
        rows = await self._rows(_TIMELINE, (complaint_id,) * _TIMELINE_SOURCES)
        return [
            TimelineEntry(at=parse_ts(r["at"]), **_without(r, "at", "src", "seq")) for r in rows
        ]

    async def list_complaints(self, query: ComplaintQuery, now: datetime) -> QueuePage:
        where, params = _filters(query, now)
        source, order, key = _ORDERS[query.sort]
        if query.cursor:
            op = "<" if query.sort is QueueSort.NEWEST else ">"
            where.append(f"({', '.join(key)}) {op} ({', '.join('?' * len(key))})")
            params.extend(decode_cursor(query.cursor, query.sort, len(key)))
        key_columns = ", ".join(f"{expr} AS _k{i}" for i, expr in enumerate(key))
        sql = (
            f"SELECT c.*, {_CASE_SELECT}, {key_columns} FROM {source} "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY {order} LIMIT ?"
        )
        params.append(query.limit + 1)
        rows = await self._rows(sql, params)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        items = [
            QueueItem(
                complaint=complaint_from_row(r),
                case=case_from_row(r, prefix="k_") if r["k_complaint_id"] else None,
            )
            for r in rows
        ]
        last = rows[-1] if more else None
        cursor = (
            encode_cursor([last[f"_k{i}"] for i in range(len(key))], query.sort) if last else None
        )
        return QueuePage(items=items, next_cursor=cursor)

    # -- outbox and cases -----------------------------------------------------------

    async def claim_events(
        self, limit: int, lease_seconds: float, now: datetime
    ) -> list[OutboxEvent]:
        lease_until = ts(datetime.fromtimestamp(now.timestamp() + lease_seconds, UTC))

        def claim(conn: sqlite3.Connection, claims: Sequence[None]) -> list[Any]:
            # Claims batched together are served in turn: a later one finds what is left.
            return [claim_one(conn) for _ in claims]

        def claim_one(conn: sqlite3.Connection) -> list[OutboxEvent]:
            rows = conn.execute(
                "SELECT o.seq, o.kind, o.created_at, o.data, o.complaint_id, c.tracking_id, "
                "c.received_at, c.category "
                "FROM outbox o JOIN complaints c ON c.id = o.complaint_id "
                "WHERE o.done_at IS NULL AND (o.claimed_until IS NULL OR o.claimed_until < ?) "
                "ORDER BY o.seq LIMIT ?",
                (ts(now), limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 WHERE seq = ?",
                [(lease_until, r["seq"]) for r in rows],
            )
            return [event_from_row(r) for r in rows]

        events: list[OutboxEvent] = await self._write.submit(claim, None)
        return events

    async def open_cases(
        self, opened: Sequence[tuple[OutboxEvent, Case]]
    ) -> list[bool | Exception]:
        # One job for the whole round: a dispatcher draining a backlog must not fill the
        # write queue that intakes need, nor be refused by it.
        results: list[bool | Exception] = await self._write.submit(
            self._open_cases_job, list(opened)
        )
        return results

    def _open_cases_job(
        self, conn: sqlite3.Connection, rounds: Sequence[list[tuple[OutboxEvent, Case]]]
    ) -> list[Any]:
        return [self._open_round(conn, pairs) for pairs in rounds]

    def _open_round(
        self, conn: sqlite3.Connection, pairs: list[tuple[OutboxEvent, Case]]
    ) -> list[Any]:
        """The whole round in a few statements. Should one event break a constraint (its
        complaint gone), the round is undone and opened event by event: that event gets
        its error, and the rest open."""
        conn.execute("SAVEPOINT open_case")
        try:
            results: list[Any] = self._open_all(conn, pairs)
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK TO open_case")
            if len(pairs) == 1:
                results = [exc]
            else:
                results = [r for pair in pairs for r in self._open_round(conn, [pair])]
        conn.execute("RELEASE open_case")
        return results

    def _open_all(
        self, conn: sqlite3.Connection, pairs: list[tuple[OutboxEvent, Case]]
    ) -> list[bool]:
        ids = [case.complaint_id for _, case in pairs]
        sql = f"SELECT complaint_id FROM cases WHERE complaint_id IN ({', '.join('?' * len(ids))})"
        opened = {row[0] for row in conn.execute(sql, ids)}
        created = []
        for _, case in pairs:
            created.append(case.complaint_id not in opened)
            opened.add(case.complaint_id)  # the same complaint twice in a round: once
        new = [case for (_, case), fresh in zip(pairs, created, strict=True) if fresh]
        conn.executemany(_INSERT_CASE, [case_row(case) for case in new])
        count_cases(conn, Counter((c.agency or "", c.state) for c in new))
        stints = [(c.complaint_id, c.agency, ts(c.opened_at)) for c in new if c.agency]
        if stints:
            conn.executemany(_INSERT_STINT, stints)
        conn.executemany(
            _INSERT_CASE_OPENED, [(c.complaint_id, ts(c.opened_at), c.state) for c in new]
        )
        done = ts(self._clock())
        conn.executemany(_FINISH_EVENT, [(done, event.seq) for event, _ in pairs])
        return created

    async def finish_events(self, seqs: Sequence[int], now: datetime) -> None:
        def finish(conn: sqlite3.Connection, items: Sequence[list[int]]) -> list[Any]:
            done = ts(now)
            conn.executemany(_FINISH_EVENT, [(done, seq) for item in items for seq in item])
            return [None] * len(items)

        await self._write.submit(finish, list(seqs))

    def _committed(self) -> None:
        self._events.committed()
        self._outbound.committed()
        self._notices.committed()

    async def wait_for_events(self, max_wait: float) -> None:
        await self._events.wait(max_wait)

    async def wait_for_notices(self, max_wait: float) -> None:
        await self._notices.wait(max_wait)

    async def referenced_blobs(self, shas: Collection[str]) -> set[str]:
        wanted = sorted(set(shas))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # within SQLite's parameter limit
            chunk = wanted[start : start + 500]
            rows = await self._rows(
                "SELECT DISTINCT sha256 FROM complaint_blobs "
                f"WHERE sha256 IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update(row[0] for row in rows)
        return found

    async def health(self) -> dict[str, object]:
        row = await self._row("PRAGMA journal_mode")
        # No file path: /healthz is public, and the layout of the server is nobody's business.
        return {"backend": "sqlite", "journal_mode": row[0] if row else None}


def _recent(
    conn: sqlite3.Connection, items: Sequence[tuple[ComplaintDraft, timedelta]]
) -> dict[str, list[Complaint]]:
    """Complaints that drafts of this batch may duplicate, by duplicate key, oldest
    first: one query for the whole batch."""
    wanted = [(d.duplicate_key, d.received_at - w) for d, w in items if w and d.duplicate_key]
    if not wanted:
        return {}
    keys = sorted({key for key, _ in wanted})
    sql = (
        f"SELECT * FROM complaints WHERE duplicate_key IN ({', '.join('?' * len(keys))}) "
        "AND received_at >= ? ORDER BY received_at, id"
    )
    found: dict[str, list[Complaint]] = {}
    for row in conn.execute(sql, [*keys, ts(min(since for _, since in wanted))]):
        found.setdefault(row["duplicate_key"], []).append(complaint_from_row(row))
    return found


def _existing(
    conn: sqlite3.Connection, drafts: Sequence[ComplaintDraft]
) -> dict[tuple[str, str | None], Complaint]:
    by_channel: dict[str, set[str]] = {}
    for d in drafts:
        if d.external_id:
            by_channel.setdefault(d.channel.value, set()).add(d.external_id)
    found: dict[tuple[str, str | None], Complaint] = {}
    for channel, ids in by_channel.items():
        # `channel = ? AND external_id IN (...)` searches the unique index; a row-value
        # `(channel, external_id) IN (VALUES ...)` scans the whole table, every batch.
        sql = (
            f"SELECT * FROM complaints WHERE channel = ? "
            f"AND external_id IN ({', '.join('?' * len(ids))})"
        )
        for row in conn.execute(sql, [channel, *ids]):
            complaint = complaint_from_row(row)
            found[(channel, complaint.external_id)] = complaint
    return found


def _script(conn: sqlite3.Connection, body: str) -> None:
    """Run a script in one transaction (executescript alone commits statement by
    statement), rolled back if any statement fails."""
    try:
        conn.executescript(f"BEGIN IMMEDIATE;\n{body}\nCOMMIT;")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _without(row: aiosqlite.Row, *names: str) -> dict[str, Any]:
    return {k: row[k] for k in row.keys() if k not in names}  # noqa: SIM118 (Row yields values)


# Sort orders, with the rows they start from and their keyset: (FROM clause, ORDER BY
# clause, the columns the cursor compares). Newest: every complaint, on their time index.
# Urgent: cases by their current deadline, those without one (answered, closed) last, on
# the cases' urgency indexes (the expression is the indexes' own, letter for letter); a
# complaint not yet dispatched (a moment's state) is not among them.
_URGENT_KEY = f"COALESCE(k.due_at, '{_FAR_FUTURE}')"
_ORDERS: dict[QueueSort, tuple[str, str, tuple[str, ...]]] = {
    QueueSort.NEWEST: (
        "complaints c LEFT JOIN cases k ON k.complaint_id = c.id",
        "c.received_at DESC, c.id DESC",
        ("c.received_at", "c.id"),
    ),
    QueueSort.URGENT: (
        "cases k JOIN complaints c ON c.id = k.complaint_id",
        f"{_URGENT_KEY} ASC, k.complaint_id ASC",
        (_URGENT_KEY, "k.complaint_id"),
    ),
}


def _filters(query: ComplaintQuery, now: datetime) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        where.append(clause)
        params.extend(values)

    if query.state:
        add("k.state = ?", query.state)
    if query.states:
        add(f"k.state IN ({', '.join('?' * len(query.states))})", *query.states)
    if query.channel:
        add("c.channel = ?", query.channel.value)
    if query.category:
        add("c.category = ?", query.category)
    if query.classification:
        add("c.classification = ?", query.classification.value)
    if query.agency:
        add("COALESCE(k.agency, k.suggested_agency) = ?", query.agency)
    if query.seen_by_agency:
        add(
            "c.id IN (SELECT a.complaint_id FROM case_agencies a WHERE a.agency = ?)",
            query.seen_by_agency,
        )
        # Of a case that moved away, the agency knows only that it moved: a filter on what
        # became of it (its state, agency, deadline) never singles it out.
        if (
            query.state
            or query.states
            or query.agency
            or query.overdue is not None
            or query.due_soon_until
        ):
            add("k.agency = ?", query.seen_by_agency)
    # One definition of overdue everywhere: the current deadline (k.due_at, none once
    # answered or closed) has passed.
    if query.overdue is True:
        add("k.due_at <= ?", ts(now))
    elif query.overdue is False:
        add("(k.due_at IS NULL OR k.due_at > ?)", ts(now))
    if query.due_soon_until:
        add("k.due_at > ? AND k.due_at <= ?", ts(now), ts(query.due_soon_until))
    if query.flag:
        # flags is a space-separated list of words without '%' or '_' (Flag values).
        add("(' ' || c.flags || ' ') LIKE ?", f"% {query.flag.value} %")
    if query.text:
        tracking_id = tracking_id_in(query.text)
        if tracking_id is not None:
            # A tracking ID names one complaint: found on its index, not by reading every
            # text (at 50 000 complaints, 80 ms where the index takes one).
            add("c.tracking_id = ?", tracking_id)
        else:
            pattern = "%" + escape_like(query.text) + "%"
            # A confidential complaint's words are searched only for those who may read them.
            readable = "1" if not query.seen_by_agency else "(c.confidential = 0 OR k.agency = ?)"
            add(
                f"({readable}) AND (c.text LIKE ? ESCAPE '\\' OR c.location LIKE ? ESCAPE '\\')",
                *((query.seen_by_agency,) if query.seen_by_agency else ()),
                pattern,
                pattern,
            )
    if query.received_from:
        add("c.received_at >= ?", ts(query.received_from))
    if query.received_before:
        add("c.received_at < ?", ts(query.received_before))
    return where, params
