"""Group commit for SQLite: one writer thread, many requests per transaction and per fsync.

SQLite allows one writer at a time, and with `synchronous=FULL` every commit costs an
fsync. All writes go through one thread that owns the write connection: it takes whatever
is queued, runs it in one transaction, commits, and only then resolves each caller's
future, so nothing is acknowledged before it is durable.

The whole transaction runs in that thread, as plain synchronous sqlite3 calls: the event
loop hands a batch over once and hears back once, instead of once per statement.

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
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from store.base import StoreBusy

log = logging.getLogger(__name__)

# A handler applies a run of same-kind items inside the open transaction and returns one
# result per item; an item's expected failure is returned (not raised) as an exception.
# It runs in the writer thread: plain sqlite3 calls and pure code only, no event loop.
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
        """`on_commit` is called in the writer thread after each commit."""
        self._conn = conn  # used by the writer thread only, once started
        self._queue_limit = queue_limit
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._jobs: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    async def submit(self, handler: BatchHandler, item: Any) -> Any:
        if self._loop is None:
            raise RuntimeError("the writer is not started")
        job = _Job(handler, item, self._loop.create_future())
        with self._ready:
            if self._closing:
                raise StoreBusy("the store is shutting down")
            if len(self._jobs) >= self._queue_limit:
                raise StoreBusy("write queue full")
            self._jobs.append(job)
            self._ready.notify()
        return await job.future

    async def close(self) -> None:
        """Stop taking writes, commit what is queued, then stop the thread."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        if self._stopped is not None:
            await self._stopped

    # -- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                self._commit_batch(batch)
        finally:
            assert self._loop is not None and self._stopped is not None
            stopped = self._stopped
            with contextlib.suppress(RuntimeError):  # the loop itself is gone
                self._loop.call_soon_threadsafe(stopped.set_result, None)

    def _next_batch(self) -> list[_Job] | None:
        """The queued jobs (up to the batch limit), waiting for one; None once closed and
        drained."""
        with self._ready:
            while not self._jobs:
                if self._closing:
                    return None
                self._ready.wait()
            return [self._jobs.popleft() for _ in range(min(len(self._jobs), self._max_batch))]

    def _commit_batch(self, batch: list[_Job]) -> None:
        try:
            results = self._transaction(batch)
        except Exception as exc:
            if _unavailable(exc):
                self._refuse(batch, exc)
                return
            if len(batch) == 1:
                self._settle(batch, [exc])
                return
            # One bad item must not fail its neighbours: retry each on its own.
            log.warning("batch of %d failed (%s); retrying one by one", len(batch), exc)
            for job in batch:
                self._commit_batch([job])
            return
        if self._on_commit:
            self._on_commit()
        self._settle(batch, results)

    def _refuse(self, batch: list[_Job], exc: Exception) -> None:
        """Nothing of this batch was written. The jobs queued meanwhile would only wait
        for the same lock (or disk) in turn, each as long: they are refused with it, so no
        caller waits much past one busy timeout."""
        with self._ready:
            waiting = list(self._jobs)
            self._jobs.clear()
        refused = batch + waiting
        log.warning("database unavailable (%s); %d write(s) refused as busy", exc, len(refused))
        busy = StoreBusy(f"the database cannot be written now: {exc}")
        self._settle(refused, [busy] * len(refused))

    def _transaction(self, batch: list[_Job]) -> list[Any]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            results: list[Any] = []
            for handler, jobs in _runs(batch):
                results.extend(handler(self._conn, [j.item for j in jobs]))
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return results

    def _settle(self, jobs: list[_Job], results: list[Any]) -> None:
        """Hand the results to the event loop in one call."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_settle_all, jobs, results)


class CommitWakeup:
    """Wakes whoever waits for a kind of row (outbox events, SMS to send) once a transaction
    that wrote some has committed. Only those commits wake it: waking on every commit (the
    waiter's own claims included) would have it find nothing in a busy loop.

    `wrote` and `committed` are called in the writer thread, `bind` and `wait` on the event
    loop, `bind` before the writer starts (so no commit comes before it)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._written = False  # set inside a transaction, until it commits

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def wrote(self) -> None:
        self._written = True

    def committed(self) -> None:
        if self._written:
            self._written = False
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, max_wait: float) -> None:
        """Return once such a commit happened, or after `max_wait` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), max_wait)
        self._event.clear()


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


def _settle_all(jobs: list[_Job], results: list[Any]) -> None:
    for job, result in zip(jobs, results, strict=True):
        if job.future.done():  # the caller went away (request cancelled); the write stands
            continue
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)
