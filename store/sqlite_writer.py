"""Group commit for SQLite: one writer, many requests per transaction and per fsync.

SQLite allows one writer at a time, and with `synchronous=FULL` every commit costs an
fsync. All writes go through one queue: the writer takes whatever is queued, runs it in
one transaction, commits, and only then resolves each caller's future, so nothing is
acknowledged before it is durable.

Where each step runs matters more than anything else for throughput. The statements of a
batch run on the event loop, as plain synchronous sqlite3 calls: they are microseconds
each, and a thread of their own would have to win the GIL back from the busy loop after
every one of them (each sqlite3 call lets the GIL go), waiting up to a switch interval
each time. Only the steps that wait run in a thread, while the loop goes on serving
requests: `COMMIT` (the fsync, and the WAL checkpoints), and `BEGIN IMMEDIATE` when
another connection holds the lock (it waits, up to the busy timeout). A free lock is
taken on the loop, at once.

The queue is bounded. When it is full, or the database stays locked past the busy timeout
(another process, a long checkpoint), or the disk is full, a write is refused with
`StoreBusy` (HTTP 503 with Retry-After); it is never half-done, and intake resumes by
itself when the store can write again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from store.base import StoreBusy

log = logging.getLogger(__name__)

# A handler applies a run of same-kind items inside the open transaction and returns one
# result per item; an item's expected failure is returned (not raised) as an exception.
# It runs on the event loop between BEGIN and COMMIT: plain sqlite3 calls and pure code,
# nothing that waits.
BatchHandler = Callable[[sqlite3.Connection, Sequence[Any]], list[Any]]

# The store cannot write at all, whatever the item: the callers answer 503 and retry.
_UNAVAILABLE = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL)


@dataclass
class _Job:
    handler: BatchHandler
    item: Any
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommitWriter:
    def __init__(
        self,
        conn: sqlite3.Connection,
        queue_limit: int,
        max_batch: int = 512,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._conn = conn  # its own thread is only ever the one waiting step at a time
        self._busy_timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        self._queue_limit = queue_limit
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._jobs: deque[_Job] = deque()
        self._ready = asyncio.Event()
        self._closing = False
        self._waits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sqlite-writer")

    async def submit(self, handler: BatchHandler, item: Any) -> Any:
        if self._closing:
            raise StoreBusy("the store is shutting down")
        if len(self._jobs) >= self._queue_limit:
            raise StoreBusy("write queue full")
        job = _Job(handler, item, asyncio.get_running_loop().create_future())
        self._jobs.append(job)
        self._ready.set()
        return await job.future

    async def close(self) -> None:
        """Stop taking writes, commit what is queued, then stop."""
        self._closing = True
        self._ready.set()
        if self._task is not None:
            await self._task
        self._waits.shutdown()

    async def _run(self) -> None:
        while self._jobs or not self._closing:
            if not self._jobs:
                self._ready.clear()
                await self._ready.wait()
                continue
            count = min(len(self._jobs), self._max_batch)
            await self._commit_batch([self._jobs.popleft() for _ in range(count)])

    async def _commit_batch(self, batch: list[_Job]) -> None:
        try:
            results = await self._transaction(batch)
        except Exception as exc:
            if _unavailable(exc):
                self._refuse(batch, exc)
                return
            if len(batch) == 1:
                _settle(batch, [exc])
                return
            # One bad item must not fail its neighbours: retry each on its own.
            log.warning("batch of %d failed (%s); retrying one by one", len(batch), exc)
            for job in batch:
                await self._commit_batch([job])
            return
        if self._on_commit:
            self._on_commit()
        _settle(batch, results)

    def _refuse(self, batch: list[_Job], exc: Exception) -> None:
        """Nothing of this batch was written. The jobs queued meanwhile would only wait
        for the same lock (or disk) in turn, each as long: they are refused with it, so no
        caller waits much past one busy timeout."""
        refused = batch + list(self._jobs)
        self._jobs.clear()
        log.warning("database unavailable (%s); %d write(s) refused as busy", exc, len(refused))
        busy = StoreBusy(f"the database cannot be written now: {exc}")
        _settle(refused, [busy] * len(refused))

    async def _transaction(self, batch: list[_Job]) -> list[Any]:
        if not self._begin_at_once():
            await self._wait_for("BEGIN IMMEDIATE")
        try:
            results: list[Any] = []
            for handler, jobs in _runs(batch):
                results.extend(handler(self._conn, [j.item for j in jobs]))
            await self._wait_for("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return results

    def _begin_at_once(self) -> bool:
        """BEGIN IMMEDIATE on the loop, if no other connection holds the write lock. The
        lock is nearly always free, and each step handed to the thread costs the thread a
        wait for the GIL from the busy loop, going and coming back."""
        self._conn.execute("PRAGMA busy_timeout = 0")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _unavailable(exc):
                raise
            return False
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        return True

    async def _wait_for(self, statement: str) -> None:
        """Run a statement that may wait (for the lock, for the disk) off the loop. The
        connection is not touched again until it has returned, cancelled or not."""
        done = asyncio.get_running_loop().run_in_executor(
            self._waits, self._conn.execute, statement
        )
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await done
            raise


class CommitWakeup:
    """Wakes whoever waits for a kind of row (outbox events, SMS to send) once a transaction
    that wrote some has committed. Only those commits wake it: waking on every commit (the
    waiter's own claims included) would have it find nothing in a busy loop."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._written = False  # set inside a transaction, until it commits
        self._followers: list[CommitWakeup] = []

    def follower(self) -> CommitWakeup:
        """Another waiter for the same commits, with a wake-up of its own: two waiters on
        one would clear it under each other, and one would sleep through a commit."""
        follower = CommitWakeup()
        self._followers.append(follower)
        return follower

    def wrote(self) -> None:
        self._written = True

    def committed(self) -> None:
        if self._written:
            self._written = False
            self._event.set()
            for follower in self._followers:
                follower._event.set()

    async def wait(self, max_wait: float) -> None:
        """Return once such a commit happened, or after `max_wait` seconds."""
        # asyncio.timeout, not wait_for: in Python 3.11, wait_for loses a cancellation
        # that comes in the same turn of the loop as the wake-up, and the waiter (the
        # dispatcher at shutdown) then never stops.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max_wait):
                await self._event.wait()
        self._event.clear()


def run_each(
    conn: sqlite3.Connection, jobs: Sequence[Callable[[sqlite3.Connection], Any]]
) -> list[Any]:
    """A handler for writes of their own kind, each a function of the connection: runs each
    under its own savepoint: one that fails is undone and its exception
    handed back to its caller, and the batch's other jobs still commit."""
    results: list[Any] = []
    for job in jobs:
        conn.execute("SAVEPOINT job")
        try:
            results.append(job(conn))
        except Exception as exc:  # returned, not raised: only this job's caller sees it
            conn.execute("ROLLBACK TO job")
            results.append(exc)
        conn.execute("RELEASE job")
    return results


def _runs(batch: list[_Job]) -> list[tuple[BatchHandler, list[_Job]]]:
    """Consecutive jobs of one handler, so each handler sees its items together."""
    runs: list[tuple[BatchHandler, list[_Job]]] = []
    for job in batch:
        if runs and runs[-1][0] == job.handler:  # bound methods are equal, not identical
            runs[-1][1].append(job)
        else:
            runs.append((job.handler, [job]))
    return runs


def _unavailable(exc: Exception) -> bool:
    """A lock held too long or a full disk (any extended code): the store, not the item."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.OperationalError)
        and code is not None
        and (code & 0xFF in _UNAVAILABLE)
    )


def _settle(jobs: list[_Job], results: list[Any]) -> None:
    for job, result in zip(jobs, results, strict=True):
        if job.future.done():  # the caller went away (request cancelled); the write stands
            continue
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)
