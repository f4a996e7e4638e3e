"""Group commit for SQLite (the queue itself is store/group_commit.py). SQLite allows one
writer at a time, and with `synchronous=FULL` every commit costs an fsync: all writes go
through one queue, and the writer runs whatever is queued in one transaction.

Where each step runs matters more than anything else for throughput. The statements of a
batch run on the event loop, as plain synchronous sqlite3 calls: they are microseconds
each, and a thread of their own would have to win the GIL back from the busy loop after
every one of them (each sqlite3 call lets the GIL go), waiting up to a switch interval
each time. Only the steps that wait run in a thread, while the loop goes on serving
requests: `COMMIT` (the fsync, and the WAL checkpoints), and `BEGIN IMMEDIATE` when
another connection holds the lock (it waits, up to the busy timeout). A free lock is
taken on the loop, at once. The database locked past the busy timeout (another process,
a long checkpoint) or a full disk refuses the write as busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from store.group_commit import GroupCommitQueue, Job, runs

# A handler applies a run of same-kind items inside the open transaction and returns one
# result per item; an item's expected failure is returned (not raised) as an exception.
# It runs on the event loop between BEGIN and COMMIT: plain sqlite3 calls and pure code,
# nothing that waits.
BatchHandler = Callable[[sqlite3.Connection, Sequence[Any]], list[Any]]

# The store cannot write at all, whatever the item: the callers answer 503 and retry.
_UNAVAILABLE = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL)


class GroupCommitWriter(GroupCommitQueue):
    name = "sqlite-writer"

    def __init__(
        self,
        conn: sqlite3.Connection,
        queue_limit: int,
        max_batch: int = 512,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(queue_limit, max_batch, on_commit)
        self._conn = conn  # its own thread is only ever the one waiting step at a time
        self._busy_timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        self._waits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")

    async def close(self) -> None:
        await super().close()
        self._waits.shutdown()

    def _unavailable(self, exc: Exception) -> bool:
        """A lock held too long or a full disk (any extended code): the store, not the item."""
        code = getattr(exc, "sqlite_errorcode", None)
        return (
            isinstance(exc, sqlite3.OperationalError)
            and code is not None
            and (code & 0xFF in _UNAVAILABLE)
        )

    async def _transaction(self, batch: list[Job]) -> list[Any]:
        if not self._begin_at_once():
            await self._wait_for("BEGIN IMMEDIATE")
        try:
            results: list[Any] = []
            for handler, jobs in runs(batch):
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
            if not self._unavailable(exc):
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
