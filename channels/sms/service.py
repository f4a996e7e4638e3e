"""SMS to 1708, whichever gateway carried it: put long messages together, have the
citizen's commands read the words (CEK, TAMBAH, PUAS … or a complaint), commit it with its
reply (and an MMS's photos to fetch), and give the reply once.

Every step is idempotent on the gateway's message id, so a delivery retried after a
crash (Vonage retries for a day, Gammu's row stays unprocessed) gets the same complaint
and the same reply, and nothing is acknowledged before it is committed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.plugin import ChannelHost
from channels.sms.media import new_media
from channels.sms.models import SmsMessage
from channels.sms.texts import incomplete_marker
from normalizer.commands import CitizenPlan, CitizenText, Intent
from normalizer.models import Channel, Flag, RawPayload, Reporter
from store.sms import (
    NewMedia,
    OutboundSms,
    PartGroup,
    PartKey,
    RateLimit,
    ReplyVia,
    SmsRecord,
    SmsTake,
    StoredPart,
)

log = logging.getLogger(__name__)

# These gateways send our HTTP answer as the reply SMS (TwiML, Kannel's text/plain body);
# the others get it through their sender (Vonage's API, Gammu's outbox).
INLINE_GATEWAYS = frozenset({"twilio", "kannel"})
# An MMS's photos go with a new complaint or words added to one; a status request or a
# rating keeps none.
MEDIA_INTENTS = frozenset({Intent.COMPLAINT, Intent.FOLLOW_UP})

# A time of receipt further ahead of our clock than this is no clock drift but a time read
# in the wrong zone (Gammu writes local times): zones differ by a quarter of an hour at least.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Said once per gateway this often, not once for every SMS of a backlog.
FUTURE_LOG_EVERY = timedelta(minutes=10)
_ZONE_FIXES = {
    "gammu": "Gammu writes its local time: run gammu-smsd, its database server and this"
    " gateway in one time zone, or, for a SQLite database, name the zone Gammu wrote in"
    " with ?timezone=Area/City in LAPOR_GAMMU_DATABASE_URL.",
}


@dataclass(frozen=True)
class SmsLimits:
    rate_limit: int
    """SMS from one number within `rate_window` that still get a reply; 0 is no limit."""
    rate_window: timedelta


class SmsService:
    def __init__(
        self,
        host: ChannelHost,
        limits: SmsLimits,
        media_recorded: Callable[[], None] | None = None,
    ) -> None:
        """`media_recorded` is told when an SMS has recorded media to fetch."""
        self._host = host
        self.store = host.store
        self._limits = limits
        self._media_recorded = media_recorded
        self._future_said: dict[str, datetime] = {}

    async def receive(self, message: SmsMessage) -> str | None:
        """Take one delivery; returns the reply to give in the HTTP answer (inline gateways
        only: the others get theirs queued), or None for no reply."""
        inline = message.gateway in INLINE_GATEWAYS
        now = self._host.clock()
        if message.received_at > now:
            if message.received_at - now > FUTURE_TOLERANCE:
                self._say_future(message, now)
            # A complaint is never received in the future, and its deadlines never start there.
            message = message.model_copy(update={"received_at": now})
        if message.part is None:
            # A gateway that gives no id (Kannel without %I): nothing to know a retry by.
            message_id = message.message_id or uuid.uuid4().hex
            return await self._take(message, message_id, inline=inline)
        key = PartKey(
            gateway=message.gateway,
            sender=message.sender,
            reference=message.part.reference,
            total=message.part.total,
        )
        part = StoredPart(
            seq=message.part.seq,
            message_id=message.message_id,
            text=message.text,
            received_at=message.received_at,
            raw=message.raw,
        )
        added = await self.store.add_sms_part(key, part)
        # A retry of a part of a whole message gets the message's answer again, and takes
        # the message in if a crash came between its last part and its complaint.
        if added.completes or (added.repeat and added.group.complete):
            return await self.take_group(added.group, inline=inline)
        return None

    def _say_future(self, message: SmsMessage, now: datetime) -> None:
        """A time this far ahead was read in the wrong zone; the times that are behind by
        as much cannot be told from real ones, so it is said loudly, not mended here."""
        said = self._future_said.get(message.gateway)
        if said is not None and now - said < FUTURE_LOG_EVERY:
            return
        self._future_said[message.gateway] = now
        ahead = timedelta(seconds=round((message.received_at - now).total_seconds()))
        log.error(
            "Configuration error: %s SMS %r was received %s (h:mm:ss) ahead of this host's"
            " clock, so its time is read in the wrong zone. %s This host's zone: %s (TZ=%s)."
            " Taken as received now; not said again for %d minutes.",
            message.gateway, message.message_id, ahead,
            _ZONE_FIXES.get(message.gateway, "Check the gateway's clock and time zone."),
            datetime.now().astimezone().strftime("%Z, UTC%z"), os.environ.get("TZ", "not set"),
            FUTURE_LOG_EVERY.total_seconds() // 60,
        )  # fmt: skip

    async def take_group(self, group: PartGroup, *, inline: bool) -> str | None:
        """Take in a long message: whole, or (once it has waited long enough) with what
        arrived and a marker where parts are missing. `inline`: the reply is given in the
        answer to a delivery rather than queued for the gateway's sender."""
        message_id = f"concat-{group.id}"
        if await self.store.is_part_group_closed(group.id):
            prior = await self.store.get_sms_record(group.key.gateway, message_id)
            return _inline(prior) if prior else None
        text, flags = self._joined(group)
        message = SmsMessage(
            gateway=group.key.gateway,
            message_id=message_id,
            sender=group.key.sender,
            text=text,
            received_at=group.first_received_at,
            raw=_parts_payload(group),
        )
        reply = await self._take(message, message_id, flags, inline=inline)
        await self.store.close_part_group(group.id, self._host.clock())
        return reply

    def _joined(self, group: PartGroup) -> tuple[str, tuple[Flag, ...]]:
        # Parts are cut at arbitrary septets, mid-word: they join with nothing between.
        text = "".join(part.text for part in group.parts)
        if group.complete:
            return text, ()
        marker = incomplete_marker(self._host.profile, group.missing, group.key.total)
        return f"{text}\n{marker}", (Flag.INCOMPLETE,)

    async def _take(
        self,
        message: SmsMessage,
        message_id: str,
        flags: tuple[Flag, ...] = (),
        *,
        inline: bool,
    ) -> str | None:
        plan, media = await self._plan(message, message_id, flags)
        record = SmsRecord(
            gateway=message.gateway,
            message_id=message_id,
            sender=message.sender,
            received_at=message.received_at,
            intent=plan.intent.value,
            complaint_id=plan.complaint_id,
            flags=tuple(sorted(set(plan.flags))),
        )
        rate = self._limits.rate_limit
        since = message.received_at - self._limits.rate_window
        take = SmsTake(
            record=record,
            answer=plan.answer,
            rate_limit=RateLimit(limit=rate, since=since) if rate else None,
            draft=plan.draft,
            duplicate_window=self._host.intake.duplicate_window,
            reply=plan.reply,
            queue=None if inline else self._reply,
            media=media,
        )
        stored = await self.store.take_sms(take)
        if self._media_recorded and any(m.refused is None for m in media):
            self._media_recorded()
        if Flag.RATE_LIMITED in stored.flags and stored.reply is None:
            log.warning("SMS over the rate limit from a sender: stored, flagged, not answered")
        return _inline(stored)

    async def _plan(
        self, message: SmsMessage, message_id: str, flags: tuple[Flag, ...]
    ) -> tuple[CitizenPlan, tuple[NewMedia, ...]]:
        """What the SMS asks for, and the media it keeps. A photo alone is a complaint (an
        SMS without a word is otherwise a puzzled one, answered with the formats)."""
        text = message.text
        if message.media and not text.strip():
            text = self._host.profile.message("sms.photo_only")
        said = CitizenText(
            channel=Channel.SMS,
            sender=message.sender,
            text=text,
            external_id=f"{message.gateway}:{message_id}",
            received_at=message.received_at,
            raw=message.raw,
            reporter=Reporter(phone=message.sender),
            flags=flags,
            has_media=bool(message.media),
        )
        plan = await self._host.citizen.plan(said)
        keeps_media = message.media and plan.intent in MEDIA_INTENTS
        return plan, tuple(map(new_media, message.media)) if keeps_media else ()

    def _reply(self, record: SmsRecord) -> OutboundSms:
        assert record.reply is not None
        message_id = f"reply-{record.gateway}-{record.message_id}"
        return self.outgoing(
            message_id, record.gateway, record.sender, record.reply, "reply", record.complaint_id
        )

    def outgoing(
        self,
        message_id: str,
        gateway: str,
        recipient: str,
        text: str,
        purpose: str,
        complaint_id: str | None,
    ) -> OutboundSms:
        """An SMS to queue now, first tried at once."""
        now = self._host.clock()
        return OutboundSms(
            id=message_id,
            gateway=gateway,
            recipient=recipient,
            text=text,
            purpose=purpose,
            complaint_id=complaint_id,
            next_attempt_at=now,
            created_at=now,
        )


def _inline(record: SmsRecord) -> str | None:
    """The reply to put in the HTTP answer: a queued one is sent by the sender, never twice."""
    return record.reply if record.reply_via is ReplyVia.HTTP else None


def _parts_payload(group: PartGroup) -> RawPayload:
    """Every part as it arrived, kept together for whoever needs to look at the wire."""
    parts = [
        {
            "seq": p.seq,
            "message_id": p.message_id,
            "content_type": p.raw.content_type,
            "body_base64": base64.b64encode(p.raw.body).decode(),
        }
        for p in group.parts
    ]
    body = {"gateway": group.key.gateway, "total": group.key.total, "parts": parts}
    return RawPayload(content_type="application/json", body=json.dumps(body).encode())
