"""One case as a member of staff may see it: what the API's answers and the console's
pages show, built in one place so that they always agree (workflow/visibility.py decides
the sight; this decides what each sight shows)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from gateway.context import Gateway
from normalizer.casework import Draft, NotaDinas
from normalizer.models import (
    Attachment,
    Case,
    Channel,
    Complaint,
    Flag,
    Reporter,
    TimelineEntry,
)
from store.workflow import AgencyStint, CitizenMessage
from workflow.roles import AGENCY_ROLES, Actor
from workflow.service import CaseView
from workflow.visibility import Sight, left_agency_at


class AdminCase(BaseModel):
    state: str
    version: int
    suggested_agency: str | None
    agency: str | None
    assignee: str | None
    verification_due: date
    completion_due: date
    due_at: AwareDatetime | None = Field(description="the current deadline; none once answered")
    overdue: bool
    closed_at: AwareDatetime | None
    rating: str | None


class AdminComplaint(BaseModel):
    tracking_id: str
    channel: Channel
    received_at: AwareDatetime
    classification: str
    category: str | None
    text: str | None = Field(
        description="null for a confidential complaint the caller may not read"
    )
    location: str | None
    incident_date: date | None
    anonymous: bool
    confidential: bool
    reporter: Reporter | None = Field(description="null for an anonymous report")
    reply_channel: Channel | None
    logged_by: str | None
    attachments: list[Attachment]
    flags: list[Flag] = Field(
        description="why a person should look: too_short, incomplete, rate_limited"
    )
    case: AdminCase | None
    moved: bool = Field(default=False, description="the case moved away from the caller's agency")


class MessageView(BaseModel):
    purpose: str
    text: str | None
    state: str
    channel: Channel | None
    detail: str | None
    created_at: AwareDatetime


class AdminComplaintDetail(AdminComplaint):
    timeline: list[TimelineEntry]
    allowed_actions: list[str] = Field(description="what the caller may do now")
    agencies: list[AgencyStint] = []
    drafts: list[Draft] = Field(default=[], description="every version of the nota dinas draft")
    notas: list[NotaDinas] = Field(default=[], description="every approved nota dinas")
    messages: list[MessageView] = []


async def detail(gw: Gateway, view: CaseView, actor: Actor) -> AdminComplaintDetail:
    record = view.record
    now = gw.clock()
    complaint = view.complaint
    case = record.case if record is not None and view.sight is Sight.FULL else None
    base = admin_view(complaint, case, now, view.sight)
    timeline = await gw.store.timeline(complaint.id)
    if view.sight is not Sight.FULL:
        # Of a case that moved away: what happened while it was theirs, nothing after.
        left = left_agency_at(actor, record) if record is not None else None
        timeline = [e for e in timeline if left is not None and e.at <= left]
        return AdminComplaintDetail(**base.model_dump(), timeline=timeline, allowed_actions=[])
    readable = base.text is not None
    messages = await gw.store.citizen_messages(complaint.id)
    return AdminComplaintDetail(
        **base.model_dump(),
        timeline=timeline if readable else [_without_note(e) for e in timeline],
        allowed_actions=[a.value for a in view.allowed],
        agencies=list(record.agencies) if record else [],
        drafts=list(record.drafts) if record and readable else [],
        notas=list(record.notas) if record and readable else [],
        messages=[_message_view(m, readable) for m in messages],
    )


def _without_note(entry: TimelineEntry) -> TimelineEntry:
    return entry.model_copy(update={"note": None})


def _message_view(message: CitizenMessage, readable: bool) -> MessageView:
    # A code is the citizen's key to the status page: no staff member needs it.
    shown = readable and message.purpose != "code"
    return MessageView(
        purpose=message.purpose,
        text=message.text if shown else None,
        state=message.state.value,
        channel=message.channel,
        detail=message.detail,
        created_at=message.created_at,
    )


def queue_sight(actor: Actor, case: Case | None) -> Sight:
    if actor.role not in AGENCY_ROLES:
        return Sight.FULL
    # The query returns only cases that are or were with the actor's agency.
    return Sight.FULL if case is not None and case.agency == actor.agency else Sight.MOVED


def admin_view(
    complaint: Complaint, case: Case | None, now: datetime, sight: Sight = Sight.FULL
) -> AdminComplaint:
    moved = sight is Sight.MOVED
    readable = not complaint.confidential or sight is Sight.FULL
    return AdminComplaint(
        tracking_id=complaint.tracking_id,
        channel=complaint.channel,
        received_at=complaint.received_at,
        classification=complaint.classification.value,
        category=complaint.category,
        text=complaint.text if readable else None,
        location=complaint.location if readable else None,
        incident_date=complaint.incident_date,
        anonymous=complaint.anonymous,
        confidential=complaint.confidential,
        # Anonymity hides the reporter from everyone who handles the case; the reply
        # address stays inside the gateway so the answer can still reach them.
        reporter=None if complaint.anonymous else complaint.reporter,
        reply_channel=complaint.reply_to.channel if complaint.reply_to else None,
        logged_by=complaint.logged_by,
        attachments=list(complaint.attachments) if readable else [],
        flags=list(complaint.flags),
        case=_case_view(case, now) if case is not None and not moved else None,
        moved=moved,
    )


def _case_view(case: Case, now: datetime) -> AdminCase:
    return AdminCase(
        state=case.state,
        version=case.version,
        suggested_agency=case.suggested_agency,
        agency=case.agency,
        assignee=case.assignee,
        verification_due=case.verification_due,
        completion_due=case.completion_due,
        due_at=case.due_at,
        overdue=case.due_at is not None and now >= case.due_at,
        closed_at=case.closed_at,
        rating=case.rating,
    )
