"""The SMS channel as the gateway mounts it: the webhooks of Twilio, Vonage and Kannel,
the loops (the sender, long messages whose parts stopped, Gammu's inbox, MMS photos) and
the citizen's messages said by SMS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from aiohttp import web

from channels.plugin import ChannelHost, ChannelPlugin, Delivery, DeliveryState, Loop
from channels.sms.gammu.inbox import GammuInbox
from channels.sms.gateways import SmsGateways, sms_gateways
from channels.sms.media import TwilioMedia
from channels.sms.pollers import ExpiredParts, GammuPoller
from channels.sms.routes import SmsWebhooks
from channels.sms.sending import OutboundSmsWorker
from channels.sms.service import SmsLimits, SmsService
from channels.sms.texts import fit_notice
from normalizer.models import Channel, Complaint
from store.workflow import CitizenMessage

# The sender of a message to a citizen whose complaint did not come by SMS (a web form
# with a phone number): the first of these that is configured.
SENDER_PREFERENCE = ("twilio", "vonage", "kannel", "gammu")


class SmsPlugin(ChannelPlugin):
    name = "sms"
    reply_channels = frozenset({Channel.SMS})

    def __init__(
        self,
        host: ChannelHost,
        gateways: SmsGateways,
        service: SmsService,
        media: TwilioMedia | None = None,
    ) -> None:
        self._host = host
        self.gateways = gateways
        self.service = service
        self.media = media

    @classmethod
    def create(cls, host: ChannelHost) -> SmsPlugin:
        settings = host.settings
        limits = SmsLimits(
            rate_limit=settings.sms_rate_limit,
            rate_window=timedelta(seconds=settings.sms_rate_window_seconds),
        )
        gateways = sms_gateways(settings, host.profile)
        # Of the gateways, only Twilio delivers MMS (its webhook records their media).
        media = TwilioMedia.from_host(host) if "twilio" in gateways.webhooks else None
        service = SmsService(host, limits, media.wake if media else None)
        return cls(host, gateways, service, media)

    def routes(self) -> Iterable[web.AbstractRouteDef]:
        return SmsWebhooks(self._host, self.service, self.gateways).routes()

    def loops(self) -> Iterable[Loop]:
        settings = self._host.settings
        worker = OutboundSmsWorker(
            self._host.store,
            self.gateways.senders,
            self._host.clock,
            max_attempts=settings.sms_send_max_attempts,
        )
        timeout = timedelta(seconds=settings.sms_concat_timeout_seconds)
        expired = ExpiredParts(self.service, timeout, self._host.clock)
        # Often enough that a message waits little past its timeout, never a busy loop.
        every_s = min(30.0, max(1.0, timeout.total_seconds() / 10))
        loops = [
            Loop("sms-outbound", worker.run_once, worker.idle),
            Loop("sms-parts", expired.run_once, _sleep(every_s)),
        ]
        if self.media is not None:
            loops.append(Loop("sms-media", self.media.run_once, self.media.idle))
        if self.gateways.gammu is not None:
            poller = GammuPoller(self.service, GammuInbox(self.gateways.gammu))
            loops.append(Loop("gammu", poller.run_once, _sleep(settings.gammu_poll_seconds)))
        return loops

    async def deliver(self, message: CitizenMessage, complaint: Complaint) -> Delivery:
        assert complaint.reply_to is not None
        store = self._host.store
        gateway = await store.sms_gateway_of(complaint.id) or self._default_sender()
        if gateway is None:
            return Delivery(DeliveryState.FAILED, "no SMS sender is configured")
        status_url = self._host.public_url(f"/status/{complaint.tracking_id}")
        text = fit_notice(message.text, status_url, self._host.profile)
        sms = self.service.outgoing(
            f"msg-{message.id}",
            gateway,
            complaint.reply_to.address,
            text,
            message.purpose,
            complaint.id,
        )
        await store.enqueue_sms(sms)  # a message handed over twice is queued once
        return Delivery(DeliveryState.QUEUED, f"SMS via {gateway}")

    def _default_sender(self) -> str | None:
        senders = self.gateways.senders
        return next((name for name in SENDER_PREFERENCE if name in senders), None)

    async def health(self) -> dict[str, object]:
        since = self._host.clock() - timedelta(hours=24)
        summary = await self._host.store.outbound_summary(since)
        status = "degraded" if summary["failed_24h"] else "ok"
        return {
            "status": status,
            "webhooks": sorted(self.gateways.webhooks),
            "senders": sorted(self.gateways.senders),
            "gammu": self.gateways.gammu is not None,
            **summary,
        }

    def banner(self, base_url: str) -> list[str]:
        lines = [
            f"SMS {name:<12} {base_url}/webhooks/sms/{name}"
            for name in sorted(self.gateways.webhooks)
        ]
        if self.gateways.gammu is not None:
            lines.append("SMS gammu        inbox Gammu SMSD (LAPOR_GAMMU_DATABASE_URL)")
        return lines

    async def close(self) -> None:
        await self.gateways.close()
        if self.media is not None:
            await self.media.close()


def _sleep(seconds: float) -> Callable[[], Awaitable[object]]:
    return lambda: asyncio.sleep(seconds)
