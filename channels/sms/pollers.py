"""The rounds of the SMS channel's background loops (the gateway runs them, see
channels/plugin.py `Loop`): long messages whose parts stopped coming, and Gammu SMSD's
inbox table."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from channels.sms.gammu.database import GammuDatabaseError
from channels.sms.gammu.inbox import GammuInbox
from channels.sms.models import InvalidSms
from channels.sms.service import SmsService

log = logging.getLogger(__name__)
BATCH = 100


class ExpiredParts:
    """Takes in long messages whose missing parts have not come within the timeout, with
    what did arrive and a visible marker, so no citizen's words wait forever."""

    def __init__(
        self, service: SmsService, timeout: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self._service = service
        self._timeout = timeout
        self._clock = clock

    async def run_once(self) -> int:
        store = self._service.store
        groups = await store.expired_part_groups(self._clock() - self._timeout, BATCH)
        for group in groups:
            # No delivery is waiting for an answer now: the reply goes through the sender.
            await self._service.take_group(group, inline=False)
        return len(groups)


class GammuPoller:
    """Reads Gammu SMSD's inbox; a row is marked processed only after its SMS is committed,
    so a crash in between means the row is read again and (idempotently) taken again."""

    def __init__(self, service: SmsService, inbox: GammuInbox) -> None:
        self._service = service
        self._inbox = inbox

    async def run_once(self) -> int:
        try:
            messages = await self._inbox.fetch_unprocessed(BATCH)
        except GammuDatabaseError as exc:
            # Gammu's database down or busy is an outage, not a bug: one line, no traceback,
            # and the next poll tries again.
            log.warning("Gammu inbox not read: %s", exc.detail)
            return 0
        for message in messages:
            try:
                await self._service.receive(message)
            except InvalidSms as exc:
                # The row stays in Gammu's inbox for a person to look at; it is not retried.
                log.warning("Gammu inbox row %s refused: %s", message.message_id, exc)
            if message.message_id is not None:
                await self._inbox.mark_processed([message.message_id])
        return len(messages)
