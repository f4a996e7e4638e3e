"""The unified admin queue: every channel's complaints in one list, and one complaint whole."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from channels.complaint_fields import AgencyCode, CategoryCode
from gateway.auth import Role
from gateway.context import Gateway, gateway_of
from gateway.errors import json_error, validation_error
from normalizer.models import (
    Attachment,
    Case,
    Channel,
    Complaint,
    Flag,
    Reporter,
    TimelineEntry,
)
from normalizer.tracking import InvalidTrackingId, parse_tracking_id
from store.base import ComplaintQuery, InvalidCursor, QueueSort
from workflow.states import FINAL_STATES, CaseState

routes = web.RouteTableDef()


class QueueParams(BaseModel):
    """Query string of `GET /api/v1/complaints`; dates are local dates of the regency."""

    model_config = ConfigDict(extra="forbid")

    state: CaseState | None = None
    channel: Channel | None = None
    category: CategoryCode | None = None
    agency: AgencyCode | None = None
    overdue: bool | None = None
    flag: Flag | None = None
    q: str | None = Field(default=None, max_length=200)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    sort: QueueSort = QueueSort.NEWEST
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=500)


class AdminCase(BaseModel):
    state: str
    suggested_agency: str | None
    agency: str | None
    verification_due: date
    completion_due: date
    overdue: bool


class AdminComplaint(BaseModel):
    tracking_id: str
    channel: Channel
    received_at: AwareDatetime
    classification: str
    category: str | None
    text: str
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


class AdminComplaintDetail(AdminComplaint):
    timeline: list[TimelineEntry]


class QueueResponse(BaseModel):
    items: list[AdminComplaint]
    next_cursor: str | None


@routes.get("/api/v1/complaints")
async def queue(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    gw.staff.require(request, Role.ADMIN)
    try:
        params = QueueParams.model_validate(
            dict(request.query), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        raise validation_error(exc, "Parameter pencarian tidak valid.") from None
    now = gw.clock()
    try:
        page = await gw.store.list_complaints(_query(gw, params), now)
    except InvalidCursor:
        raise json_error(400, "invalid_cursor", "Kursor halaman tidak valid.") from None
    body = QueueResponse(
        items=[_admin_view(i.complaint, i.case, now) for i in page.items],
        next_cursor=page.next_cursor,
    )
    return web.Response(text=body.model_dump_json(), content_type="application/json")


@routes.get("/api/v1/complaints/{tracking_id}")
async def one(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    gw.staff.require(request, Role.ADMIN)
    try:
        tracking_id = parse_tracking_id(request.match_info["tracking_id"])
    except InvalidTrackingId:
        raise json_error(404, "not_found", "Nomor pelacakan tidak valid.") from None
    complaint = await gw.store.get_complaint(tracking_id)
    if complaint is None:
        raise json_error(404, "not_found", "Laporan tidak ditemukan.")
    case = await gw.store.get_case(complaint.id)
    view = _admin_view(complaint, case, gw.clock())
    detail = AdminComplaintDetail(
        **view.model_dump(), timeline=await gw.store.timeline(complaint.id)
    )
    return web.Response(text=detail.model_dump_json(), content_type="application/json")


def _query(gw: Gateway, params: QueueParams) -> ComplaintQuery:
    def local_midnight(day: date) -> datetime:
        return datetime.combine(day, time(), gw.profile.zone)

    return ComplaintQuery(
        state=params.state.value if params.state else None,
        channel=params.channel,
        category=params.category,
        agency=params.agency,
        overdue=params.overdue,
        flag=params.flag,
        text=params.q,
        received_from=local_midnight(params.from_) if params.from_ else None,
        received_before=local_midnight(params.to + timedelta(days=1)) if params.to else None,
        sort=params.sort,
        limit=params.limit,
        cursor=params.cursor,
    )


def _admin_view(complaint: Complaint, case: Case | None, now: datetime) -> AdminComplaint:
    return AdminComplaint(
        tracking_id=complaint.tracking_id,
        channel=complaint.channel,
        received_at=complaint.received_at,
        classification=complaint.classification.value,
        category=complaint.category,
        text=complaint.text,
        location=complaint.location,
        incident_date=complaint.incident_date,
        anonymous=complaint.anonymous,
        confidential=complaint.confidential,
        # Anonymity hides the reporter from everyone who handles the case; the reply
        # address stays inside the gateway so the answer can still reach them.
        reporter=None if complaint.anonymous else complaint.reporter,
        reply_channel=complaint.reply_to.channel if complaint.reply_to else None,
        logged_by=complaint.logged_by,
        attachments=list(complaint.attachments),
        flags=list(complaint.flags),
        case=AdminCase(
            state=case.state,
            suggested_agency=case.suggested_agency,
            agency=case.agency,
            verification_due=case.verification_due,
            completion_due=case.completion_due,
            overdue=case.state not in FINAL_STATES and now >= case.completion_due_at,
        )
        if case
        else None,
    )
