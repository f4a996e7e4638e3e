"""Loops that must run once per installation (the Gammu inbox poller, the long-SMS timeout,
the SMS sender, the workflow's sweep, a channel's poller) when many gateway processes
share one PostgreSQL: each holds a session advisory lock named after it, on a connection
of its own, while it runs.

Exactly one process holds a lock at a time. When that process dies its connection closes
and PostgreSQL releases the lock; a process waiting for it tries again every
`retry_seconds` and takes the loop over. A holder whose connection is lost (the network,
the server) has lost the lock with it, so it stops its loop at once rather than run beside
the next holder. A host that vanishes without closing its connection is noticed by TCP
keepalives, set per connection to give up after about `KEEPALIVE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable

import psycopg
from psycopg.conninfo import make_conninfo

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 6
"""How long a silent peer may stay unnoticed: idle 3 s, then 3 probes 1 s apart."""
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 3,
    "keepalives_interval": 1,
    "keepalives_count": 3,
}


def lock_key(name: str) -> int:
    """The advisory lock's 64-bit key for a loop's name, the same in every process."""
    return int.from_bytes(hashlib.sha256(f"lapor-loop:{name}".encode()).digest()[:8], signed=True)


class Singleton:
    """Run one loop in at most one process of the installation at a time."""

    def __init__(
        self,
        database_url: str,
        name: str,
        *,
        retry_seconds: float = 2.0,
        check_seconds: float = 2.0,
    ) -> None:
        self._url = database_url
        self.name = name
        self._key = lock_key(name)
        self._retry = retry_seconds
        self._check = check_seconds
        self.holding = asyncio.Event()
        """Set while this process holds the lock and runs the loop."""

    async def run(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Wait for the lock, run `loop` while holding it; if the lock is lost, stop the
        loop and wait for the lock again. Returns when `loop` returns; cancel to stop."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    make_conninfo(self._url, **_KEEPALIVES), autocommit=True
                ) as conn:
                    if await self._try_lock(conn):
                        log.info("loop %s: this process runs it", self.name)
                        if await self._hold(conn, loop):
                            return
            except psycopg.OperationalError as exc:
                log.warning("loop %s: database unreachable (%s)", self.name, type(exc).__name__)
            await asyncio.sleep(self._retry)

    async def _try_lock(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> bool:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def _hold(
        self, conn: psycopg.AsyncConnection[tuple[object, ...]], loop: Callable[[], Awaitable[None]]
    ) -> bool:
        """Run the loop while the connection holding the lock answers; True when the loop
        returned, False when the lock was lost."""
        task = asyncio.ensure_future(loop())
        self.holding.set()
        try:
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=self._check)
                if done:
                    break
                try:
                    async with asyncio.timeout(self._check + KEEPALIVE_SECONDS):
                        await conn.execute("SELECT 1")
                except (psycopg.OperationalError, TimeoutError):
                    log.warning("loop %s: lost its lock with its connection; stopped", self.name)
                    return False
            task.result()  # the loop's own error, if it raised one
            return True
        finally:
            self.holding.clear()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
