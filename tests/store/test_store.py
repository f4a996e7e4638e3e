"""The store, on both backends (a SQLite file, a PostgreSQL database): durability,
idempotency, group commit and the outbox.

What the store promises is checked from outside where it can be: a connection of the
test's own reads what was committed (acknowledged means durable). The tests that take
`sqlite_store` are the embedded store's own: its file, its lock, the statements its writer
connection really runs (SQLite's trace callback).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from config.profile import load_profile
from normalizer.models import Channel, ComplaintDraft, Inbound, RawPayload
from normalizer.normalize import normalize
from store.base import (
    EVENT_COMPLAINT_RECEIVED,
    EventComplaint,
    IdempotencyConflict,
    IntakeResult,
    OutboxEvent,
    Store,
    StoreBusy,
)
from store.sqlite import MIGRATIONS, SqliteStore
from store.sqlite_writer import CommitWakeup
from tests.conftest import FRIDAY_BEFORE_HOLIDAY, Clock, eventually, write_locked
from tests.store.backends import BACKENDS, count, instant, opened, rows
from workflow.cases import new_case

PROFILE = load_profile("ketapang")
TEXT = "Jalan di Desa Sukamaju berlubang besar, sudah dua motor jatuh minggu ini."
LEASE = 30.0


INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture(params=BACKENDS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    async with opened(request.param, request, tmp_path, clock) as found:
        yield found


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStore]:
    found = SqliteStore(tmp_path / "lapor.db", clock=clock)
    await found.open()
    yield found
    await found.close()


def draft(
    text: str = TEXT,
    *,
    channel: Channel = Channel.SMS,
    external_id: str | None = None,
    request_hash: str | None = None,
    raw: RawPayload | None = None,
) -> ComplaintDraft:
    body = f"From=%2B6281234567890&Body={text}".encode()
    inbound = Inbound(
        channel=channel,
        external_id=external_id,
        request_hash=request_hash,
        sender="+6281234567890",
        text=text,
        received_at=FRIDAY_BEFORE_HOLIDAY,
        raw=raw or RawPayload(content_type="application/x-www-form-urlencoded", body=body),
    )
    return normalize(inbound, PROFILE)


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection of the test's own: sees only what is committed to the file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


async def trace_writer(store: SqliteStore) -> list[str]:
    """Every statement the store's writer connection runs from now on, in order."""
    conn = store._writer_conn
    assert conn is not None
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # called in the writer thread
    return statements


async def writer_waiting_for_lock(statements: list[str]) -> None:
    """Until the writer waits for the held lock: it tried to begin on the loop, found the
    lock taken, and began again in its thread, where it waits."""

    async def begun() -> int:
        return statements.count("BEGIN IMMEDIATE")

    await eventually(begun, lambda n: n >= 2, 2.0)


# -- opening ---------------------------------------------------------------------------


def migration_names() -> list[str]:
    return sorted(p.name for p in MIGRATIONS.glob("*.sql"))


async def test_open_creates_a_wal_file_with_full_sync_and_records_migrations(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "data" / "lapor.db"
    store = SqliteStore(path, clock=clock)
    await store.open()
    try:
        assert path.is_file()
        assert rows(path, "PRAGMA journal_mode") == [("wal",)]  # a property of the file
        assert (await store.health())["journal_mode"] == "wal"
        # synchronous belongs to each connection: both of the store's must be FULL (2).
        assert store._writer_conn is not None and store._reader is not None
        async with store._reader.execute("PRAGMA synchronous") as cur:
            row = await cur.fetchone()
            assert row is not None and tuple(row) == (2,)
        writer_sync = await store._write.submit(
            lambda conn, items: [conn.execute("PRAGMA synchronous").fetchone()[0]] * len(items),
            None,
        )
        assert writer_sync == 2
        recorded = rows(path, "SELECT version, name FROM schema_migrations ORDER BY version")
        assert [name for _, name in recorded] == migration_names()
        assert [v for v, _ in recorded] == [int(n.split("_", 1)[0]) for n in migration_names()]
    finally:
        await store.close()


async def test_opening_again_applies_nothing_and_keeps_the_data(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "lapor.db"
    first = SqliteStore(path, clock=clock)
    await first.open()
    result = await first.intake(draft())
    await first.close()
    applied = rows(path, "SELECT * FROM schema_migrations")

    clock.advance(days=1)
    again = SqliteStore(path, clock=clock)
    await again.open()
    try:
        assert rows(path, "SELECT * FROM schema_migrations") == applied  # same applied_at
        assert await again.get_complaint(result.complaint.tracking_id) == result.complaint
    finally:
        await again.close()


async def test_stores_opening_one_new_file_at_once_migrate_it_once(
    tmp_path: Path, clock: Clock
) -> None:
    # Two processes (say an intake-only gateway and a dispatcher) started together on a
    # fresh file: neither may fail, and every migration is applied exactly once.
    for attempt in range(3):
        path = tmp_path / f"lapor-{attempt}.db"
        stores = [SqliteStore(path, clock=clock) for _ in range(4)]
        results = await asyncio.gather(*(s.open() for s in stores), return_exceptions=True)
        try:
            assert results == [None] * len(stores)
            names = rows(path, "SELECT name FROM schema_migrations ORDER BY version")
            assert [n for (n,) in names] == migration_names()
            for s in stores:
                assert (await s.intake(draft())).created
        finally:
            for s in stores:
                await s.close()


# -- intake ----------------------------------------------------------------------------


async def test_intake_commits_the_complaint_its_event_and_raw_payload_together(
    store: Store, clock: Clock
) -> None:
    given = draft(external_id="SM0001", request_hash="h1")
    result = await store.intake(given)

    # Acknowledged means durable: the returned intake is already in the file.
    assert result.created
    complaint = result.complaint
    assert rows(
        store,
        "SELECT tracking_id, channel, external_id, text FROM complaints WHERE id = ?",
        (complaint.id,),
    ) == [(complaint.tracking_id, "sms", "SM0001", given.text)]
    [(kind, created_at, claimed_until, attempts, done_at)] = rows(
        store,
        "SELECT kind, created_at, claimed_until, attempts, done_at FROM outbox "
        "WHERE complaint_id = ?",
        (complaint.id,),
    )
    assert (kind, instant(created_at), claimed_until, attempts, done_at) == (
        EVENT_COMPLAINT_RECEIVED, clock.now, None, 0, None
    )  # fmt: skip
    assert given.raw is not None
    assert rows(
        store,
        "SELECT content_type, body FROM inbound_payloads WHERE complaint_id = ?",
        (complaint.id,),
    ) == [(given.raw.content_type, given.raw.body)]
    # What the store keeps reads back as the very complaint it answered with.
    assert await store.get_complaint(complaint.tracking_id) == complaint
    assert complaint.created_at == clock.now


@pytest.mark.parametrize(
    ("first_hash", "retry_hash", "conflict"),
    [
        ("h1", "h1", False),  # a provider retry: same request
        (None, None, False),  # a channel without request hashes: the id alone decides
        ("h1", None, False),
        ("h1", "h2", True),  # the same id reused for another request
    ],
)
async def test_the_same_message_again_is_the_same_complaint(
    store: Store, first_hash: str | None, retry_hash: str | None, conflict: bool
) -> None:
    first = await store.intake(draft(external_id="SM0001", request_hash=first_hash))
    retry = draft("Teks lain yang berbeda sama sekali.", external_id="SM0001")
    retry = retry.model_copy(update={"request_hash": retry_hash})
    if conflict:
        with pytest.raises(IdempotencyConflict):
            await store.intake(retry)
    else:
        again = await store.intake(retry)
        assert (again.created, again.complaint) == (False, first.complaint)
    assert count(store, "complaints") == 1
    assert count(store, "outbox") == 1


async def test_fifty_concurrent_retries_of_one_message_make_one_complaint(
    store: Store,
) -> None:
    results = await asyncio.gather(
        *(store.intake(draft(external_id="SM0042", request_hash="h")) for _ in range(50))
    )
    assert_filed_once(store, results)
    assert count(store, "inbound_payloads") == 1


def assert_filed_once(store: Store, results: list[IntakeResult]) -> None:
    """One complaint with one outbox event, created by exactly one of the results."""
    assert len({r.complaint.tracking_id for r in results}) == 1
    assert [r.created for r in results].count(True) == 1
    assert count(store, "complaints") == 1
    assert count(store, "outbox") == 1


WINDOW = timedelta(minutes=10)


async def test_resends_with_new_message_ids_in_one_batch_make_one_complaint(
    store: Store,
) -> None:
    # A gateway that retries with a fresh id each time: the words and the sender decide.
    results = await asyncio.gather(
        *(store.intake(draft(external_id=f"SM{i}"), WINDOW) for i in range(20))
    )
    assert_filed_once(store, results)


async def test_a_resend_finds_the_complaint_committed_before_it(store: Store) -> None:
    first = await store.intake(draft(external_id="SM1"), WINDOW)
    late = draft(external_id="SM2").model_copy(
        update={"received_at": FRIDAY_BEFORE_HOLIDAY + WINDOW}
    )
    again = await store.intake(late, WINDOW)
    assert (again.created, again.complaint.tracking_id) == (False, first.complaint.tracking_id)
    too_late = late.model_copy(update={"received_at": late.received_at + timedelta(seconds=1)})
    assert (await store.intake(too_late, WINDOW)).created
    assert count(store, "complaints") == 2


async def test_without_a_window_resends_are_new_complaints(store: Store) -> None:
    results = [await store.intake(draft(external_id=f"SM{i}")) for i in range(2)]
    assert all(r.created for r in results)
    assert count(store, "complaints") == 2


async def test_conflicting_retries_in_one_batch_keep_the_first(store: Store) -> None:
    first, second = await asyncio.gather(
        store.intake(draft(external_id="SM7", request_hash="h1")),
        store.intake(draft(external_id="SM7", request_hash="h2")),
        return_exceptions=True,
    )
    assert isinstance(first, IntakeResult) and first.created
    assert isinstance(second, IdempotencyConflict)
    assert rows(store, "SELECT request_hash FROM complaints") == [("h1",)]


async def test_the_same_external_id_on_another_channel_is_another_complaint(
    store: Store,
) -> None:
    sms = await store.intake(draft(channel=Channel.SMS, external_id="12345"))
    telegram = await store.intake(draft(channel=Channel.TELEGRAM, external_id="12345"))
    assert sms.created and telegram.created
    assert sms.complaint.tracking_id != telegram.complaint.tracking_id
    assert count(store, "complaints") == 2


async def test_drafts_without_external_id_are_never_merged(store: Store) -> None:
    same = draft(external_id=None)
    one = await store.intake(same)
    others = await asyncio.gather(*(store.intake(same) for _ in range(5)))
    results = [one, *others]
    assert all(r.created for r in results)
    assert len({r.complaint.tracking_id for r in results}) == 6
    assert count(store, "complaints") == 6
    assert count(store, "outbox") == 6


# -- group commit ----------------------------------------------------------------------


async def test_concurrent_intakes_share_transactions(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    statements = await trace_writer(store)
    results = await asyncio.gather(
        *(store.intake(draft(f"{TEXT} Laporan nomor {i}.")) for i in range(200))
    )
    commits = statements.count("COMMIT")
    assert 1 <= commits < 200
    assert statements.count("BEGIN IMMEDIATE") == commits
    assert len({r.complaint.tracking_id for r in results}) == 200
    assert count(store, "complaints") == 200
    assert count(store, "outbox") == 200


async def test_complaint_ids_grow_in_the_order_complaints_are_filed(
    sqlite_store: SqliteStore,
) -> None:
    store = sqlite_store
    # Five indexes are keyed by the complaint id: in filing order, each insert lands on
    # the last page of each instead of a random page anywhere in the file.
    one_by_one = [(await store.intake(draft(f"{TEXT} Satu per satu {i}."))) for i in range(20)]
    together = await asyncio.gather(
        *(store.intake(draft(f"{TEXT} Bersamaan {i}.")) for i in range(50))
    )
    ids = [r.complaint.id for r in one_by_one + list(together)]
    in_the_file = [id_ for (id_,) in rows(store, "SELECT id FROM complaints ORDER BY rowid")]
    assert ids == in_the_file == sorted(ids)


async def test_a_transaction_begins_on_the_loop_and_waits_for_a_held_lock_in_the_thread(
    sqlite_store: SqliteStore,
) -> None:
    store = sqlite_store
    conn = store._writer_conn
    assert conn is not None
    begun: list[bool] = []  # for each BEGIN: whether it ran on the loop's thread
    loop_thread = threading.get_ident()
    conn.set_trace_callback(
        lambda sql: begun.append(threading.get_ident() == loop_thread) if "BEGIN" in sql else None
    )
    await store.intake(draft(f"{TEXT} Kunci bebas."))
    assert begun == [True]

    begun.clear()
    with write_locked(store.path):
        held = asyncio.create_task(store.intake(draft(f"{TEXT} Kunci dipegang.")))

        async def tries() -> list[bool]:
            return list(begun)

        # Tried on the loop without waiting; then waiting in the thread, the loop free.
        assert await eventually(tries, lambda t: len(t) == 2, 2.0) == [True, False]
        assert not held.done()
    assert (await held).created
    assert count(store, "complaints") == 2


async def test_one_bad_draft_does_not_fail_its_neighbours(sqlite_store: SqliteStore) -> None:
    store = sqlite_store
    statements = await trace_writer(store)
    # A payload without a body passes the model (constructed without validation) but
    # breaks the table's NOT NULL: the complaint it belongs to must not be written either.
    broken = RawPayload.model_construct(content_type="text/plain", body=None)  # type: ignore[arg-type]
    bad = draft("Laporan ini membawa muatan mentah yang rusak.", raw=broken)
    good = [draft(f"{TEXT} Laporan nomor {i}.") for i in range(5)]
    results = await asyncio.gather(
        *(store.intake(d) for d in good[:2]),
        store.intake(bad),
        *(store.intake(d) for d in good[2:]),
        return_exceptions=True,
    )
    assert isinstance(results[2], sqlite3.IntegrityError)
    fine = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, IntakeResult) and r.created for r in fine)
    assert "ROLLBACK" in statements  # they did share a transaction that failed
    assert sorted(t for (t,) in rows(store, "SELECT text FROM complaints")) == sorted(
        d.text for d in good
    )
    assert count(store, "outbox") == 5
    assert count(store, "inbound_payloads") == 5


async def test_a_case_that_breaks_a_foreign_key_does_not_fail_intakes_beside_it(
    sqlite_store: SqliteStore, clock: Clock
) -> None:
    store = sqlite_store
    real = await store.intake(draft())
    [event] = await store.claim_events(1, LEASE, clock.now)
    ghost = real.complaint.model_copy(update={"id": "no-such-complaint"})
    statements = await trace_writer(store)
    results = await asyncio.gather(
        store.intake(draft("Lampu jalan mati di Jalan Merdeka sejak seminggu.")),
        store.open_case(event, new_case(ghost, PROFILE, clock.now)),
        store.intake(draft("Sampah menumpuk di pasar, tidak diangkut tiga hari.")),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert all(isinstance(r, IntakeResult) for r in (results[0], results[2]))
    assert "ROLLBACK TO open_case" in statements  # undone alone, the batch committed
    assert count(store, "complaints") == 3
    assert count(store, "cases") == 0
    assert rows(store, "SELECT done_at FROM outbox WHERE seq = ?", (event.seq,)) == [(None,)]


async def test_a_full_write_queue_refuses_more_and_writes_nothing_half(
    tmp_path: Path, clock: Clock
) -> None:
    store = SqliteStore(tmp_path / "lapor.db", write_queue_limit=2, clock=clock)
    await store.open()
    try:
        statements = await trace_writer(store)
        texts = [f"{TEXT} Laporan nomor {i}." for i in range(5)]
        with write_locked(store.path):
            in_flight = asyncio.create_task(store.intake(draft(texts[0])))
            await writer_waiting_for_lock(statements)  # it holds that one; the queue is empty
            later = [asyncio.create_task(store.intake(draft(t))) for t in texts[1:]]

            async def refused() -> list[bool]:
                return [t.done() for t in later]

            # Two fit in the queue; the other two are refused at once, lock or no lock.
            assert await eventually(refused, any, 2.0) == [False, False, True, True]
            for task in later[2:]:
                assert isinstance(task.exception(), StoreBusy)
            assert count(store, "complaints") == 0
        done = await asyncio.gather(in_flight, *later[:2])
        assert all(r.created for r in done)
        kept = sorted(t for (t,) in rows(store, "SELECT text FROM complaints"))
        assert kept == sorted(texts[:3])
        assert count(store, "outbox") == 3
    finally:
        await store.close()


async def test_close_finishes_queued_writes_first(tmp_path: Path, clock: Clock) -> None:
    store = SqliteStore(tmp_path / "lapor.db", clock=clock)
    await store.open()
    statements = await trace_writer(store)
    with write_locked(store.path):
        in_flight = [asyncio.create_task(store.intake(draft(f"{TEXT} A{i}."))) for i in range(5)]
        await writer_waiting_for_lock(statements)
        queued = [asyncio.create_task(store.intake(draft(f"{TEXT} B{i}."))) for i in range(5)]
        closing = asyncio.create_task(store.close())
    await closing
    assert all(t.done() and t.result().created for t in in_flight + queued)
    assert count(tmp_path / "lapor.db", "complaints") == 10
    assert count(tmp_path / "lapor.db", "outbox") == 10
    with pytest.raises(RuntimeError, match="not open"):
        await store.intake(draft())


# -- reading what was committed --------------------------------------------------------


async def test_a_committed_complaint_is_found_while_other_reads_are_under_way(
    store: Store,
) -> None:
    rounds = 100
    first = (await store.intake(draft(external_id="sms-first"))).complaint
    stop = asyncio.Event()

    async def reading() -> None:  # as the routes read while the dispatcher looks one up
        while not stop.is_set():
            await store.get_complaint(first.tracking_id)  # a row found: a step still to go

    readers = [asyncio.create_task(reading()) for _ in range(16)]
    missed = 0
    try:
        for i in range(rounds):
            filed = (await store.intake(draft(f"{TEXT} ({i})", external_id=f"sms-{i}"))).complaint
            missed += await store.get_complaint(filed.tracking_id) is None
    finally:
        stop.set()
        await asyncio.gather(*readers)
    assert missed == 0, f"{missed} of {rounds} complaints not found right after their commit"


# -- outbox ----------------------------------------------------------------------------


def attempts(store: Store) -> list[int]:
    return [a for (a,) in rows(store, "SELECT attempts FROM outbox ORDER BY seq")]


async def test_one_broken_case_of_a_round_leaves_the_others_opened(
    store: Store, clock: Clock
) -> None:
    filed = [(await store.intake(draft(f"{TEXT} Nomor {i}."))).complaint for i in range(2)]
    events = await store.claim_events(10, LEASE, clock.now)
    ghost = filed[0].model_copy(update={"id": "no-such-complaint"})
    cases = [new_case(ghost, PROFILE, clock.now), new_case(filed[1], PROFILE, clock.now)]
    results = await store.open_cases(list(zip(events, cases, strict=True)))
    assert isinstance(results[0], INTEGRITY_ERRORS) and results[1] is True
    assert rows(store, "SELECT complaint_id FROM cases") == [(filed[1].id,)]
    assert rows(store, "SELECT done_at IS NULL FROM outbox ORDER BY seq") == [(1,), (0,)]


async def test_claims_come_in_order_and_are_leased(store: Store, clock: Clock) -> None:
    filed = [(await store.intake(draft(f"{TEXT} Nomor {i}."))).complaint for i in range(5)]
    now = clock.now

    first = await store.claim_events(3, LEASE, now)
    rest = await store.claim_events(10, LEASE, now)
    assert [e.tracking_id for e in first + rest] == [c.tracking_id for c in filed]
    seqs = [e.seq for e in first + rest]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert first[0] == OutboxEvent(
        seq=first[0].seq,
        kind=EVENT_COMPLAINT_RECEIVED,
        complaint=EventComplaint(
            id=filed[0].id,
            tracking_id=filed[0].tracking_id,
            received_at=filed[0].received_at,
            category=filed[0].category,
        ),
        created_at=filed[0].created_at,
    )
    assert attempts(store) == [1] * 5

    # Within the lease nobody else gets them; once it has run out they are leased again.
    assert await store.claim_events(10, LEASE, now + timedelta(seconds=LEASE - 1)) == []
    again = await store.claim_events(10, LEASE, now + timedelta(seconds=LEASE + 1))
    assert again == first + rest
    assert attempts(store) == [2] * 5


async def test_open_case_is_idempotent_and_finishes_the_event(store: Store, clock: Clock) -> None:
    complaint = (await store.intake(draft())).complaint
    [event] = await store.claim_events(10, LEASE, clock.now)
    case = new_case(complaint, PROFILE, clock.now)

    assert await store.open_case(event, case) is True
    assert await store.open_case(event, case) is False
    assert await store.get_case(complaint.id) == case
    assert count(store, "cases") == 1
    assert rows(store, "SELECT kind, state, actor FROM case_events") == [
        ("case.opened", "diterima", "dispatcher")
    ]
    [(done_at,)] = rows(store, "SELECT done_at FROM outbox WHERE seq = ?", (event.seq,))
    assert done_at is not None
    assert await store.claim_events(10, LEASE, clock.now + timedelta(days=30)) == []
    assert [e.kind for e in await store.timeline(complaint.id)] == [
        "complaint.received",
        "case.opened",
    ]


async def test_a_late_second_delivery_changes_nothing(store: Store, clock: Clock) -> None:
    # Dispatcher A claims and stalls; its lease runs out and B delivers; then A wakes up.
    complaint = (await store.intake(draft())).complaint
    [by_a] = await store.claim_events(10, LEASE, clock.now)
    clock.advance(seconds=LEASE + 1)
    [by_b] = await store.claim_events(10, LEASE, clock.now)
    assert by_b == by_a
    assert await store.open_case(by_b, new_case(complaint, PROFILE, clock.now)) is True
    clock.advance(seconds=5)
    assert await store.open_case(by_a, new_case(complaint, PROFILE, clock.now)) is False
    case = await store.get_case(complaint.id)
    assert case is not None and case.opened_at == clock.now - timedelta(seconds=5)
    assert count(store, "cases") == 1
    assert count(store, "case_events") == 1


async def test_only_new_events_wake_a_waiting_dispatcher(store: Store, clock: Clock) -> None:
    complaint = (await store.intake(draft())).complaint
    # Consume the wake-up of that intake (PostgreSQL's NOTIFY arrives a moment after the
    # commit; the wait returns as soon as it has).
    await store.wait_for_events(2.0)
    waiting = asyncio.create_task(store.wait_for_events(60))
    # The dispatcher's own writes (its claims, the cases it opens) commit too, but bring
    # nothing new to dispatch: were they to wake it, an idle dispatcher would spin.
    [event] = await store.claim_events(10, LEASE, clock.now)
    await store.claim_events(10, LEASE, clock.now)
    await store.open_case(event, new_case(complaint, PROFILE, clock.now))
    await store.claim_events(10, LEASE, clock.now)
    assert not waiting.done()
    await store.intake(draft("Lampu jalan mati di Jalan Merdeka sejak seminggu."))
    await asyncio.wait_for(waiting, 2.0)  # returns as soon as it is woken


async def test_a_waiter_cancelled_as_a_commit_wakes_it_is_cancelled() -> None:
    # Shutting down cancels the dispatcher wherever it waits. Were the cancellation lost
    # when a commit wakes it in the same turn of the loop, it would go on forever and the
    # gateway would never stop (asyncio.wait_for in Python 3.11 loses it so).
    wakeup = CommitWakeup()
    waiting = asyncio.create_task(wakeup.wait(60))
    await asyncio.sleep(0)  # it is waiting
    wakeup.wrote()
    wakeup.committed()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 2.0)
