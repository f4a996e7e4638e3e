"""The body of every event on NATS: one JSON document, versioned.

Other systems (the national LAPOR! integration, dashboards, analytics) parse this, so a
field is never renamed, retyped or given another meaning within a version: a change that
could break a reader comes with a new `schema_version`. Fields may be added.

What a body may say of its complaint depends on the stream and on verification
(`build.py` decides it): an `anonim` reporter is in no body at all; a `rahasia`
complaint's text, place, incident date and reporter, and the words of the citizen's
replies, only in the restricted stream; and none of it before verification has settled
whether the complaint is `anonim` and `rahasia` (`withheld` says why a body lacks them).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from normalizer.models import Channel, Classification

SCHEMA_VERSION: Literal[1] = 1


class Withheld(StrEnum):
    """Why a body has no text, place, incident date, reporter or words of a reply."""

    CONFIDENTIAL = "confidential"
    """`rahasia`: the whole event is on the restricted stream."""
    UNVERIFIED = "unverified"
    """Not yet verified: staff may still mark the complaint `rahasia` or `anonim`."""


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventReporter(_Body):
    """The reporter as they identified themselves; never of an `anonim` complaint."""

    name: str | None
    phone: str | None
    email: str | None
    reply_channel: Channel | None = Field(description="where the answer goes")
    reply_address: str | None


class EventCase(_Body):
    """The case as it is when the event is published, which may be later than the event
    (a backlog after NATS was away): the change the event records is its kind and data."""

    state: str
    agency: str | None
    suggested_agency: str | None
    due_at: AwareDatetime | None = Field(description="the current deadline, none once answered")
    verification_due_at: AwareDatetime
    completion_due_at: AwareDatetime
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None
    version: int
    rating: str | None


class EventFollowup(_Body):
    """The citizen's reply or rating a `citizen.followup` event is about."""

    kind: str = Field(description="followup (words on the case) or rating")
    rating: str | None = Field(description="puas or tidak_puas, for a rating")
    channel: Channel
    received_at: AwareDatetime
    text: str | None = Field(description="null when the event's content is withheld")


class ComplaintEvent(_Body):
    """One outbox event of one complaint."""

    schema_version: Literal[1] = SCHEMA_VERSION
    seq: int = Field(description="the outbox sequence: increasing, also the Nats-Msg-Id")
    kind: str = Field(description="complaint.received, case.<state>, citizen.followup, sla.*")
    profile: str = Field(description="the regency profile's key")
    occurred_at: AwareDatetime = Field(description="when the event was recorded")
    tracking_id: str
    channel: Channel
    category: str | None
    classification: Classification
    received_at: AwareDatetime
    anonymous: bool = Field(description="anonim: no reporter in any event")
    confidential: bool = Field(description="rahasia: the content only on the restricted stream")
    withheld: Withheld | None = Field(
        description="why text, location, incident_date, reporter and the reply's words are "
        "null here: confidential or unverified; null when they are given"
    )
    attachments: int = Field(description="how many photos or files the complaint has")
    case: EventCase | None = Field(description="none until the dispatcher opened it")
    data: dict[str, object] = Field(description="what the event adds: from/to state, ids")
    followup: EventFollowup | None
    text: str | None = Field(description="null when withheld")
    location: str | None = Field(description="null when withheld or not given")
    incident_date: date | None = Field(description="null when withheld or not given")
    reporter: EventReporter | None = Field(
        description="null when withheld, until verification, and always when anonim"
    )
