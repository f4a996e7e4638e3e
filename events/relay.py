"""The event relay: every outbox event, in order, to NATS JetStream.

At least once, in order: the relay reads the outbox after its own cursor in seq order and
publishes one message at a time, each awaited until JetStream has acknowledged it (its
PubAck); the cursor moves only past acknowledged events. A relay that dies between an
acknowledgement and the cursor's move publishes those events again on its next start: each
carries its outbox seq as `Nats-Msg-Id`, and JetStream drops the repeat within the stream's
duplicate window.

NATS away: the relay connects again with back-off, and the events wait in the outbox until
it is back. Intake never waits for NATS: the outbox row commits with the complaint, and the
relay reads it apart, in a loop of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import nats
from nats.errors import NoServersError
from nats.js import JetStreamContext

from config.settings import Settings
from events.build import outgoing
from events.servers import redact, split_servers, where
from events.streams import StreamSpec, ensure_stream
from events.subjects import Streams
from gateway.loops import stop_if_cancelled
from store.events import EventRelayStore, RelayEvent

log = logging.getLogger(__name__)

MSG_ID = "Nats-Msg-Id"
BATCH = 100
PUBLISH_TIMEOUT = 5.0  # seconds for JetStream's acknowledgement of one message
CONNECT_TIMEOUT = 2  # seconds for one attempt to connect
BACKOFF = (0.25, 5.0)  # seconds between attempts: the first, doubled up to the second


@dataclass(frozen=True)
class RelayConfig:
    servers: tuple[str, ...]
    """NATS URLs, which may carry a user and password: never logged as they are."""
    streams: Streams
    max_age: float
    duplicate_window: float

    @classmethod
    def from_settings(cls, settings: Settings, profile: str) -> RelayConfig:
        if settings.nats_url is None:
            raise ValueError("LAPOR_NATS_URL is not set")
        max_age = settings.nats_retention_days * 86400.0
        window = settings.nats_duplicate_window_seconds
        return cls(
            servers=tuple(split_servers(settings.nats_url.get_secret_value())),
            streams=Streams(settings.nats_stream, profile),
            max_age=max_age,
            # JetStream refuses a duplicate window longer than the stream keeps messages.
            duplicate_window=min(window, max_age) if max_age else window,
        )

    @property
    def specs(self) -> tuple[StreamSpec, StreamSpec]:
        s = self.streams
        return (
            StreamSpec(
                s.public,
                s.public_subjects,
                self.max_age,
                self.duplicate_window,
                "LAPOR! events (rahasia content withheld)",
            ),
            StreamSpec(
                s.restricted,
                s.restricted_subjects,
                self.max_age,
                self.duplicate_window,
                "LAPOR! events of rahasia complaints, whole",
            ),
        )


class EventRelay:
    def __init__(
        self,
        store: EventRelayStore,
        config: RelayConfig,
        *,
        poll_seconds: float = 1.0,
        backoff: tuple[float, float] = BACKOFF,
    ) -> None:
        self._store = store
        self._config = config
        self._poll = poll_seconds  # for outbox rows another process committed
        self._backoff = backoff
        self._cursor = config.streams.public  # one cursor moves both streams
        self._working = False
        self._failure: str | None = None  # the last failure logged, said once
        self._cause: Exception | None = None  # the client's last error, under its own

    async def run(self) -> None:
        """Until cancelled: connect, make sure of the streams, publish; on any failure,
        close and start again after a back-off."""
        delay = self._backoff[0]
        while True:
            self._working = False
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._working:  # it ran, then broke: try again soon
                    delay = self._backoff[0]
                self._report(exc, delay)
            stop_if_cancelled()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    async def _session(self) -> None:
        self._cause = None
        nc = await nats.connect(
            list(self._config.servers),
            # Reconnecting is this loop's, with its back-off and its logs: the client tries
            # each server twice at once, then gives up (with 0 attempts it never would).
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0,
            connect_timeout=CONNECT_TIMEOUT,
            name="lapor-gateway event relay",
            error_cb=self._nats_error,
        )
        try:
            js = nc.jetstream(timeout=PUBLISH_TIMEOUT)
            for spec in self._config.specs:
                await ensure_stream(js, spec)
            cursor = await self._store.relay_position(self._cursor)
            self._working = True
            log.info(
                "event relay: publishing to NATS (%s), stream %s, after outbox event %d",
                where(self._config.servers),
                self._cursor,
                cursor,
            )
            self._failure = None
            while True:
                if not nc.is_connected:
                    raise ConnectionError("the connection to NATS was lost")
                events = await self._store.relay_events(cursor, BATCH)
                if events:
                    cursor = await self._publish(js, cursor, events)
                else:
                    await self._store.wait_for_relay(self._poll)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _publish(self, js: JetStreamContext, cursor: int, events: list[RelayEvent]) -> int:
        """Publish in order, each message acknowledged before the next; the cursor moves
        past what was acknowledged, also when a later one fails."""
        acked = cursor
        try:
            for event in events:
                for message in outgoing(event, self._config.streams):
                    await js.publish(
                        message.subject,
                        message.payload,
                        stream=message.stream,  # stored in another stream: refused
                        headers={MSG_ID: message.msg_id},
                    )
                acked = event.seq
                log.debug("event relay: outbox event %d (%s) published", event.seq, event.kind)
        finally:
            if acked > cursor:
                await self._store.advance_relay(self._cursor, acked)
        return acked

    def _report(self, exc: Exception, delay: float) -> None:
        failure = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, NoServersError) and self._cause is not None:
            # "no servers available": why not is the client's error before it.
            failure += f" ({type(self._cause).__name__}: {self._cause})"
        failure = self._redact(failure)
        if failure == self._failure:
            log.debug("event relay: %s; again in %.2g s", failure, delay)
            return
        self._failure = failure
        log.warning(
            "event relay: %s; the events wait in the outbox, trying again in %.2g s",
            failure,
            delay,
        )

    async def _nats_error(self, exc: Exception) -> None:
        # The client's own default logs a traceback for every refused connection.
        self._cause = exc
        log.debug("event relay: NATS client: %s", self._redact(f"{type(exc).__name__}: {exc}"))

    def _redact(self, text: str) -> str:
        return redact(text, self._config.servers)
