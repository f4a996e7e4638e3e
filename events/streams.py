"""The JetStream streams events are kept in: created when missing, their retention and
duplicate window kept as the settings say, their subjects checked."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from events.subjects import covers

log = logging.getLogger(__name__)


class StreamMismatch(Exception):
    """A stream of that name exists and does not take this installation's subjects."""


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: str
    max_age: float
    """Seconds an event is kept; 0 keeps it until the stream is deleted."""
    duplicate_window: float
    """Seconds within which a second message with the same Nats-Msg-Id is dropped."""
    description: str

    @property
    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=[self.subjects],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age,
            duplicate_window=self.duplicate_window,
        )


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        await js.add_stream(spec.config)
        log.info("event relay: created the NATS stream %s (%s)", spec.name, spec.subjects)
        return
    config = info.config
    if not any(covers(subjects, spec.subjects) for subjects in config.subjects or ()):
        raise StreamMismatch(
            f"the NATS stream {spec.name} takes {', '.join(config.subjects or ()) or 'nothing'}, "
            f"not {spec.subjects}: give this installation a stream of its own (LAPOR_NATS_STREAM)"
        )
    if (config.max_age or 0.0, config.duplicate_window) != (spec.max_age, spec.duplicate_window):
        # The settings say how long events are kept: a changed setting changes the stream.
        await js.update_stream(
            config.evolve(max_age=spec.max_age, duplicate_window=spec.duplicate_window)
        )
        log.info(
            "event relay: the NATS stream %s now keeps events %s, duplicates dropped within %g s",
            spec.name,
            f"{spec.max_age / 86400:g} days" if spec.max_age else "until it is deleted",
            spec.duplicate_window,
        )
