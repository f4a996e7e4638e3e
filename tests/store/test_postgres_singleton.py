"""Loops that run once per installation: one holder at a time, and another process takes the
loop over within 10 seconds when the holder dies or loses its connection."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import pytest

from store.postgres_singleton import Singleton, lock_key
from tests.conftest import eventually
from tests.servers import Server

TAKEOVER_WITHIN = 10.0  # the bound
FAST = {"retry_seconds": 0.2, "check_seconds": 0.2}


def url(server: Server) -> str:
    return server.url("postgresql", server.database or "")


@contextlib.asynccontextmanager
async def running(
    singleton: Singleton, loop: Callable[[], Awaitable[None]]
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(singleton.run(loop))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def counting(counts: dict[str, int], who: str) -> Callable[[], Awaitable[None]]:
    async def loop() -> None:
        while True:
            counts[who] = counts.get(who, 0) + 1
            await asyncio.sleep(0.02)

    return loop


def count_of(counts: dict[str, int], who: str) -> Callable[[], Awaitable[int]]:
    async def probe() -> int:
        return counts.get(who, 0)

    return probe


async def holders(server: Server, name: str) -> list[int]:
    """The server processes holding the loop's advisory lock."""
    # A 64-bit key shows as its high and low 32 bits.
    key = lock_key(name) & 0xFFFFFFFFFFFFFFFF
    async with await psycopg.AsyncConnection.connect(url(server), autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
            (key >> 32, key & 0xFFFFFFFF),
        )
        return [int(pid) for (pid,) in await cursor.fetchall()]


async def test_one_holder_runs_the_loop_and_the_other_waits(postgresql_database: Server) -> None:
    counts: dict[str, int] = {}
    first, second = (Singleton(url(postgresql_database), "sweep", **FAST) for _ in range(2))
    async with running(first, counting(counts, "first")):
        async with asyncio.timeout(TAKEOVER_WITHIN):
            await first.holding.wait()
        async with running(second, counting(counts, "second")):
            # The second tries the lock several times meanwhile, and never gets it.
            await eventually(count_of(counts, "first"), lambda n: n >= 50, TAKEOVER_WITHIN)
            assert not second.holding.is_set()
            assert "second" not in counts
            assert len(await holders(postgresql_database, "sweep")) == 1


async def test_loops_of_different_names_run_side_by_side(postgresql_database: Server) -> None:
    counts: dict[str, int] = {}
    sweep = Singleton(url(postgresql_database), "sweep", **FAST)
    sender = Singleton(url(postgresql_database), "sms-sender", **FAST)
    async with (
        running(sweep, counting(counts, "sweep")),
        running(sender, counting(counts, "sender")),
    ):
        async with asyncio.timeout(TAKEOVER_WITHIN):
            await sweep.holding.wait()
            await sender.holding.wait()


async def test_a_holder_that_loses_its_connection_stops_and_the_other_takes_over(
    postgresql_database: Server,
) -> None:
    """The server ends the holder's session (as a failover or an administrator does): the
    holder's loop stops, since its lock is gone, and the waiting one takes the loop over."""
    counts: dict[str, int] = {}
    first, second = (Singleton(url(postgresql_database), "sweep", **FAST) for _ in range(2))
    async with running(first, counting(counts, "first")):
        async with asyncio.timeout(TAKEOVER_WITHIN):
            await first.holding.wait()
        async with running(second, counting(counts, "second")):
            [pid] = await holders(postgresql_database, "sweep")
            async with await psycopg.AsyncConnection.connect(
                url(postgresql_database), autocommit=True
            ) as admin:
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            async with asyncio.timeout(TAKEOVER_WITHIN):
                await second.holding.wait()
            # Both never run at once: the first stopped before the second started.
            stopped_at = counts["first"]
            await eventually(count_of(counts, "second"), lambda n: n >= 10, TAKEOVER_WITHIN)
            assert counts["first"] == stopped_at
            assert [pid] != await holders(postgresql_database, "sweep")


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from store.postgres_singleton import Singleton

    async def loop():
        print("running", flush=True)
        await asyncio.Event().wait()

    asyncio.run(Singleton(sys.argv[1], "sweep", retry_seconds=0.2).run(loop))
    """
)


async def test_when_the_holding_process_is_killed_another_takes_over_within_10_s(
    postgresql_database: Server,
) -> None:
    """A real process holds the loop and is killed with SIGKILL (no clean-up of its own):
    its connection closes with it, and this process runs the loop within 10 seconds."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        url(postgresql_database),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), TAKEOVER_WITHIN)
        assert line.strip() == b"running"
        mine = Singleton(url(postgresql_database), "sweep", retry_seconds=1.0, check_seconds=1.0)
        async with running(mine, counting({}, "mine")):
            # The child's session holds the lock; this process waits for it.
            assert len(await holders(postgresql_database, "sweep")) == 1
            assert not mine.holding.is_set()
            child.send_signal(signal.SIGKILL)
            async with asyncio.timeout(TAKEOVER_WITHIN):
                await mine.holding.wait()
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()


@pytest.mark.parametrize("name", ["sweep", "sms-sender", "gammu-inbox", "x-poller"])
def test_lock_keys_are_stable_and_distinct(name: str) -> None:
    assert lock_key(name) == lock_key(name)
    assert -(2**63) <= lock_key(name) < 2**63
    others = {"sweep", "sms-sender", "gammu-inbox", "x-poller"} - {name}
    assert lock_key(name) not in {lock_key(o) for o in others}
