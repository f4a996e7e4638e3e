"""`lapor-gateway events tail [SUBJECT]`: the events as JetStream stores them, one JSON line
each, for operators.

It reads through JetStream (an ordered consumer per stream that takes the subject), not a
plain subscription: a message JetStream dropped as a duplicate is not shown, so what it
prints is what every consumer of the stream gets.
"""

from __future__ import annotations

import asyncio
import json
from typing import TextIO

import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy, StreamInfo
from nats.js.client import JetStreamContext

from events.subjects import collide


class NoStream(Exception):
    """No stream takes the subject (yet: the relay creates its streams when it connects)."""


async def tail(
    servers: list[str], subject: str, out: TextIO, notes: TextIO, *, everything: bool = False
) -> None:
    """Print each event on `subject` until cancelled: `{"subject": …, "event": {…}}`. From
    now on, or with `everything` from the oldest event the streams keep."""
    closed = asyncio.Event()

    async def on_close() -> None:
        closed.set()

    # No reconnecting: a server that is away is said at once, not after minutes of tries
    # (the client tries each server twice, then gives up; with 0 attempts it never would).
    nc = await nats.connect(
        servers,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0,
        connect_timeout=2,
        name="lapor-gateway events tail",
        closed_cb=on_close,
        error_cb=_quiet,
    )
    try:
        js = nc.jetstream()
        streams = [
            s.config.name for s in await _all_streams(js) if s.config.name and _takes(s, subject)
        ]
        if not streams:
            raise NoStream(subject)

        async def show(msg: Msg) -> None:
            try:
                event: object = json.loads(msg.data)
            except ValueError:  # not one of ours: shown as it is
                event = msg.data.decode(errors="replace")
            line = json.dumps({"subject": msg.subject, "event": event}, ensure_ascii=False)
            print(line, file=out, flush=True)

        policy = DeliverPolicy.ALL if everything else DeliverPolicy.NEW
        for name in streams:
            await js.subscribe(
                subject, stream=name, cb=show, ordered_consumer=True, deliver_policy=policy
            )
        print(f"following {subject} on {', '.join(streams)}", file=notes)
        notes.flush()
        await closed.wait()  # until cancelled (Ctrl-C), or NATS goes away
        raise ConnectionError("NATS closed the connection")
    finally:
        await nc.close()


async def _quiet(exc: Exception) -> None:
    """The client's own default logs a traceback; the command line says what failed."""


async def _all_streams(js: JetStreamContext) -> list[StreamInfo]:
    found: list[StreamInfo] = []
    while page := await js.streams_info(offset=len(found)):
        found.extend(page)
    return found


def _takes(stream: StreamInfo, subject: str) -> bool:
    return any(collide(s, subject) for s in stream.config.subjects or ())
