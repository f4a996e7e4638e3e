"""The shared store: PostgreSQL, for installations of several gateway processes on one or
more hosts (`LAPOR_DATABASE_URL=postgresql://…`). The same contract as the embedded SQLite
store (store/base.py), the same row mapping (store/rows.py); what differs is how rows are
written (store/postgres_writer.py) and how processes hear of each other's commits
(LISTEN/NOTIFY, store/postgres_part.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.abc import QueryNoTemplate as Query
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from normalizer.models import Attachment, Case, Complaint, ComplaintDraft, TimelineEntry
from store.base import (
    EVENT_COMPLAINT_RECEIVED,
    ComplaintQuery,
    IntakeResult,
    OutboxEvent,
    QueuePage,
    Store,
    StoreBusy,
)
from store.intake_rules import decide, replay
from store.postgres_events import PostgresEventsStore
from store.postgres_part import WAKEUPS, Params
from store.postgres_queue import list_complaints
from store.postgres_schema import migrate
from store.postgres_singleton import Singleton
from store.postgres_sms import PostgresSmsStore
from store.postgres_staff import PostgresStaffStore
from store.postgres_workflow import PostgresWorkflowStore, count_cases
from store.postgres_writer import UNAVAILABLE, Conn, PgGroupCommitWriter, bounded
from store.rows import (
    CASE_COLUMNS,
    COMPLAINT_COLUMNS,
    case_from_row,
    case_row,
    complaint_from_row,
    complaint_row,
    event_from_row,
)
from store.sqlite import Clock, utcnow
from store.sqlite_writer import CommitWakeup

log = logging.getLogger(__name__)

POOL_SIZE = 10
"""Connections per process: reads, the writer's transactions, the singleton loops' own."""
POOL_WAIT_SECONDS = 5.0
"""How long a request waits for a connection before it is answered 503 (busy)."""
LISTEN_RETRY_SECONDS = 1.0
WRITE_WITHIN_SECONDS = 5.0
"""A batch of writes not committed by then (the server hung) is refused as busy."""
READ_WITHIN_SECONDS = 15.0
"""A read not answered by then is busy; longer than writes: a year's recap is one read."""

# The row mapping is SQLite's, whose yes/no columns are 0 and 1: PostgreSQL takes them as
# booleans by an explicit cast. Every other value is text PostgreSQL reads as its column's
# type (psycopg sends text untyped): instants, days, JSON documents.
_BOOLEAN = frozenset({"anonymous", "confidential", "verification_late", "completion_late"})


def _values(columns: Sequence[str]) -> str:
    return ", ".join("%s::int4::boolean" if c in _BOOLEAN else "%s" for c in columns)


_INSERT_COMPLAINT = (
    f"INSERT INTO complaints ({', '.join(COMPLAINT_COLUMNS)}) "
    f"VALUES ({_values(COMPLAINT_COLUMNS)}) ON CONFLICT (channel, external_id) DO NOTHING "
    "RETURNING id"
)
_INSERT_CASE = (
    f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({_values(CASE_COLUMNS)}) "
    "ON CONFLICT (complaint_id) DO NOTHING RETURNING complaint_id"
)
_INSERT_CASE_OPENED = (
    "INSERT INTO case_events (complaint_id, at, kind, state, actor) "
    "VALUES (%s, %s, 'case.opened', %s, 'dispatcher')"
)
_INSERT_BLOB_REF = (
    "INSERT INTO complaint_blobs (sha256, complaint_id) VALUES (%s, %s) ON CONFLICT DO NOTHING"
)
_INSERT_STINT = "INSERT INTO case_agencies (complaint_id, agency, since) VALUES (%s, %s, %s)"
_FINISH_EVENT = "UPDATE outbox SET done_at = %s WHERE seq = %s"

# Everything that happened to one complaint, in order (as the SQLite store's timeline):
# its receipt, the workflow's events, the citizen's follow-ups and ratings, every message
# to the citizen, every SMS said to them, every MMS photo once fetched, failed or refused.
# A status-page code is never shown. `seq` orders alike instants within one source.
_TIMELINE = """
SELECT received_at AS at, 'complaint.received' AS kind, NULL AS state,
    COALESCE(logged_by, channel) AS actor, NULL AS note, NULL AS role, NULL AS from_state,
    0 AS src, '' AS seq FROM complaints WHERE id = %(id)s
UNION ALL SELECT at, kind, state, actor, note, role, from_state, 1, lpad(id::text, 20, '0')
    FROM case_events WHERE complaint_id = %(id)s
UNION ALL SELECT received_at, 'complaint.' || kind, rating, channel, text, NULL, NULL, 2,
    lpad(id::text, 20, '0') FROM complaint_followups WHERE complaint_id = %(id)s
UNION ALL SELECT created_at, 'message.' || purpose, state, channel,
    CASE WHEN purpose = 'code' THEN NULL ELSE text END, NULL, NULL, 3, id
    FROM citizen_messages WHERE complaint_id = %(id)s
UNION ALL SELECT received_at, 'sms.reply', 'answered', gateway, reply, NULL, NULL, 4,
    message_id FROM sms_messages WHERE complaint_id = %(id)s AND reply_via = 'http'
UNION ALL SELECT updated_at, 'sms.' || purpose, state, gateway,
    CASE WHEN purpose = 'code' THEN NULL ELSE text END
    || COALESCE(' [' || last_error || ']', ''), NULL, NULL, 5, id
    FROM sms_outbound WHERE complaint_id = %(id)s
UNION ALL SELECT updated_at, 'sms.media', state, gateway,
    COALESCE(attachment ->> 'content_type', content_type)
    || COALESCE(' [' || last_error || ']', ''), NULL, NULL, 6, lpad(id::text, 20, '0')
    FROM sms_media WHERE complaint_id = %(id)s AND state <> 'pending'
ORDER BY at, src, seq
"""


class PostgresStore(
    PostgresSmsStore, PostgresStaffStore, PostgresWorkflowStore, PostgresEventsStore, Store
):
    def __init__(
        self,
        database_url: str,
        *,
        write_queue_limit: int = 2000,
        clock: Clock = utcnow,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self._url = database_url
        self._clock = clock
        self._queue_limit = write_queue_limit
        self._pool_size = pool_size
        self._rng = secrets.SystemRandom()
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._writer: PgGroupCommitWriter | None = None
        self._listener: asyncio.Task[None] | None = None
        self._events = CommitWakeup()  # new outbox events, in any process
        self._outbound = CommitWakeup()  # SMS queued to send
        self._notices = CommitWakeup()  # messages to citizens
        self._listening = asyncio.Event()

    # -- life cycle ---------------------------------------------------------------

    async def open(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._url) as conn:
            applied = await migrate(conn, self._clock())
        if applied:
            log.info("postgresql: applied migrations %s", ", ".join(applied))
        self._pool = AsyncConnectionPool(
            self._url,
            min_size=min(2, self._pool_size),
            max_size=self._pool_size,
            timeout=POOL_WAIT_SECONDS,
            kwargs={"row_factory": dict_row, "autocommit": True},
            configure=_configure,
            open=False,
            name="lapor",
        )
        await self._pool.open(wait=True)
        self._writer = PgGroupCommitWriter(
            self._pool, self._queue_limit, within=WRITE_WITHIN_SECONDS
        )
        self._writer.start()
        self._listener = asyncio.create_task(self._listen(), name="postgresql-listen")
        async with asyncio.timeout(POOL_WAIT_SECONDS):
            await self._listening.wait()

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._pool is not None:
            await self._pool.close()
        self._writer = self._listener = self._pool = None

    async def _listen(self) -> None:
        """Hear every process's commits (NOTIFY lapor_<wakeup>) and wake this process's
        waiters. After a lost connection every waiter is woken once it listens again: a
        commit may have passed unheard, and a waiter that finds nothing waits again."""
        wakeups = {f"lapor_{name}": getattr(self, f"_{name}") for name in WAKEUPS}
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    for channel in wakeups:
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    if self._listening.is_set():  # a reconnection: commits may have passed
                        _wake(wakeups.values())
                    self._listening.set()
                    async for notice in conn.notifies():
                        _wake([wakeups[notice.channel]])
            except psycopg.OperationalError as exc:
                log.warning("postgresql: listening failed (%s); again", type(exc).__name__)
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _rows(self, query: Query, params: Params = ()) -> list[DictRow]:
        """All rows of a read; the server out of reach, or not answering within
        READ_WITHIN_SECONDS, is busy (503), as for writes."""
        if self._pool is None:
            raise RuntimeError("store is not open")
        try:
            return await bounded(self._read(self._pool, query, params), READ_WITHIN_SECONDS)
        except UNAVAILABLE as exc:
            raise StoreBusy(f"the database cannot be read now: {type(exc).__name__}") from exc

    @staticmethod
    async def _read(pool: AsyncConnectionPool[Conn], query: Query, params: Params) -> list[DictRow]:
        async with pool.connection() as conn:
            cursor = await conn.execute(query, params)
            rows: list[DictRow] = await cursor.fetchall()
            return rows

    async def _row(self, query: Query, params: Params = ()) -> DictRow | None:
        rows = await self._rows(query, params)
        return rows[0] if rows else None

    @property
    def _write(self) -> PgGroupCommitWriter:
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

    async def _intake_batch(
        self, conn: Conn, items: Sequence[tuple[ComplaintDraft, timedelta]]
    ) -> list[Any]:
        known = await _existing(conn, [draft for draft, _ in items])
        recent = await _recent(conn, items)
        now = self._clock()
        results, created = decide(items, known, recent, now, self._rng)
        if created:
            await self._insert_complaints(conn, created, now, results)
        return results

    async def _insert_complaints(
        self,
        conn: Conn,
        created: list[tuple[ComplaintDraft, Complaint]],
        now: datetime,
        results: list[Any],
    ) -> None:
        """Insert the new complaints with their outbox events, payloads and file
        references. Another process may have taken the same message in since this batch
        looked (its transaction committed in between): that draft gets its complaint."""
        inserted: set[str] = set()
        async with conn.cursor() as cursor:
            await cursor.executemany(
                _INSERT_COMPLAINT,
                [complaint_row(d, c.id, c.tracking_id, now) for d, c in created],
                returning=True,
            )
            while True:
                row = await cursor.fetchone()
                if row is not None:
                    inserted.add(row["id"])
                if not cursor.nextset():
                    break
        lost = [(d, c) for d, c in created if c.id not in inserted]
        if lost:
            taken = await _existing(conn, [d for d, _ in lost])
            at = {r.complaint.id: i for i, r in enumerate(results) if isinstance(r, IntakeResult)}
            for draft, complaint in lost:
                prior = taken[(draft.channel.value, draft.external_id)]
                results[at[complaint.id]] = replay(prior, draft)
        new = [(d, c) for d, c in created if c.id in inserted]
        if not new:
            return
        await self._lock_outbox(conn)
        async with conn.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO outbox (kind, complaint_id, created_at) VALUES (%s, %s, %s)",
                [(EVENT_COMPLAINT_RECEIVED, c.id, now) for _, c in new],
            )
            payloads = [(c.id, d.raw.content_type, d.raw.body) for d, c in new if d.raw]
            if payloads:
                await cursor.executemany(
                    "INSERT INTO inbound_payloads VALUES (%s, %s, %s)", payloads
                )
            blobs = [(a.sha256, c.id) for d, c in new for a in d.attachments]
            if blobs:
                await cursor.executemany(_INSERT_BLOB_REF, blobs)
        await self._notify(conn, "events")

    async def _attach(
        self, conn: Conn, complaint_id: str, attachment: Attachment, max_files: int
    ) -> bool:
        """Append a file to a complaint's attachments and reference it, unless the complaint
        holds `max_files` already; inside the open transaction."""
        cursor = await conn.execute(
            "UPDATE complaints SET attachments = attachments || %s "
            "WHERE id = %s AND jsonb_array_length(attachments) < %s",
            (Jsonb([attachment.model_dump(mode="json")]), complaint_id, max_files),
        )
        if cursor.rowcount != 1:
            return False
        await conn.execute(_INSERT_BLOB_REF, (attachment.sha256, complaint_id))
        return True

    # -- reads ----------------------------------------------------------------------

    async def get_complaint(self, tracking_id: str) -> Complaint | None:
        row = await self._row("SELECT * FROM complaints WHERE tracking_id = %s", (tracking_id,))
        return complaint_from_row(row) if row else None

    async def get_case(self, complaint_id: str) -> Case | None:
        row = await self._row("SELECT * FROM cases WHERE complaint_id = %s", (complaint_id,))
        return case_from_row(row) if row else None

    async def timeline(self, complaint_id: str) -> list[TimelineEntry]:
        rows = await self._rows(_TIMELINE, {"id": complaint_id})
        return [
            TimelineEntry(**{k: v for k, v in r.items() if k not in ("src", "seq")}) for r in rows
        ]

    async def list_complaints(self, query: ComplaintQuery, now: datetime) -> QueuePage:
        return await list_complaints(self, query, now)

    # -- outbox and cases -----------------------------------------------------------

    async def claim_events(
        self, limit: int, lease_seconds: float, now: datetime
    ) -> list[OutboxEvent]:
        """SKIP LOCKED: dispatchers of several processes claim at once, each event once."""
        lease_until = now + timedelta(seconds=lease_seconds)

        async def claim(conn: Conn, _: Sequence[None]) -> list[Any]:
            cursor = await conn.execute(
                "WITH claimed AS (SELECT seq FROM outbox WHERE done_at IS NULL "
                "AND (claimed_until IS NULL OR claimed_until < %s) "
                "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED) "
                "UPDATE outbox o SET claimed_until = %s, attempts = o.attempts + 1 "
                "FROM claimed, complaints c WHERE o.seq = claimed.seq AND c.id = o.complaint_id "
                "RETURNING o.seq, o.kind, o.created_at, o.data, o.complaint_id, c.tracking_id, "
                "c.received_at, c.category",
                (now, limit, lease_until),
            )
            rows = sorted(await cursor.fetchall(), key=lambda r: r["seq"])
            return [[event_from_row(r) for r in rows]]

        events: list[OutboxEvent] = await self._write.submit(claim, None)
        return events

    async def open_cases(
        self, opened: Sequence[tuple[OutboxEvent, Case]]
    ) -> list[bool | Exception]:
        results: list[bool | Exception] = await self._write.submit(
            self._open_cases_job, list(opened)
        )
        return results

    async def _open_cases_job(
        self, conn: Conn, rounds: Sequence[list[tuple[OutboxEvent, Case]]]
    ) -> list[Any]:
        return [await self._open_round(conn, pairs) for pairs in rounds]

    async def _open_round(self, conn: Conn, pairs: list[tuple[OutboxEvent, Case]]) -> list[Any]:
        """The whole round at once; should one event break a constraint (its complaint
        gone), the round is undone and opened event by event."""
        try:
            async with conn.transaction():
                return await self._open_all(conn, pairs)
        except psycopg.errors.IntegrityError as exc:
            if len(pairs) == 1:
                return [exc]
            return [r for pair in pairs for r in await self._open_round(conn, [pair])]

    async def _open_all(self, conn: Conn, pairs: list[tuple[OutboxEvent, Case]]) -> list[bool]:
        """A case is created once however many dispatchers open it: the insert that finds
        it there (committed by another process, or earlier in this round) creates none."""
        new: list[Case] = []
        created: list[bool] = []
        async with conn.cursor() as cursor:
            for _, case in pairs:
                await cursor.execute(_INSERT_CASE, case_row(case))
                fresh = await cursor.fetchone() is not None
                created.append(fresh)
                if fresh:
                    new.append(case)
            if new:
                await count_cases(conn, Counter((c.agency or "", c.state) for c in new))
                stints = [(c.complaint_id, c.agency, c.opened_at) for c in new if c.agency]
                if stints:
                    await cursor.executemany(_INSERT_STINT, stints)
                await cursor.executemany(
                    _INSERT_CASE_OPENED, [(c.complaint_id, c.opened_at, c.state) for c in new]
                )
            done = self._clock()
            await cursor.executemany(_FINISH_EVENT, [(done, event.seq) for event, _ in pairs])
        return created

    async def finish_events(self, seqs: Sequence[int], now: datetime) -> None:
        async def finish(conn: Conn, items: Sequence[list[int]]) -> list[Any]:
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    _FINISH_EVENT, [(now, seq) for item in items for seq in item]
                )
            return [None] * len(items)

        await self._write.submit(finish, list(seqs))

    async def wait_for_events(self, max_wait: float) -> None:
        await self._events.wait(max_wait)

    async def wait_for_notices(self, max_wait: float) -> None:
        await self._notices.wait(max_wait)

    async def referenced_blobs(self, shas: Collection[str]) -> set[str]:
        rows = await self._rows(
            "SELECT DISTINCT sha256 FROM complaint_blobs WHERE sha256 = ANY(%s)",
            (sorted(set(shas)),),
        )
        return {row["sha256"] for row in rows}

    async def once_per_installation(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run the loop while this process holds its advisory lock
        (store/postgres_singleton.py); another process takes it over within seconds when
        this one dies."""
        await Singleton(self._url, name).run(loop)

    async def health(self) -> dict[str, object]:
        row = await self._row("SELECT current_setting('server_version') AS version")
        # No host or database name: /healthz is public.
        return {"backend": "postgresql", "server_version": row["version"] if row else None}


async def _configure(conn: Conn) -> None:
    """Every pooled connection reads and writes instants in UTC."""
    await conn.execute("SET TIME ZONE 'UTC'")


def _wake(wakeups: Collection[CommitWakeup]) -> None:
    for wakeup in wakeups:
        wakeup.wrote()
        wakeup.committed()


async def _existing(
    conn: Conn, drafts: Sequence[ComplaintDraft]
) -> dict[tuple[str, str | None], Complaint]:
    by_channel: dict[str, set[str]] = {}
    for d in drafts:
        if d.external_id:
            by_channel.setdefault(d.channel.value, set()).add(d.external_id)
    found: dict[tuple[str, str | None], Complaint] = {}
    for channel, ids in by_channel.items():
        cursor = await conn.execute(
            "SELECT * FROM complaints WHERE channel = %s AND external_id = ANY(%s)",
            (channel, sorted(ids)),
        )
        for row in await cursor.fetchall():
            complaint = complaint_from_row(row)
            found[(channel, complaint.external_id)] = complaint
    return found


async def _recent(
    conn: Conn, items: Sequence[tuple[ComplaintDraft, timedelta]]
) -> dict[str, list[Complaint]]:
    """Complaints that drafts of this batch may duplicate, by duplicate key, oldest first."""
    wanted = [(d.duplicate_key, d.received_at - w) for d, w in items if w and d.duplicate_key]
    if not wanted:
        return {}
    # Processes taking in the same text at once take its key's lock in turn, so the later
    # one finds the earlier one's complaint (SQLite's single writer does this by itself).
    # Sorted, so two batches never wait for each other's keys crosswise.
    for key in sorted({key for key, _ in wanted}):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
    cursor = await conn.execute(
        "SELECT * FROM complaints WHERE duplicate_key = ANY(%s) AND received_at >= %s "
        "ORDER BY received_at, id",
        (sorted({key for key, _ in wanted}), min(since for _, since in wanted)),
    )
    found: dict[str, list[Complaint]] = {}
    for row in await cursor.fetchall():
        found.setdefault(row["duplicate_key"], []).append(complaint_from_row(row))
    return found
