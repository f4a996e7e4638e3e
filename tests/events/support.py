"""Reading what reached JetStream, as the systems that consume the events would."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from events.schema import ComplaintEvent
from store.events import EventRelayStore
from tests.conftest import eventually

STREAM = "LAPOR"
RESTRICTED = "LAPOR_RESTRICTED"
MSG_ID = "Nats-Msg-Id"


@dataclass(frozen=True)
class Seen:
    """One message as a consumer gets it."""

    subject: str
    msg_id: str | None
    data: bytes

    @property
    def event(self) -> ComplaintEvent:
        """The body read by the schema itself: any field it does not know fails."""
        return ComplaintEvent.model_validate_json(self.data)

    @property
    def raw(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.data)
        return body


async def wait_for_streams(js: JetStreamContext, within: float = 15.0) -> None:
    """Until the relay has made both of its streams."""

    async def both() -> bool:
        try:
            await js.stream_info(STREAM)
            await js.stream_info(RESTRICTED)
        except NotFoundError:
            return False
        return True

    await eventually(both, bool, within)


async def stored(js: JetStreamContext, stream: str) -> list[Seen]:
    """Every message the stream holds, in its order, read one by one."""
    state = (await js.stream_info(stream)).state
    found = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        msg = await js.get_msg(stream, seq)
        assert msg.subject is not None and msg.data is not None
        found.append(Seen(msg.subject, (msg.headers or {}).get(MSG_ID), msg.data))
    return found


async def drain(
    js: JetStreamContext, durable: str, expected: int, within: float = 15.0
) -> list[Seen]:
    """`expected` messages from the durable consumer `durable` of the public stream (made
    if new), each acknowledged; then it must have nothing more pending."""
    sub = await js.pull_subscribe("lapor.>", durable=durable, stream=STREAM)
    got: list[Msg] = []
    deadline = time.monotonic() + within
    while len(got) < expected:
        assert time.monotonic() < deadline, f"{len(got)} of {expected} messages in {within}s"
        try:
            batch = await sub.fetch(expected - len(got), timeout=1)
        except nats.errors.TimeoutError:
            continue
        for msg in batch:
            await msg.ack_sync()
            got.append(msg)
    info = await sub.consumer_info()
    assert (info.num_pending, info.num_ack_pending) == (0, 0), info
    return [Seen(m.subject, (m.headers or {}).get(MSG_ID), m.data) for m in got]


async def relayed_up_to(store: EventRelayStore, seq: int, within: float = 20.0) -> None:
    """Until the relay's cursor (moved only once JetStream acknowledged) reaches `seq`."""

    async def position() -> int:
        return await store.relay_position(STREAM)

    await eventually(position, lambda at: at >= seq, within)


def outbox_seqs(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT seq FROM outbox ORDER BY seq")]
