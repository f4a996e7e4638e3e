"""The SMS channel's rows as both backends read and keep them (store/sqlite_sms.py,
store/postgres_sms.py): records, part groups, SMS to send, photos of an MMS, and what is
logged when a message comes again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from normalizer.models import Complaint, Flag, RawPayload
from store.rows import Row, parse_ts
from store.sms import (
    RENUMBERING_GATEWAYS,
    OutboundSms,
    OutboundState,
    PartGroup,
    PartKey,
    ReplyVia,
    SmsMedia,
    SmsRecord,
    SmsTake,
    StoredPart,
)

log = logging.getLogger(__name__)


OUTBOUND_COLUMNS = (
    "id", "gateway", "recipient", "text", "purpose", "complaint_id", "state", "attempts",
    "next_attempt_at", "created_at", "updated_at", "provider_id", "last_error",
)  # fmt: skip


def log_taken_before(message_id: str, earlier: SmsRecord) -> None:
    # Loud: for a gateway that numbers its messages itself (Gammu), a message wrongly taken
    # for one filed before would otherwise vanish without a trace.
    # A provider's retry of a delivery it numbered itself (Twilio, Vonage, Kannel) is routine.
    kept_as = "" if earlier.message_id == message_id else f" (kept as {earlier.message_id!r})"
    log.log(
        logging.WARNING if earlier.gateway in RENUMBERING_GATEWAYS else logging.INFO,
        "SMS %s %r was taken in before%s: nothing filed again, it keeps its first answer",
        earlier.gateway, message_id, kept_as,
    )  # fmt: skip


def finished_record(take: SmsTake, flooded: bool, complaint: Complaint | None) -> SmsRecord:
    """The record as kept: the complaint filed, the flags, and the reply (none if flooded)."""
    record = take.record
    reply = None if flooded else take.answer(complaint)
    via = None if reply is None else ReplyVia.SENDER if take.queue else ReplyVia.HTTP
    flags = set(record.flags) | ({Flag.RATE_LIMITED} if flooded else set())
    return record.model_copy(
        update={
            "complaint_id": complaint.id if complaint else record.complaint_id,
            "flags": tuple(sorted(flags)),
            "reply": reply,
            "reply_via": via,
        }
    )


def full_note(max_files: int) -> str:
    return f"the complaint holds the most files allowed ({max_files})"


def media_claimed(row: Row, lease_until: datetime) -> SmsMedia:
    return SmsMedia(
        id=row["id"],
        complaint_id=row["complaint_id"],
        url=row["url"],
        content_type=row["content_type"],
        attempts=row["attempts"] + 1,
        next_attempt_at=lease_until,
        last_error=row["last_error"],
    )


def group_from_rows(row: Row, parts: Sequence[Row]) -> PartGroup:
    return PartGroup(
        id=row["id"],
        key=PartKey(
            gateway=row["gateway"],
            sender=row["sender"],
            reference=row["reference"],
            total=row["total"],
        ),
        first_received_at=parse_ts(row["first_received_at"]),
        parts=tuple(
            StoredPart(
                seq=p["seq"],
                message_id=p["message_id"],
                text=p["text"],
                received_at=parse_ts(p["received_at"]),
                raw=RawPayload(content_type=p["content_type"], body=p["body"]),
            )
            for p in parts
        ),
    )


def record_from_row(row: Row) -> SmsRecord:
    return SmsRecord(
        gateway=row["gateway"],
        message_id=row["message_id"],
        sender=row["sender"],
        received_at=parse_ts(row["received_at"]),
        intent=row["intent"],
        complaint_id=row["complaint_id"],
        flags=tuple(Flag(f) for f in row["flags"].split()),
        reply=row["reply"],
        reply_via=ReplyVia(row["reply_via"]) if row["reply_via"] else None,
    )


def outbound_from_row(row: Row) -> OutboundSms:
    return OutboundSms(
        id=row["id"],
        gateway=row["gateway"],
        recipient=row["recipient"],
        text=row["text"],
        purpose=row["purpose"],
        complaint_id=row["complaint_id"],
        state=OutboundState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=parse_ts(row["next_attempt_at"]),
        created_at=parse_ts(row["created_at"]),
        provider_id=row["provider_id"],
        last_error=row["last_error"],
    )
