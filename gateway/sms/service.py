"""SMS to 1708, whichever gateway carried it: put long messages together, read the first
word, file or answer, and give the reply once.

Every step is idempotent on the gateway's message id, so a delivery retried after a
crash (Vonage retries for a day, Gammu's row stays unprocessed) gets the same complaint
and the same reply, and nothing is acknowledged before it is committed.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.sms.models import SmsMessage
from config.profile import Profile
from gateway.intake import IntakeService
from gateway.sms.replies import SmsReplies
from normalizer.commands import Command, Intent, parse_command
from normalizer.models import (
    Channel,
    Complaint,
    ComplaintDraft,
    Flag,
    Inbound,
    RawPayload,
    Reporter,
)
from normalizer.text import clean_text
from store.base import Store
from store.sms import (
    Followup,
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


@dataclass(frozen=True)
class SmsLimits:
    rate_limit: int
    """SMS from one number within `rate_window` that still get a reply; 0 is no limit."""
    rate_window: timedelta


@dataclass(frozen=True)
class _Delivery:
    """One whole SMS being acted on: its words, whose they are, and what is known of it."""

    message: SmsMessage
    external_id: str
    """`<gateway>:<message id>`: the idempotency key of what it files."""
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class _Plan:
    """What an SMS asks for, worked out before the store takes it in one transaction."""

    intent: Intent
    answer: Callable[[Complaint | None], str | None]
    """The reply, given the complaint filed (None when it files none)."""
    complaint_id: str | None = None
    flags: tuple[Flag, ...] = ()
    draft: ComplaintDraft | None = None
    followup: Followup | None = None


def _says(reply: str) -> Callable[[Complaint | None], str | None]:
    return lambda _: reply


class SmsService:
    def __init__(
        self,
        store: Store,
        intake: IntakeService,
        profile: Profile,
        limits: SmsLimits,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self._intake = intake
        self._profile = profile
        self._limits = limits
        self._clock = clock
        self._replies = SmsReplies(profile)

    async def receive(self, message: SmsMessage) -> str | None:
        """Take one delivery; returns the reply to give in the HTTP answer (inline gateways
        only: the others get theirs queued), or None for no reply."""
        inline = message.gateway in INLINE_GATEWAYS
        now = self._clock()
        if message.received_at > now:
            # A gateway's clock or zone off (Gammu writes local time): a complaint is never
            # received in the future, and its deadlines never start there.
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
        await self.store.close_part_group(group.id, self._clock())
        return reply

    def _joined(self, group: PartGroup) -> tuple[str, tuple[Flag, ...]]:
        # Parts are cut at arbitrary septets, mid-word: they join with nothing between.
        text = "".join(part.text for part in group.parts)
        if group.complete:
            return text, ()
        marker = self._replies.incomplete_marker(group.missing, group.key.total)
        return f"{text}\n{marker}", (Flag.INCOMPLETE,)

    async def _take(
        self,
        message: SmsMessage,
        message_id: str,
        flags: tuple[Flag, ...] = (),
        *,
        inline: bool,
    ) -> str | None:
        command = parse_command(message.text, self._profile.sms.min_complaint_chars)
        delivery = _Delivery(message, f"{message.gateway}:{message_id}", flags)
        plan = await self._plan(command, delivery)
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
            duplicate_window=self._intake.duplicate_window,
            followup=plan.followup,
            queue=None if inline else self._reply,
        )
        stored = await self.store.take_sms(take)
        if Flag.RATE_LIMITED in stored.flags and stored.reply is None:
            log.warning("SMS over the rate limit from a sender: stored, flagged, not answered")
        return _inline(stored)

    async def _plan(self, command: Command, delivery: _Delivery) -> _Plan:
        if command.intent is Intent.HELP:
            return _Plan(Intent.HELP, _says(self._replies.help()), flags=delivery.flags)
        if command.intent is Intent.STATUS:
            return await self._status(command, delivery)
        if command.intent is Intent.FOLLOW_UP:
            plan = await self._follow_up(command, delivery)
            if plan is not None:
                return plan
            # `<ID> text` where the ID is not one of this sender's: just a complaint that
            # happens to begin with a word shaped like an ID.
            text = delivery.message.text
            command = Command(intent=Intent.COMPLAINT, text=text, keyword=False)
        return self._complaint(command, delivery)

    def _complaint(self, command: Command, delivery: _Delivery) -> _Plan:
        # Never empty: a message without a word is a help request (normalizer.commands).
        text = clean_text(command.text)
        too_short = len(text) < self._profile.sms.min_complaint_chars
        flags = delivery.flags + ((Flag.TOO_SHORT,) if too_short else ())
        inbound = Inbound(
            channel=Channel.SMS,
            external_id=delivery.external_id,
            sender=delivery.message.sender,
            text=text,
            received_at=delivery.message.received_at,
            raw=delivery.message.raw,
            reporter=Reporter(phone=delivery.message.sender),
            flags=flags,
        )

        def acknowledge(complaint: Complaint | None) -> str | None:
            # A resend within the duplicate window gets the first complaint and its reply.
            assert complaint is not None
            return self._replies.ack(complaint, Flag.TOO_SHORT in complaint.flags)

        return _Plan(Intent.COMPLAINT, acknowledge, flags=flags, draft=self._intake.draft(inbound))

    async def _status(self, command: Command, delivery: _Delivery) -> _Plan:
        found = await self._owned_by_sender(command, delivery)
        if isinstance(found, _Plan):
            return found
        case = await self.store.get_case(found.id)
        reply = self._replies.status(found, case)
        return _Plan(Intent.STATUS, _says(reply), found.id, delivery.flags)

    async def _follow_up(self, command: Command, delivery: _Delivery) -> _Plan | None:
        found = await self._owned_by_sender(command, delivery)
        if isinstance(found, _Plan):
            return found if command.keyword or command.tracking_id is None else None
        text = clean_text(command.text)
        if not text:
            return _Plan(Intent.FOLLOW_UP, _says(self._replies.help()), found.id, delivery.flags)
        message = delivery.message
        followup = Followup(
            complaint_id=found.id,
            channel=Channel.SMS,
            external_id=delivery.external_id,
            text=text,
            received_at=message.received_at,
        )
        reply = self._replies.followup_added(found)
        return _Plan(Intent.FOLLOW_UP, _says(reply), found.id, delivery.flags, followup=followup)

    async def _owned_by_sender(self, command: Command, delivery: _Delivery) -> Complaint | _Plan:
        """The complaint the command names, or the reply saying why there is none."""
        if command.tracking_id is None:
            reply = self._replies.bad_id(command)
            return _Plan(command.intent, _says(reply), flags=delivery.flags)
        complaint = await self._owned(command.tracking_id, delivery.message.sender)
        if complaint is None:
            reply = self._replies.not_found(command.tracking_id)
            return _Plan(command.intent, _says(reply), flags=delivery.flags)
        return complaint

    async def _owned(self, tracking_id: str, sender: str) -> Complaint | None:
        """The complaint, if this number filed it (or gave it as the contact): a status is
        nobody else's business, so another number hears "not found" as for a wrong ID."""
        complaint = await self.store.get_complaint(tracking_id)
        if complaint is None:
            return None
        numbers = {complaint.reporter.phone}
        if complaint.reply_to and complaint.reply_to.channel is Channel.SMS:
            numbers.add(complaint.reply_to.address)
        return complaint if sender in numbers else None

    def _reply(self, record: SmsRecord) -> OutboundSms:
        assert record.reply is not None
        message_id = f"reply-{record.gateway}-{record.message_id}"
        return self._outgoing(
            message_id, record.gateway, record.sender, record.reply, "reply", record.complaint_id
        )

    def _outgoing(
        self,
        message_id: str,
        gateway: str,
        recipient: str,
        text: str,
        purpose: str,
        complaint_id: str | None,
    ) -> OutboundSms:
        """An SMS to queue now, first tried at once."""
        now = self._clock()
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

    async def notify(self, complaint: Complaint, text: str, purpose: str) -> bool:
        """Queue an SMS to the citizen about their complaint (a new status, the agency's
        answer) through the gateway their SMS came in by; False if it cannot go by SMS."""
        if complaint.reply_to is None or complaint.reply_to.channel is not Channel.SMS:
            return False
        gateway = await self.store.sms_gateway_of(complaint.id)
        if gateway is None:
            return False
        message_id = f"{purpose}-{complaint.id}-{uuid.uuid4().hex[:8]}"
        recipient = complaint.reply_to.address
        message = self._outgoing(message_id, gateway, recipient, text, purpose, complaint.id)
        return await self.store.enqueue_sms(message)


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
