"""What is published of one outbox event, and where: pure, so the privacy rules are read and
tested in one place.

- Every event goes to the public stream. A complaint's content (text, place, incident date,
  the words of the citizen's replies) is in it once the case is past verification, where
  staff may mark it `rahasia` (never unmark it), and only if it is not; else `withheld`
  says why it is not there.
- A `rahasia` complaint's events go whole to the restricted stream as well, and only there.
- The reporter (name, phone, e-mail, reply address) goes with the content once the case is
  past verification (which may make them `anonim`), and never for an `anonim` one.

Published is published: a mark set at verification cannot call back an event that went
out before it, so nothing the marks protect goes out before verification.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.schema import ComplaintEvent, EventCase, EventFollowup, EventReporter, Withheld
from events.subjects import Streams
from store.events import RelayEvent
from workflow.states import VERIFICATION_STATES


@dataclass(frozen=True)
class Outgoing:
    stream: str
    subject: str
    msg_id: str
    """The outbox seq: JetStream drops a second message with this id within its window."""
    body: ComplaintEvent

    @property
    def payload(self) -> bytes:
        return self.body.model_dump_json().encode()


def outgoing(event: RelayEvent, streams: Streams) -> list[Outgoing]:
    """The messages of one event, public first."""
    msg_id = str(event.seq)
    public = body(event, streams.profile, restricted=False)
    messages = [Outgoing(streams.public, streams.public_subject(event.kind), msg_id, public)]
    if event.complaint.confidential:
        whole = body(event, streams.profile, restricted=True)
        messages.append(
            Outgoing(streams.restricted, streams.restricted_subject(event.kind), msg_id, whole)
        )
    return messages


def settled(event: RelayEvent) -> bool:
    """Whether staff can no longer mark the complaint `anonim` or `rahasia` now: its case is
    past verification (forwarded, or closed without: rejected, archived). Not before the
    dispatcher opened it, nor while on hold, nor when an agency returned it to be verified
    again."""
    case = event.case
    return case is not None and case.state not in VERIFICATION_STATES


def withheld(event: RelayEvent, *, restricted: bool) -> Withheld | None:
    """Why the complaint's content is not in this stream's body, if it is not."""
    if event.complaint.confidential and not restricted:
        return Withheld.CONFIDENTIAL
    if not event.complaint.confidential and not settled(event):
        return Withheld.UNVERIFIED
    return None


def body(event: RelayEvent, profile: str, *, restricted: bool) -> ComplaintEvent:
    """The event's body for the public stream, or for the restricted one (`rahasia` only)."""
    c, case, reply = event.complaint, event.case, event.followup
    why = withheld(event, restricted=restricted)
    content = why is None
    reporter = None
    if content and settled(event) and not c.anonymous:
        reporter = EventReporter(
            name=c.reporter.name,
            phone=c.reporter.phone,
            email=c.reporter.email,
            reply_channel=c.reply_to.channel if c.reply_to else None,
            reply_address=c.reply_to.address if c.reply_to else None,
        )
    return ComplaintEvent(
        seq=event.seq,
        kind=event.kind,
        profile=profile,
        occurred_at=event.created_at,
        tracking_id=c.tracking_id,
        channel=c.channel,
        category=c.category,
        classification=c.classification,
        received_at=c.received_at,
        anonymous=c.anonymous,
        confidential=c.confidential,
        withheld=why,
        attachments=len(c.attachments),
        # The schema's fields are the case's own, taken by name.
        case=None if case is None else EventCase.model_validate(case, from_attributes=True),
        data=event.data,
        followup=None
        if reply is None
        else EventFollowup(
            kind=reply.kind,
            rating=reply.rating,
            channel=reply.channel,
            received_at=reply.received_at,
            text=reply.text if content else None,
        ),
        text=c.text if content else None,
        location=c.location if content else None,
        incident_date=c.incident_date if content else None,
        reporter=reporter,
    )
