"""The dispatcher: takes committed outbox events and drives the workflow from them.

At least once: an event is finished in the same transaction that opens its case, and an
event whose dispatcher died is leased again once its lease runs out. Every step it drives
is idempotent (a case opens once; a citizen's reply moves a case once), so a second
delivery changes nothing. Events of kinds it does not handle (`case.<state>`, for other
systems) are finished at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from config.profile import Profile
from gateway.loops import keep_running
from store.base import EVENT_CITIZEN_REPLY, EVENT_COMPLAINT_RECEIVED, OutboxEvent, Store
from workflow.cases import new_case
from workflow.service import WorkflowService

log = logging.getLogger(__name__)
BATCH = 200
LEASE_SECONDS = 30.0


class Dispatcher:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        workflow: WorkflowService,
        clock: Callable[[], datetime],
        poll_seconds: float,
    ) -> None:
        self._store = store
        self._profile = profile
        self._workflow = workflow
        self._clock = clock
        self._poll = poll_seconds

    async def run(self) -> None:
        await keep_running(
            self.run_once, lambda: self._store.wait_for_events(self._poll), "dispatcher round"
        )

    async def run_once(self) -> int:
        """Dispatch what is pending now; returns how many events were claimed."""
        events = await self._store.claim_events(BATCH, LEASE_SECONDS, self._clock())
        received = [e for e in events if e.kind == EVENT_COMPLAINT_RECEIVED]
        await self._open_cases(received)
        done = [e.seq for e in events if e.kind != EVENT_COMPLAINT_RECEIVED]
        for event in events:
            if event.kind == EVENT_CITIZEN_REPLY and not await self._citizen_reply(event):
                done.remove(event.seq)  # its lease runs out and it is tried again
        if done:
            await self._store.finish_events(done, self._clock())
        return len(events)

    async def _open_cases(self, events: list[OutboxEvent]) -> None:
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

    async def _citizen_reply(self, event: OutboxEvent) -> bool:
        followup = event.data.get("followup")
        if not isinstance(followup, int):
            log.error("outbox event %d names no follow-up; finished as it is", event.seq)
            return True
        try:
            await self._workflow.take_citizen_reply(followup)
        except Exception:
            log.exception("citizen reply of outbox event %d not taken in; retried", event.seq)
            return False
        return True
