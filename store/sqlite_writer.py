"""Group commit for SQLite: one writer, many requests per transaction and per fsync.

SQLite allows one writer at a time, and with `synchronous=FULL` every commit costs an
fsync. Funnelling all writes through one task that takes whatever is queued and commits
it together turns N concurrent intakes into one fsync, and each caller's future resolves
only after that commit returns, so nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from store.base import StoreBusy

log = logging.getLogger(__name__)

# A handler applies a run of same-kind items inside the open transaction and returns one
# result per item; an item's expected failure is returned (not raised) as an exception.
BatchHandler = Callable[[aiosqlite.Connection, Sequence[Any]], Awaitable[list[Any]]]


@dataclass
class _Job:
    handler: BatchHandler
    item: Any
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommitWriter:
    def __init__(
        self,
        conn: aiosqlite.Connection,
        queue_limit: int,
        max_batch: int = 512,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._conn = conn
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(queue_limit)
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sqlite-writer")

    async def submit(self, handler: BatchHandler, item: Any) -> Any:
        if self._closing:
            raise StoreBusy("the store is shutting down")
        job = _Job(handler, item, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise StoreBusy("write queue full") from None
        return await job.future

    async def close(self) -> None:
        """Stop taking writes, commit what is queued, then stop."""
        self._closing = True
        await self._queue.join()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit_batch(self, batch: list[_Job]) -> None:
        try:
            results = await self._transaction(batch)
        except Exception as exc:
            if _is_locked(exc):
                # Another process held the write lock past the busy timeout: nothing of
                # this batch was written, and trying its items one by one would only wait
                # again, once each. The callers answer 503 and their clients retry.
                log.warning("database locked; %d write(s) refused as busy", len(batch))
                for job in batch:
                    _settle(job, StoreBusy("the database is locked by another writer"))
                return
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            # One bad item must not fail its neighbours: retry each on its own.
            log.warning("batch of %d failed (%s); retrying one by one", len(batch), exc)
            for job in batch:
                await self._commit_batch([job])
            return
        for job, result in zip(batch, results, strict=True):
            _settle(job, result)
        if self._on_commit:
            self._on_commit()

    async def _transaction(self, batch: list[_Job]) -> list[Any]:
        await self._conn.execute("BEGIN IMMEDIATE")
        try:
            results: list[Any] = []
            for handler, jobs in _runs(batch):
                results.extend(await handler(self._conn, [j.item for j in jobs]))
            await self._conn.execute("COMMIT")
        except BaseException:
            await self._conn.execute("ROLLBACK")
            raise
        return results


class CommitWakeup:
    """Wakes whoever waits for a kind of row (outbox events, SMS to send) once a transaction
    that wrote some has committed. Only those commits wake it: waking on every commit (the
    waiter's own claims included) would have it find nothing in a busy loop."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._written = False  # set inside a transaction, until it commits

    def wrote(self) -> None:
        self._written = True

    def committed(self) -> None:
        if self._written:
            self._written = False
            self._event.set()

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


def _is_locked(exc: Exception) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (with any extended code): a lock, not a bad item."""
    code = getattr(exc, "sqlite_errorcode", None)
    busy = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF in busy


def _settle(job: _Job, result: Any) -> None:
    if job.future.done():  # the caller went away (request cancelled); the write stands
        return
    if isinstance(result, BaseException):
        job.future.set_exception(result)
    else:
        job.future.set_result(result)
