"""Group commit for PostgreSQL (the queue itself is store/group_commit.py): the same
contract as SQLite's, many requests' rows in one transaction and one commit, nothing
acknowledged before it is committed, `StoreBusy` (HTTP 503 with Retry-After) when the
queue is full or the server cannot be reached or written.

PostgreSQL takes many writers at once, so here the batching is for throughput only: one
BEGIN and one COMMIT, and one wait for the server's WAL flush, per batch instead of per
request. Each process of an installation has its own writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from store.group_commit import GroupCommitQueue, Job, runs

Conn = psycopg.AsyncConnection[DictRow]
PgJob = Callable[[Conn], Awaitable[Any]]
"""A write of its own, a coroutine function of the connection inside the transaction."""

log = logging.getLogger(__name__)

T = TypeVar("T")

DEADLOCK_TRIES = 3

# The server cannot be reached or cannot take writes now, whatever the item.
UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    PoolTimeout,
    psycopg.errors.DiskFull,
    psycopg.errors.ReadOnlySqlTransaction,
    TimeoutError,
)


class PgGroupCommitWriter(GroupCommitQueue):
    name = "postgresql-writer"

    def __init__(
        self,
        pool: AsyncConnectionPool[Conn],
        queue_limit: int,
        max_batch: int = 512,
        on_commit: Callable[[], None] | None = None,
        within: float = 5.0,
    ) -> None:
        super().__init__(queue_limit, max_batch, on_commit)
        self._pool = pool
        self._within = within

    def _unavailable(self, exc: Exception) -> bool:
        return isinstance(exc, UNAVAILABLE)

    async def _transaction(self, batch: list[Job]) -> list[Any]:
        """The batch in one transaction. PostgreSQL may end it as a deadlock's victim
        (two processes' batches locking rows in turn): nothing of it was written, and it
        runs again, up to DEADLOCK_TRIES times before it is refused as busy."""
        tries = 1
        while True:
            try:
                return await self._attempt(batch)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
                if tries == DEADLOCK_TRIES:
                    raise
                tries += 1
                log.info("batch of %d rolled back (%s); again", len(batch), type(exc).__name__)

    async def _attempt(self, batch: list[Job]) -> list[Any]:
        return await bounded(self._run_batch(batch), self._within)

    async def _run_batch(self, batch: list[Job]) -> list[Any]:
        async with self._pool.connection() as conn, conn.transaction():
            results: list[Any] = []
            for handler, jobs in runs(batch):
                results.extend(await handler(conn, [j.item for j in jobs]))
            return results


async def run_each(conn: Conn, jobs: Sequence[PgJob]) -> list[Any]:
    """A handler for writes of their own kind: runs each under its own savepoint: one that
    fails is undone and its exception handed back to its caller, and the batch's other
    jobs still commit. The server's own failure fails the whole batch."""
    results: list[Any] = []
    for job in jobs:
        try:
            async with conn.transaction():  # nested: a savepoint
                results.append(await job(conn))
        except Exception as exc:  # returned, not raised: only this job's caller sees it
            if isinstance(exc, UNAVAILABLE):
                raise
            results.append(exc)
    return results


async def bounded(work: Coroutine[Any, Any, T], seconds: float) -> T:
    """`work`'s result, or TimeoutError (busy) after `seconds`.

    A server that takes the connection but never answers (a hung host, a network that
    drops every packet) holds a query, and the driver's own cancellation of it, until it
    answers again: `asyncio.timeout` would wait for that. Here the work is cancelled and
    left to end in the background; its transaction never commits (the driver cancels it
    when the server answers again, or the server ends it with the connection)."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_forget)
        raise TimeoutError(f"no answer from the database within {seconds:g} s")
    return task.result()


def _forget(task: asyncio.Task[Any]) -> None:
    """Collect the outcome of abandoned work, so it is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()
