"""Group commit, the part both backends share: one queue of writes per process, whatever is
queued run in one transaction and one commit, each caller's future resolved only after the
commit, so nothing is acknowledged before it is durable.

The queue is bounded. When it is full, or the database cannot be written (locked, full,
unreachable: each backend says which errors mean that), a write is refused with
`StoreBusy` (HTTP 503 with Retry-After); it is never half-done, and intake resumes by
itself when the store can write again. The backends' writers (store/sqlite_writer.py,
store/postgres_writer.py) say how a batch runs in a transaction.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from store.base import StoreBusy

log = logging.getLogger(__name__)

Handler = Callable[..., Any]
"""Applies a run of same-kind items inside the open transaction and returns one result per
item; an item's expected failure is returned (not raised) as an exception. Its exact type
is the backend's (a plain function for SQLite, a coroutine function for PostgreSQL)."""


@dataclass
class Job:
    handler: Handler
    item: Any
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommitQueue(abc.ABC):
    name = "writer"

    def __init__(
        self,
        queue_limit: int,
        max_batch: int = 512,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._queue_limit = queue_limit
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._jobs: deque[Job] = deque()
        self._ready = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def _transaction(self, batch: list[Job]) -> list[Any]:
        """Run the batch's runs of handlers in one transaction and commit it; one result
        per job. Raises (and leaves nothing written) if the transaction fails."""

    @abc.abstractmethod
    def _unavailable(self, exc: Exception) -> bool:
        """Whether the error is the database's (cannot write now), not the item's."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def submit(self, handler: Handler, item: Any) -> Any:
        if self._closing:
            raise StoreBusy("the store is shutting down")
        if len(self._jobs) >= self._queue_limit:
            raise StoreBusy("write queue full")
        job = Job(handler, item, asyncio.get_running_loop().create_future())
        self._jobs.append(job)
        self._ready.set()
        return await job.future

    async def close(self) -> None:
        """Stop taking writes, commit what is queued, then stop."""
        self._closing = True
        self._ready.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while self._jobs or not self._closing:
            if not self._jobs:
                self._ready.clear()
                await self._ready.wait()
                continue
            count = min(len(self._jobs), self._max_batch)
            await self._commit_batch([self._jobs.popleft() for _ in range(count)])

    async def _commit_batch(self, batch: list[Job]) -> None:
        try:
            results = await self._transaction(batch)
        except Exception as exc:
            if self._unavailable(exc):
                self._refuse(batch, exc)
                return
            if len(batch) == 1:
                settle(batch, [exc])
                return
            # One bad item must not fail its neighbours: retry each on its own.
            log.warning("batch of %d failed (%s); retrying one by one", len(batch), exc)
            for job in batch:
                await self._commit_batch([job])
            return
        if self._on_commit:
            self._on_commit()
        settle(batch, results)

    def _refuse(self, batch: list[Job], exc: Exception) -> None:
        """Nothing of this batch was written. The jobs queued meanwhile would only wait
        for the same lock (or disk, or server) in turn, each as long: they are refused
        with it, so no caller waits much past one attempt."""
        refused = batch + list(self._jobs)
        self._jobs.clear()
        log.warning("database unavailable (%s); %d write(s) refused as busy", exc, len(refused))
        busy = StoreBusy(f"the database cannot be written now: {exc}")
        settle(refused, [busy] * len(refused))


def runs(batch: list[Job]) -> list[tuple[Handler, list[Job]]]:
    """Consecutive jobs of one handler, so each handler sees its items together."""
    found: list[tuple[Handler, list[Job]]] = []
    for job in batch:
        if found and found[-1][0] == job.handler:  # bound methods are equal, not identical
            found[-1][1].append(job)
        else:
            found.append((job.handler, [job]))
    return found


def settle(jobs: list[Job], results: list[Any]) -> None:
    for job, result in zip(jobs, results, strict=True):
        if job.future.done():  # the caller went away (request cancelled); the write stands
            continue
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)
