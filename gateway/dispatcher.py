"""The dispatcher: takes committed outbox events and drives the workflow from them.

At least once: an event is finished in the same transaction that opens its case, and an
event whose dispatcher died is leased again once its lease runs out. Opening a case is
idempotent, so a second delivery changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from config.profile import Profile
from gateway.loops import keep_running
from store.base import Store
from workflow.cases import new_case

log = logging.getLogger(__name__)
BATCH = 200
LEASE_SECONDS = 30.0


class Dispatcher:
    def __init__(
        self, store: Store, profile: Profile, clock: Callable[[], datetime], poll_seconds: float
    ) -> None:
        self._store = store
        self._profile = profile
        self._clock = clock
        self._poll = poll_seconds

    async def run(self) -> None:
        await keep_running(
            self.run_once, lambda: self._store.wait_for_events(self._poll), "dispatcher round"
        )

    async def run_once(self) -> int:
        """Dispatch what is pending now; returns how many events were claimed."""
        events = await self._store.claim_events(BATCH, LEASE_SECONDS, self._clock())
        opened = []
        for event in events:
            try:
                opened.append((event, new_case(event.complaint, self._profile, self._clock())))
            except Exception:
                log.exception("could not make a case of outbox event %d", event.seq)
        results = await self._store.open_cases(opened) if opened else []
        for (event, _), result in zip(opened, results, strict=True):
            if isinstance(result, Exception):
                # The lease runs out and the event is tried again; the others are done.
                log.error("could not dispatch outbox event %d: %s", event.seq, result)
        return len(events)
