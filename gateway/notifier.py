"""The notifier: hands each message to a citizen ("tell this complaint's citizen this
text") to the channel of the complaint's reply address, and a copy to the channel that
keeps one for the complaint's own channel (the desk, for walk-in and phone complaints).

At least once: a message is leased while it is handed over, and one whose notifier died
is handed over again once its lease runs out; a channel takes each message id once. A
message no channel can say stays on the status page, where the citizen reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from channels.plugin import ChannelPlugin, Delivery, DeliveryState
from gateway.loops import keep_running
from normalizer.models import Complaint
from store.base import Store
from store.workflow import CitizenMessage, MessageState

log = logging.getLogger(__name__)
BATCH = 50
LEASE_SECONDS = 60.0
# Only the reply address gets these: a status-page code printed at the desk would reach
# whoever asked for it, and the desk asks for the rating when it hands over the answer.
NO_COPIES = frozenset({"code", "rate"})

_STATES = {
    DeliveryState.QUEUED: MessageState.QUEUED,
    DeliveryState.SENT: MessageState.SENT,
    DeliveryState.DESK: MessageState.DESK,
    DeliveryState.FAILED: MessageState.FAILED,
}


class Notifier:
    def __init__(
        self,
        store: Store,
        channels: Sequence[ChannelPlugin],
        clock: Callable[[], datetime],
        poll_seconds: float,
    ) -> None:
        self._store = store
        self._channels = channels
        self._clock = clock
        self._poll = poll_seconds

    async def run(self) -> None:
        await keep_running(
            self.run_once, lambda: self._store.wait_for_notices(self._poll), "notifier round"
        )

    async def run_once(self) -> int:
        claimed = await self._store.claim_citizen_messages(self._clock(), BATCH, LEASE_SECONDS)
        for message, complaint in claimed:
            try:
                await self._hand_over(message, complaint)
            except Exception:
                # Left pending: its lease runs out and it is handed over again.
                log.exception("message %s of a complaint not handed over; retried", message.id)
        return len(claimed)

    async def _hand_over(self, message: CitizenMessage, complaint: Complaint) -> None:
        copies = [
            c
            for c in self._channels
            if complaint.channel in c.copies_of and message.purpose not in NO_COPIES
        ]
        reply = complaint.reply_to
        target = next(
            (c for c in self._channels if reply is not None and reply.channel in c.reply_channels),
            None,
        )
        done: list[Delivery] = [await c.deliver(message, complaint) for c in copies]
        if target is not None:
            delivery = await target.deliver(message, complaint)
            state = _STATES[delivery.state]
            channel = reply.channel if reply is not None else None
            detail = delivery.detail
        elif done:
            state, channel, detail = MessageState.DESK, None, done[0].detail
        else:
            state, channel = MessageState.STATUS_PAGE, None
            detail = (
                "no channel reaches this citizen"
                if reply is None
                else f"no {reply.channel.value} channel"
            )
        await self._store.finish_citizen_message(message.id, state, self._clock(), channel, detail)
