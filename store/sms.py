"""What the SMS channel keeps: parts of long messages, every message taken in, replies to
send, and the photos an MMS brought.

The SMS channel (channels/sms/) depends on `SmsStore` only; the SQLite backend
implements it in store/sqlite_sms.py.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from normalizer.casework import CitizenReply
from normalizer.models import Attachment, Complaint, ComplaintDraft, Flag, RawPayload

FINGERPRINT_MARK: Final = "#"
"""In a message id `<gateway id>#<fingerprint>`: the gateway's own id, which it may give
again to another message (Gammu numbers its inbox from 1 again when its tables are
rebuilt), and a fingerprint of this message. Before fingerprints such a message was kept
under its gateway id alone; that record is this message only if sender and time agree."""


def fingerprinted(gateway_id: str, fingerprint: str) -> str:
    return f"{gateway_id}{FINGERPRINT_MARK}{fingerprint}"


def gateway_id(message_id: str) -> str:
    """The gateway's own id within a message id (all of it when it has no fingerprint)."""
    return message_id.partition(FINGERPRINT_MARK)[0]


RENUMBERING_GATEWAYS = frozenset({"gammu"})
"""Gateways that number their messages themselves and may start again from 1 (Gammu's
inbox IDs after its tables are rebuilt): a message of theirs taken for one seen before is
logged as a warning, a provider's routine retry as information."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PartKey(_Model):
    """Which long message a part belongs to: parts of other senders or gateways never mix."""

    gateway: str
    sender: str
    reference: int
    total: int = Field(ge=2)


class StoredPart(_Model):
    seq: int = Field(ge=1)
    message_id: str | None
    text: str
    received_at: AwareDatetime
    raw: RawPayload


class PartGroup(_Model):
    id: str
    key: PartKey
    first_received_at: AwareDatetime
    parts: tuple[StoredPart, ...]
    """In order of `seq`, each seq once."""

    @property
    def missing(self) -> list[int]:
        have = {p.seq for p in self.parts}
        return [seq for seq in range(1, self.key.total + 1) if seq not in have]

    @property
    def complete(self) -> bool:
        return not self.missing


class ReplyVia(StrEnum):
    HTTP = "http"
    """In the answer to the gateway's request (TwiML, Kannel's text/plain)."""
    SENDER = "sender"
    """Queued in the outbound SMS table, for the gateway's sender."""


class PartAdded(_Model):
    group: PartGroup
    completes: bool
    """This part, new, was the group's last missing one: whoever added it takes the
    message in. A part that arrived alongside the last never does, so two deliveries
    racing at the end never both answer."""
    repeat: bool = False
    """This part was delivered before (its message id, or its place in the open group):
    a gateway's retry, owed the answer the whole message got."""


class SmsRecord(_Model):
    """One SMS taken in (a long one counts once) and the reply it got."""

    gateway: str
    message_id: str
    sender: str
    received_at: AwareDatetime
    intent: str
    complaint_id: str | None = None
    flags: tuple[Flag, ...] = ()
    reply: str | None = None
    reply_via: ReplyVia | None = None


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` SMS from one sender since `since` get a reply; those past it are
    kept, flagged `rate_limited`, and answered with nothing."""

    limit: int
    since: datetime


class MediaState(StrEnum):
    PENDING = "pending"
    FETCHED = "fetched"
    FAILED = "failed"
    """The provider would not give it (a 4xx), or kept failing past the last attempt."""
    REFUSED = "refused"
    """Not ours to fetch (a host other than the provider's API), or not taken: no photo or
    video, too large, or past the complaint's number of files."""


class NewMedia(_Model):
    """A picture or video an MMS announced, recorded with its SMS."""

    url: str
    content_type: str = Field(description="as the provider announced it")
    refused: str | None = None
    """Why it is never to be fetched (recorded `refused`); None: fetch it."""


class SmsMedia(_Model):
    """A pending media of an MMS, claimed to be fetched."""

    id: int
    complaint_id: str
    url: str
    content_type: str = Field(description="as the provider announced it")
    attempts: int = Field(description="this one included")
    next_attempt_at: AwareDatetime
    last_error: str | None = Field(default=None, description="of the attempt before")


class MediaOutcome(_Model):
    """How one attempt to fetch a media ended: `fetched` with its attachment, `pending`
    again from `retry_at`, or `failed`/`refused` with the reason."""

    state: MediaState
    error: str | None = None
    retry_at: AwareDatetime | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class SmsTake:
    """One whole SMS to take in, and what it files: everything `take_sms` commits at once.

    `answer` gives the reply once the complaint filed (if any) is known; it runs inside
    the store's transaction, so it is pure and quick. `queue` turns the finished record
    into the SMS to send, for a gateway that cannot answer in its HTTP response."""

    record: SmsRecord
    """As known before the transaction: no reply yet; the complaint of a status request
    or a follow-up, none for a new complaint."""
    answer: Callable[[Complaint | None], str | None]
    rate_limit: RateLimit | None = None
    draft: ComplaintDraft | None = None
    duplicate_window: timedelta = timedelta(0)
    reply: CitizenReply | None = None
    """The citizen's words on their case or rating of its answer, for the workflow."""
    queue: Callable[[SmsRecord], OutboundSms] | None = None
    media: tuple[NewMedia, ...] = ()
    """Recorded for the complaint the SMS files or names, in order (none without one)."""


class OutboundState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """Was being sent when the process stopped: it may or may not have gone out."""


class OutboundSms(_Model):
    id: str
    gateway: str
    recipient: str
    text: str
    purpose: str = Field(description="reply (to an SMS) or notification (status, answer)")
    complaint_id: str | None = None
    state: OutboundState = OutboundState.PENDING
    attempts: int = 0
    next_attempt_at: AwareDatetime
    created_at: AwareDatetime
    provider_id: str | None = None
    last_error: str | None = None


class SmsStore(abc.ABC):
    """Persistence of the SMS channel; every write is committed before it returns."""

    @abc.abstractmethod
    async def add_sms_part(self, key: PartKey, part: StoredPart) -> PartAdded:
        """Keep a part durably in its open group (opened by the first part) and return the
        group as it now stands. A part seen before (same gateway message id, or the same
        seq in the open group) changes nothing and is logged. A part whose message id
        belongs to a closed group returns that closed group, so a late repeat never starts
        a new message. A fingerprinted id also finds a part kept under its bare gateway id
        (see FINGERPRINT_MARK) whose group's sender and received time are the same."""

    @abc.abstractmethod
    async def expired_part_groups(self, opened_before: datetime, limit: int) -> list[PartGroup]:
        """Open groups whose first part came before `opened_before`, oldest first."""

    @abc.abstractmethod
    async def close_part_group(self, group_id: str, now: datetime) -> None:
        """The group's message has been taken in: it no longer waits, and its parts stay
        to recognise repeats."""

    @abc.abstractmethod
    async def is_part_group_closed(self, group_id: str) -> bool: ...

    @abc.abstractmethod
    async def get_sms_record(self, gateway: str, message_id: str) -> SmsRecord | None: ...

    @abc.abstractmethod
    async def take_sms(self, take: SmsTake) -> SmsRecord:
        """In one transaction: file the draft (idempotent on its external id, and within
        the duplicate window as `intake` does), keep the citizen's reply and queue it for
        the workflow, keep the record with
        its answer, and queue the reply if `take.queue` says how. A record with the same
        (gateway, message id) means it was taken before: nothing is written, that record
        is returned, and this is logged. A fingerprinted id also finds a record kept under
        its bare gateway id (see FINGERPRINT_MARK) with the same sender and received time.
        Past the rate limit (counted in the same transaction, so
        concurrent SMS cannot all slip under it) the complaint is flagged `rate_limited`
        and the record gets no reply. The SMS's media are recorded for the record's
        complaint, pending (or refused, as `take.media` says)."""

    @abc.abstractmethod
    async def sms_gateway_of(self, complaint_id: str) -> str | None:
        """The gateway the complaint's SMS came through, to answer on the same one."""

    @abc.abstractmethod
    async def enqueue_sms(self, message: OutboundSms) -> bool:
        """Queue an SMS to send; False (and nothing written) if its id is queued already."""

    @abc.abstractmethod
    async def claim_outbound_sms(self, now: datetime, limit: int) -> list[OutboundSms]:
        """Due pending SMS, oldest first, marked `sending` (committed) with one more attempt."""

    @abc.abstractmethod
    async def finish_outbound_sms(
        self,
        message_id: str,
        state: OutboundState,
        now: datetime,
        *,
        provider_id: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        """Record the attempt: `sent`, `failed`, or `pending` again from `retry_at`."""

    @abc.abstractmethod
    async def abandon_unconfirmed_sms(self, now: datetime) -> int:
        """At start-up: SMS left `sending` by a stopped process become `unknown` and are not
        sent again (at most once); returns how many."""

    @abc.abstractmethod
    async def outbound_sms(self, complaint_id: str | None = None) -> list[OutboundSms]:
        """Queued and sent SMS, oldest first; only those of one complaint if given."""

    @abc.abstractmethod
    async def outbound_summary(self, since: datetime) -> dict[str, object]:
        """For the health check: SMS waiting to be sent, those failed since `since`, and
        the provider's last refusal (a rotated credential shows here first)."""

    @abc.abstractmethod
    async def wait_for_outbound(self, max_wait: float) -> None:
        """Return when an SMS may have been queued, or after `max_wait` seconds."""

    @abc.abstractmethod
    async def claim_sms_media(
        self, now: datetime, limit: int, lease_until: datetime, max_files: int
    ) -> list[SmsMedia]:
        """Due pending media to fetch, at most one per complaint (its first, so a
        complaint's photos are attached in order), each with one more attempt and not due
        again before `lease_until` (committed), so a fetch cut short by a crash is tried
        again then. Pending media of a complaint that holds `max_files` attachments already
        are refused first, never fetched."""

    @abc.abstractmethod
    async def finish_sms_media(
        self, media_id: int, outcome: MediaOutcome, now: datetime, max_files: int
    ) -> MediaState:
        """Record the attempt. A fetched media's attachment is appended to its complaint's
        in the same transaction, unless the complaint holds `max_files` attachments
        already: then it is refused. Returns the state recorded."""
