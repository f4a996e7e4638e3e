"""Sending queued SMS: at most once each, retried with capped backoff while retrying can help.

A message is marked `sending` and committed before its provider is called. If the process
dies during the call, nobody knows whether the SMS went out, so it becomes `unknown` at the
next start and is not sent again: a citizen may miss one reply, never get it twice (nor
run up the regency's SMS bill in a crash loop).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.sms.models import OutgoingSms, SendError, SmsSender
from store.sms import OutboundSms, OutboundState, SmsStore

log = logging.getLogger(__name__)
BATCH = 50


@dataclass(frozen=True)
class Backoff:
    """Seconds before the next try: doubling from `first`, at most `cap`, ±20 % jitter so
    that a provider coming back from an outage is not hit by every retry at once."""

    first: float = 5.0
    cap: float = 600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        base = min(self.cap, self.first * 2 ** max(attempts - 1, 0))
        return float(min(self.cap, base * rng.uniform(0.8, 1.2)))


class OutboundSmsWorker:
    def __init__(
        self,
        store: SmsStore,
        senders: Mapping[str, SmsSender],
        clock: Callable[[], datetime],
        *,
        max_attempts: int,
        backoff: Backoff = Backoff(),
        poll_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._senders = senders
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._poll = poll_seconds
        self._rng = random.Random()
        self._started = False

    async def idle(self) -> None:
        await self._store.wait_for_outbound(self._poll)

    async def run_once(self) -> int:
        """Send what is due now; returns how many SMS were tried. The first round first
        gives up on SMS a stopped process left `sending` (at most once)."""
        if not self._started:
            abandoned = await self._store.abandon_unconfirmed_sms(self._clock())
            if abandoned:
                log.warning(
                    "%d SMS were being sent when the gateway stopped: not sent again", abandoned
                )
            self._started = True
        due = await self._store.claim_outbound_sms(self._clock(), BATCH)
        await asyncio.gather(*(self._send(message) for message in due))
        return len(due)

    async def _send(self, message: OutboundSms) -> None:
        sender = self._senders.get(message.gateway)
        if sender is None:
            await self._finish(message, OutboundState.FAILED, error="no sender configured")
            return
        outgoing = OutgoingSms(id=message.id, to=message.recipient, text=message.text)
        try:
            result = await sender.send(outgoing)
        except SendError as exc:
            await self._failed(message, exc)
        except Exception:
            # A fault of ours, not the provider's word: whether it went out is unknown.
            log.exception("sending SMS %s through %s failed unexpectedly", message.id, sender.name)
            await self._finish(message, OutboundState.UNKNOWN, error="unexpected error")
        else:
            await self._finish(message, OutboundState.SENT, provider_id=result.provider_id)

    async def _failed(self, message: OutboundSms, exc: SendError) -> None:
        if exc.transient and message.attempts < self._max_attempts:
            delay = self._backoff.delay(message.attempts, self._rng)
            retry_at = self._clock() + timedelta(seconds=delay)
            log.info(
                "SMS %s: %s; retry %d in %.0f s", message.id, exc.detail, message.attempts, delay
            )
            await self._finish(message, OutboundState.PENDING, error=exc.detail, retry_at=retry_at)
            return
        log.warning(
            "SMS %s given up after %d attempt(s): %s", message.id, message.attempts, exc.detail
        )
        await self._finish(message, OutboundState.FAILED, error=exc.detail)

    async def _finish(
        self,
        message: OutboundSms,
        state: OutboundState,
        *,
        provider_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        await self._store.finish_outbound_sms(
            message.id,
            state,
            self._clock(),
            provider_id=provider_id,
            error=error,
            retry_at=retry_at,
        )
