"""Back-pressure on PostgreSQL: a server that goes away under a running store.

A private PostgreSQL server of the test's own (tests/servers.py) is stopped, as an
administrator's restart or a failover stops it, under a PostgresStore and under a gateway
on it. Intake and reads are refused with `StoreBusy` (HTTP 503 with Retry-After) within
the pool's wait for a connection, nothing is half-written, and once the server is back
the store writes again by itself: no restart of the store or the gateway.

The SQLite store's twin of this is a write lock held by another process
(tests/store/test_store.py, tests/gateway/test_crash_safety.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import ClientSession

from store.base import IntakeResult, Store, StoreBusy
from store.postgres import POOL_WAIT_SECONDS, PostgresStore
from tests.conftest import Clock, eventually, start_gateway
from tests.servers import PostgresqlCluster, private_postgresql_cluster
from tests.store.backends import count, rows
from tests.store.test_store import TEXT, draft

T = TypeVar("T")

# A refusal comes once the pool has waited for a connection; the rest is the loop's own.
ANSWER_WITHIN = POOL_WAIT_SECONDS + 2.0
# The pool tries to reconnect at doubling intervals (psycopg_pool's backoff), so the store
# writes again at its next try after the server is back: about as long again as the outage
# lasted, which here is a few seconds.
RESUME_WITHIN = 30.0
REFUSED = 20  # intakes sent while the server is down


@pytest.fixture
def cluster() -> Iterator[PostgresqlCluster]:
    """A PostgreSQL server of this test's own, to stop and start again."""
    with private_postgresql_cluster() as started:
        yield started


@pytest.fixture
async def pg_store(cluster: PostgresqlCluster, clock: Clock) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(url(cluster), clock=clock)
    await store.open()
    yield store
    await store.close()


def url(cluster: PostgresqlCluster) -> str:
    return cluster.server.url("postgresql", cluster.server.database or "")


async def timed(work: Awaitable[T]) -> tuple[T | StoreBusy, float]:
    """What `work` gave, or the StoreBusy it raised, and how long it took to say so."""
    started = time.monotonic()
    try:
        result: T | StoreBusy = await work
    except StoreBusy as exc:
        result = exc
    return result, time.monotonic() - started


async def intake_or_busy(store: Store, external_id: str) -> IntakeResult | StoreBusy:
    """One intake; sent again with its id, it is never filed twice."""
    result, _ = await timed(store.intake(draft(f"{TEXT} ({external_id})", external_id=external_id)))
    return result


def half_written(store: PostgresStore) -> list[tuple[Any, ...]]:
    """Complaints lacking their outbox event or their raw payload: none, if nothing is
    half-written."""
    return rows(
        store,
        "SELECT c.id FROM complaints c "
        "WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.complaint_id = c.id) "
        "OR NOT EXISTS (SELECT 1 FROM inbound_payloads p WHERE p.complaint_id = c.id)",
    )


async def test_a_stopped_server_is_busy_promptly_and_intake_resumes_by_itself(
    cluster: PostgresqlCluster, pg_store: PostgresStore, clock: Clock
) -> None:
    store = pg_store
    first = await intake_or_busy(store, "SM-before")
    assert isinstance(first, IntakeResult) and first.created

    await asyncio.to_thread(cluster.stop)
    ids = [f"SM-down-{i}" for i in range(REFUSED)]
    # Everything at once, as requests arrive: none may wait past the pool's bound.
    answers = await asyncio.gather(
        *(timed(store.intake(draft(f"{TEXT} ({i})", external_id=i))) for i in ids),
        timed(store.get_complaint(first.complaint.tracking_id)),
        timed(store.claim_events(10, 30.0, clock.now)),
        timed(store.health()),
    )
    not_busy = [type(result).__name__ for result, _ in answers if not isinstance(result, StoreBusy)]
    assert not_busy == [], "answered otherwise than busy while the server was down"
    slowest = max(seconds for _, seconds in answers)
    assert slowest < ANSWER_WITHIN, f"the slowest took {slowest:.1f} s to be refused"
    # Refused again within the same bound: nothing queues up behind the lost server.
    later, seconds = await timed(store.get_complaint(first.complaint.tracking_id))
    assert isinstance(later, StoreBusy) and seconds < ANSWER_WITHIN

    await asyncio.to_thread(cluster.start)
    resumed = await eventually(
        lambda: intake_or_busy(store, "SM-after"),
        lambda r: isinstance(r, IntakeResult),
        RESUME_WITHIN,
    )
    assert isinstance(resumed, IntakeResult) and resumed.created
    # Nothing of what was refused was written: each is new when its sender tries again.
    for i in ids:
        again = await intake_or_busy(store, i)
        assert isinstance(again, IntakeResult) and again.created, i
    assert count(store, "complaints") == count(store, "outbox") == REFUSED + 2
    assert count(store, "inbound_payloads") == REFUSED + 2
    assert await store.get_complaint(first.complaint.tracking_id) == first.complaint
    # The dispatcher's side works again too: every event is claimed, and a waiter is woken
    # by a commit (the store listens again once its listening connection is back).
    assert len(await store.claim_events(100, 30.0, clock.now)) == REFUSED + 2

    async def woken_by_a_commit() -> bool:
        await store.wait_for_events(0)  # a wake-up already delivered is not this one
        waiting = asyncio.create_task(store.wait_for_events(60))
        await asyncio.sleep(0)  # it is waiting
        await intake_or_busy(store, f"SM-wake-{time.monotonic_ns()}")
        try:
            await asyncio.wait_for(waiting, 1.0)
        except TimeoutError:
            return False
        return True

    await eventually(woken_by_a_commit, bool, RESUME_WITHIN)


async def test_intakes_under_way_as_the_server_stops_are_whole_or_absent(
    cluster: PostgresqlCluster, pg_store: PostgresStore
) -> None:
    """A fast shutdown ends the sessions mid-transaction: an acknowledged intake is in the
    database whole, and none is there in part. One refused as busy may have committed just
    before its answer was lost; sent again by its id, it is filed once."""
    store = pg_store
    answered: dict[str, IntakeResult | StoreBusy] = {}
    stop_sending = asyncio.Event()

    async def sender(n: int) -> None:
        i = 0
        while not stop_sending.is_set():
            external_id = f"SM-{n}-{i}"
            answered[external_id] = await intake_or_busy(store, external_id)
            i += 1

    senders = [asyncio.create_task(sender(n)) for n in range(8)]

    async def acknowledged() -> int:
        return sum(isinstance(r, IntakeResult) for r in answered.values())

    await eventually(acknowledged, lambda n: n >= 50, 10.0)
    await asyncio.to_thread(cluster.stop)  # the loop keeps sending meanwhile

    async def refusals() -> int:
        return sum(isinstance(r, StoreBusy) for r in answered.values())

    await eventually(refusals, lambda n: n >= 8, ANSWER_WITHIN)
    stop_sending.set()
    await asyncio.wait_for(asyncio.gather(*senders), ANSWER_WITHIN)

    await asyncio.to_thread(cluster.start)
    await eventually(
        lambda: intake_or_busy(store, "SM-after"),
        lambda r: isinstance(r, IntakeResult),
        RESUME_WITHIN,
    )
    assert half_written(store) == []
    kept = {
        external_id: tracking_id
        for external_id, tracking_id in rows(
            store,
            "SELECT external_id, tracking_id FROM complaints WHERE external_id <> ?",
            ("SM-after",),
        )
    }
    acked = {i: r.complaint.tracking_id for i, r in answered.items() if isinstance(r, IntakeResult)}
    missing = {i for i, tracking_id in acked.items() if kept.get(i) != tracking_id}
    assert not missing, f"{len(missing)} acknowledged intakes are not in the database"
    for external_id, result in answered.items():
        if isinstance(result, StoreBusy):
            again = await intake_or_busy(store, external_id)
            assert isinstance(again, IntakeResult), external_id
            assert again.created or kept.get(external_id) == again.complaint.tracking_id
    assert count(store, "complaints") == len(answered) + 1
    assert half_written(store) == []


# -- a server that stops answering without going away ----------------------------------------


def cluster_processes(cluster: PostgresqlCluster) -> list[int]:
    """The server's postmaster and every process it started (its sessions among them)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return [postmaster, *map(int, children)]


async def test_a_paused_server_is_busy_promptly(
    cluster: PostgresqlCluster, pg_store: PostgresStore
) -> None:
    """SIGSTOP, as a host that hangs or a network that drops every packet: the store's
    connections stay open and their queries go unanswered. A request is still refused as
    busy within the bound, not held."""
    store = pg_store
    assert isinstance(await intake_or_busy(store, "SM-before"), IntakeResult)
    paused = cluster_processes(cluster)
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        intake = asyncio.create_task(timed(store.intake(draft(external_id="SM-paused"))))
        done, _ = await asyncio.wait({intake}, timeout=ANSWER_WITHIN)
        held = not done
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
    result, _ = await asyncio.wait_for(intake, RESUME_WITHIN)
    assert not held, f"intake held past {ANSWER_WITHIN:.0f} s; it gave {result!r} once resumed"
    assert isinstance(result, StoreBusy)


# -- the gateway ------------------------------------------------------------------------------


async def post_complaint(http: ClientSession, key: str) -> tuple[int, dict[str, str], float]:
    """The app API's POST: status, headers, seconds to answer."""
    body = {"text": f"{TEXT} Laporan {key}.", "phone": "0812 3456 7890", "name": "Warga"}
    started = time.monotonic()
    async with http.post(
        "/api/v1/complaints", json=body, headers={"Idempotency-Key": key}
    ) as response:
        await response.read()
        return response.status, dict(response.headers), time.monotonic() - started


async def health(http: ClientSession) -> tuple[int, dict[str, Any]]:
    async with http.get("/healthz") as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


async def test_a_gateway_whose_server_is_down_answers_503_with_retry_after(
    cluster: PostgresqlCluster, tmp_path: Path
) -> None:
    running = await start_gateway(tmp_path, database_url=url(cluster))
    try:
        store = running.gateway.store
        assert isinstance(store, PostgresStore)
        http = running.http
        assert (await post_complaint(http, "app-before"))[0] == 201
        assert (await health(http))[0] == 200

        async def cases() -> int:
            return count(store, "cases")

        # Dispatched before the server stops: an event claimed as it stops would wait for
        # its lease to run out, which the test's clock (standing still) never lets it.
        await eventually(cases, lambda n: n == 1)

        await asyncio.to_thread(cluster.stop)
        status, headers, seconds = await post_complaint(http, "app-down")
        assert status == 503, headers
        assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) > 0
        assert seconds < ANSWER_WITHIN, f"answered 503 after {seconds:.1f} s"
        status, body = await health(http)
        assert (status, body["status"], body["database"]) == (
            503, "degraded", {"error": "StoreBusy"}
        )  # fmt: skip

        await asyncio.to_thread(cluster.start)
        await eventually(lambda: health(http), lambda h: h[0] == 200, RESUME_WITHIN)
        # The complaint refused while the server was down was not written: sent again, it
        # is filed now (not replayed), and once more it is the same complaint.
        status, headers, _ = await eventually(
            lambda: post_complaint(http, "app-down"), lambda a: a[0] == 201, RESUME_WITHIN
        )
        assert "Idempotent-Replayed" not in headers
        status, headers, _ = await post_complaint(http, "app-down")
        assert (status, headers.get("Idempotent-Replayed")) == (201, "true")
        assert count(store, "complaints") == 2

        # The dispatcher, refused meanwhile, goes on by itself: the new complaint gets its case.
        await eventually(cases, lambda n: n == 2, RESUME_WITHIN)
    finally:
        if not cluster.running:  # the gateway's store closes on a server that answers
            await asyncio.to_thread(cluster.start)
        await running.stop()
