"""The canonical models: what every channel produces and what the store keeps."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    WALKIN = "walkin"
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    FAX = "fax"
    X = "x"
    TELEGRAM = "telegram"
    MESSENGER = "messenger"


class Flag(StrEnum):
    """Why a complaint needs a person's look before it is treated as an ordinary one."""

    TOO_SHORT = "too_short"
    """Too short to act on: the citizen was asked for the what, where and when."""
    INCOMPLETE = "incomplete"
    """Parts of a long SMS never arrived; the text holds what did, with a marker."""
    RATE_LIMITED = "rate_limited"
    """Sent past the per-number limit: stored, not answered, to be reviewed."""


class Classification(StrEnum):
    PENGADUAN = "pengaduan"
    ASPIRASI = "aspirasi"
    PERMINTAAN_INFORMASI = "permintaan_informasi"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attachment(_Model):
    """A stored file: the bytes live in the blob store under `sha256`."""

    filename: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Reporter(_Model):
    """The reporter as they identified themselves; every part optional."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


class RawPayload(_Model):
    """What arrived on the wire, kept so a person can look at it later."""

    content_type: str
    body: bytes


class Inbound(_Model):
    """The envelope every channel hands over: parsed and authenticated, not yet normalised."""

    channel: Channel
    external_id: str | None = None
    request_hash: str | None = None
    sender: str | None = None
    display_name: str | None = None
    text: str
    attachments: tuple[Attachment, ...] = ()
    received_at: AwareDatetime
    raw: RawPayload | None = None
    reporter: Reporter = Reporter()
    anonymous: bool = False
    confidential: bool = False
    classification: Classification | None = None
    category: str | None = None
    location: str | None = None
    incident_date: date | None = None
    logged_by: str | None = None
    flags: tuple[Flag, ...] = ()


class ReplyAddress(_Model):
    """Where the answer goes: the channel the citizen used, or the contact they gave."""

    channel: Channel
    address: str


class ComplaintDraft(_Model):
    """A normalised complaint before the store gives it an id and a tracking ID."""

    channel: Channel
    external_id: str | None
    request_hash: str | None
    duplicate_key: str | None = None
    profile: str
    reporter: Reporter
    reply_to: ReplyAddress | None
    anonymous: bool
    confidential: bool
    classification: Classification
    category: str | None
    text: str
    text_original: str
    location: str | None
    incident_date: date | None
    attachments: tuple[Attachment, ...]
    received_at: AwareDatetime
    logged_by: str | None
    flags: tuple[Flag, ...] = ()
    raw: RawPayload | None = Field(default=None, exclude=True)


class Complaint(ComplaintDraft):
    id: str
    tracking_id: str
    created_at: AwareDatetime


class Case(_Model):
    """The workflow's view of a complaint: its state, deadlines and agency."""

    complaint_id: str
    tracking_id: str
    state: str
    suggested_agency: str | None
    agency: str | None
    verification_due: date
    completion_due: date
    verification_due_at: AwareDatetime
    completion_due_at: AwareDatetime
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    version: int = 1
    """Goes up by one with every action: an action names the version it was decided on."""
    due_at: AwareDatetime | None = None
    """The current deadline: verification while received or on hold, completion from
    forwarding until answered, none after."""
    assignee: str | None = None
    """The Pejabat Penghubung the agency's admin passed the case to."""
    held_at: AwareDatetime | None = None
    verified_at: AwareDatetime | None = None
    answered_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    rating: str | None = None
    dissatisfied: int = 0
    """How often the citizen said the answer did not satisfy them."""
    verification_late: bool = False
    completion_late: bool = False


class TimelineEntry(_Model):
    at: AwareDatetime
    kind: str
    state: str | None = None
    actor: str | None = None
    note: str | None = None
    role: str | None = None
    from_state: str | None = None
