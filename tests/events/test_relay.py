"""At least once, in order, and exactly once for a durable consumer: across a relay that dies
between JetStream's acknowledgement and its cursor's move, and across a NATS server that
goes away while complaints keep coming in."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext

from events.relay import EventRelay, RelayConfig
from events.subjects import Streams
from store.events import EventRelayStore, RelayEvent
from tests.conftest import Running, eventually, file_complaint, start_gateway
from tests.events.nats_server import NatsServer
from tests.events.support import (
    MSG_ID,
    STREAM,
    drain,
    outbox_seqs,
    relayed_up_to,
    stored,
    wait_for_streams,
)

TEXT = "Lampu jalan di Jalan Gajah Mada mati sejak seminggu, gelap dan rawan kecelakaan."


class CursorNeverMoves(EventRelayStore):
    """The store as a relay sees it when it dies right before moving its cursor: every call
    passes through, but moving the cursor never returns."""

    def __init__(self, store: EventRelayStore) -> None:
        self._store = store
        self.reached = asyncio.Event()

    async def relay_position(self, stream: str) -> int:
        return await self._store.relay_position(stream)

    async def relay_events(self, after_seq: int, limit: int) -> list[RelayEvent]:
        return await self._store.relay_events(after_seq, limit)

    async def advance_relay(self, stream: str, seq: int) -> None:
        self.reached.set()
        await asyncio.Event().wait()  # the relay dies here, cancelled

    async def wait_for_relay(self, max_wait: float) -> None:
        await self._store.wait_for_relay(max_wait)


def relay_of(store: EventRelayStore, nats_url: str) -> EventRelay:
    config = RelayConfig(
        servers=(nats_url,), streams=Streams(STREAM, "ketapang"), max_age=0, duplicate_window=120
    )
    return EventRelay(store, config, poll_seconds=0.2, backoff=(0.05, 0.5))


async def file_complaints(running: Running, n: int) -> list[str]:
    """`n` complaints, each from its own citizen (never merged as duplicates)."""
    first = running.count("complaints")
    return [
        await file_complaint(running, "app", text=f"{TEXT} ({i})", phone=f"08135555{1000 + i}")
        for i in range(first, first + n)
    ]


async def test_a_relay_that_dies_before_its_cursor_moves_repeats_nothing_for_consumers(
    tmp_path: Path, nats_server: NatsServer, nats_client: Client, js: JetStreamContext
) -> None:
    running = await start_gateway(tmp_path)  # no LAPOR_NATS_URL: the test runs the relays
    try:
        store = running.sqlite_store
        await file_complaints(running, 3)
        seqs = outbox_seqs(store.path)
        on_the_wire: list[str] = []  # every publish, as a plain subscriber sees them

        async def wire(msg: Msg) -> None:
            on_the_wire.append((msg.headers or {})[MSG_ID])

        await nats_client.subscribe("lapor.>", cb=wire)

        dying = CursorNeverMoves(store)
        first = asyncio.create_task(relay_of(dying, nats_server.url).run())
        await asyncio.wait_for(dying.reached.wait(), 15)
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        assert [s.msg_id for s in await stored(js, STREAM)] == [str(s) for s in seqs]
        assert await store.relay_position(STREAM) == 0  # acknowledged, never recorded

        second = asyncio.create_task(relay_of(store, nats_server.url).run())
        try:
            await relayed_up_to(store, seqs[-1])
            # Published twice (the wire saw both), kept once (JetStream dropped the repeat).
            await nats_client.flush()
            await eventually(lambda: _now(on_the_wire), lambda seen: len(seen) == 2 * len(seqs))
            assert sorted(on_the_wire) == sorted([str(s) for s in seqs] * 2)
            assert len(await stored(js, STREAM)) == len(seqs)

            more = await file_complaints(running, 1)
            await relayed_up_to(store, outbox_seqs(store.path)[-1])
        finally:
            second.cancel()
            await asyncio.gather(second, return_exceptions=True)

        got = await drain(js, "audit", len(seqs) + 1)
        assert [m.msg_id for m in got] == [str(s) for s in outbox_seqs(store.path)]
        assert [m.event.seq for m in got] == outbox_seqs(store.path)  # in order, once each
        assert got[-1].event.tracking_id == more[0]
    finally:
        await running.stop()


async def _now(values: list[str]) -> list[str]:
    return list(values)


async def test_complaints_filed_while_nats_is_down_go_out_when_it_is_back(
    relaying: Running, nats_server: NatsServer, js: JetStreamContext
) -> None:
    """The gateway's own relay (LAPOR_NATS_URL set): intake goes on while the server is
    away, and a durable consumer made before gets every complaint exactly once after."""
    running = relaying
    store = running.sqlite_store
    await js.pull_subscribe("lapor.>", durable="audit", stream=STREAM)  # kept by the server
    before = await file_complaints(running, 2)
    await relayed_up_to(store, outbox_seqs(store.path)[-1])

    await asyncio.to_thread(nats_server.stop)
    async with asyncio.timeout(10):  # intake never waits for NATS
        during = await file_complaints(running, 3)
    assert running.count("complaints") == 5
    at = await store.relay_position(STREAM)
    assert at == outbox_seqs(store.path)[1]  # the new ones wait in the outbox

    await asyncio.to_thread(nats_server.start)  # the same port and store
    await relayed_up_to(store, outbox_seqs(store.path)[-1], within=30)
    await wait_for_streams(js)

    got = await drain(js, "audit", 5)
    assert [m.msg_id for m in got] == [str(s) for s in outbox_seqs(store.path)]
    assert [m.event.tracking_id for m in got] == before + during
    assert {m.subject for m in got} == {"lapor.ketapang.complaint.received"}
