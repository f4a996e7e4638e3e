"""The unified queue, one case whole, and the workflow's actions, for staff with a token.

Every answer shows a case as the caller may see it (workflow/visibility.py): an agency's
roles only their agency's cases (of one moved away, only that it moved), a confidential
complaint's text and answer only to the regency's readers and the agency holding it, an
anonymous reporter to nobody.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aiohttp import web
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from channels.app.models import ErrorBody, FieldProblem
from channels.complaint_fields import AgencyCode, CategoryCode
from channels.http import json_error
from gateway.apidoc import operation
from gateway.auth import STAFF_READERS, require_staff
from gateway.context import Gateway, gateway_of
from gateway.errors import read_json, validation_error
from gateway.params import LocalDate
from normalizer.casework import Draft, NotaDinas
from normalizer.models import (
    Attachment,
    Case,
    Channel,
    Classification,
    Complaint,
    Flag,
    Reporter,
    TimelineEntry,
)
from store.base import ComplaintQuery, InvalidCursor, QueueSort
from store.workflow import AgencyStint, CitizenMessage
from workflow.actions import ActionRequest, InvalidField, NotAllowed, Refused, StaleVersion
from workflow.calendar import WorkingCalendar
from workflow.roles import AGENCY_ROLES, Actor
from workflow.service import CaseView
from workflow.states import CaseState
from workflow.visibility import Sight, left_agency_at

routes = web.RouteTableDef()
MAX_ACTION_BYTES = 64 * 1024
_ACTION = TypeAdapter(ActionRequest)


class QueueParams(BaseModel):
    """Query string of `GET /api/v1/complaints`; dates are local dates of the regency."""

    model_config = ConfigDict(extra="forbid")

    state: CaseState | None = None
    channel: Channel | None = None
    category: CategoryCode | None = None
    classification: Classification | None = None
    agency: AgencyCode | None = None
    overdue: bool | None = Field(default=None, description="the current deadline has passed")
    due_soon: bool | None = Field(
        default=None, description="the current deadline falls within one working day"
    )
    flag: Flag | None = None
    q: str | None = Field(default=None, max_length=200)
    from_: LocalDate | None = Field(default=None, alias="from")
    to: LocalDate | None = None
    sort: QueueSort = QueueSort.NEWEST
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=500)


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


class QueueResponse(BaseModel):
    items: list[AdminComplaint]
    next_cursor: str | None


class ActionRefused(ErrorBody):
    """A 409: the action is not (or no longer) possible in the case's state."""

    state: str | None = Field(description="the case's state now")
    allowed_actions: list[str] = Field(description="what the caller may do in it")


@routes.get("/api/v1/complaints")
@operation(
    "The unified queue (an agency's roles see their agency's cases)",
    {200: (QueueResponse, "One page of the queue")},
    query=QueueParams,
    secured=True,
    errors=(400, 401, 403, 422),
)
async def queue(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await require_staff(request, STAFF_READERS)
    try:
        params = QueueParams.model_validate(
            dict(request.query), context=gw.intake.validation_context()
        )
    except ValidationError as exc:
        raise validation_error(exc, "Parameter pencarian tidak valid.") from None
    now = gw.clock()
    try:
        page = await gw.store.list_complaints(_query(gw, params, actor, now), now)
    except InvalidCursor:
        raise json_error(400, "invalid_cursor", "Kursor halaman tidak valid.") from None
    items = [_admin_view(i.complaint, i.case, now, _queue_sight(actor, i.case)) for i in page.items]
    body = QueueResponse(items=items, next_cursor=page.next_cursor)
    return web.Response(text=body.model_dump_json(), content_type="application/json")


@routes.get("/api/v1/complaints/{tracking_id}")
@operation(
    "One case with its timeline and what the caller may do",
    {200: (AdminComplaintDetail, "The case")},
    secured=True,
    errors=(401, 403, 404),
)
async def one(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await require_staff(request, STAFF_READERS)
    view = await _view(gw, request, actor)
    return _detail_response(await _detail(gw, view, actor))


@routes.post("/api/v1/complaints/{tracking_id}/actions")
@operation(
    "Take one workflow action on the case's current version",
    {
        200: (AdminComplaintDetail, "Taken; the case as it is now"),
        409: (ActionRefused, "Not in this state, or a stale version"),
    },
    body=_ACTION.json_schema(ref_template="#/components/schemas/{model}"),
    secured=True,
    errors=(400, 401, 403, 404, 413, 415, 422, 503),
)
async def act(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    actor = await require_staff(request, STAFF_READERS)
    body = await read_json(request, MAX_ACTION_BYTES)
    try:
        action = _ACTION.validate_python(body)
    except ValidationError as exc:
        raise validation_error(exc, "Data aksi belum benar.") from None
    try:
        await gw.workflow.act(request.match_info["tracking_id"], actor, action)
    except Refused as exc:
        raise _refusal(exc) from None
    view = await _view(gw, request, actor)
    return _detail_response(await _detail(gw, view, actor))


async def _view(gw: Gateway, request: web.Request, actor: Actor) -> CaseView:
    try:
        return await gw.workflow.view(request.match_info["tracking_id"], actor)
    except Refused as exc:
        raise _refusal(exc) from None


def _refusal(exc: Refused) -> web.HTTPException:
    """The workflow's refusal as the API answers it: 403, 404, 422 naming the field, or
    409 with the case's state and what may be done in it."""
    if isinstance(exc, NotAllowed):
        code = "stale_version" if isinstance(exc, StaleVersion) else "not_allowed"
        body = ActionRefused(
            error=code, message=exc.message, state=exc.state or None, allowed_actions=exc.allowed
        )
        error = web.HTTPException(text=body.model_dump_json(), content_type="application/json")
        error.set_status(409)
        return error
    fields = (
        [FieldProblem(field=exc.field, reason=exc.reason)] if isinstance(exc, InvalidField) else []
    )
    codes = {403: "forbidden", 404: "not_found", 422: "validation_error"}
    return json_error(exc.status, codes.get(exc.status, "refused"), exc.message, fields)


def _detail_response(detail: AdminComplaintDetail) -> web.Response:
    return web.Response(text=detail.model_dump_json(), content_type="application/json")


async def _detail(gw: Gateway, view: CaseView, actor: Actor) -> AdminComplaintDetail:
    record = view.record
    now = gw.clock()
    complaint = view.complaint
    case = record.case if record is not None and view.sight is Sight.FULL else None
    base = _admin_view(complaint, case, now, view.sight)
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


def _queue_sight(actor: Actor, case: Case | None) -> Sight:
    if actor.role not in AGENCY_ROLES:
        return Sight.FULL
    # The query returns only cases that are or were with the actor's agency.
    return Sight.FULL if case is not None and case.agency == actor.agency else Sight.MOVED


def _query(gw: Gateway, params: QueueParams, actor: Actor, now: datetime) -> ComplaintQuery:
    def local_midnight(day: date) -> datetime:
        return datetime.combine(day, time(), gw.profile.zone)

    due_soon = None
    if params.due_soon:
        # Due within one working day: by the end of the next working day.
        due_soon = WorkingCalendar.for_profile(gw.profile).add_working_days(now, 1).due_at
    return ComplaintQuery(
        state=params.state.value if params.state else None,
        channel=params.channel,
        category=params.category,
        classification=params.classification,
        agency=params.agency,
        seen_by_agency=actor.agency if actor.role in AGENCY_ROLES else None,
        overdue=params.overdue,
        due_soon_until=due_soon,
        flag=params.flag,
        text=params.q,
        received_from=local_midnight(params.from_) if params.from_ else None,
        received_before=local_midnight(params.to + timedelta(days=1)) if params.to else None,
        sort=params.sort,
        limit=params.limit,
        cursor=params.cursor,
    )


def _admin_view(
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
